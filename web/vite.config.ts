/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// Preact's JSX through Vite's own transform (no Babel preset needed). The build keeps
// everything the strict CSP allows: one module script and one stylesheet from 'self',
// no inline script, no data: URLs (assetsInlineLimit 0), no modulepreload polyfill.
export default defineConfig({
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    target: "es2022",
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: { host: "127.0.0.1", port: 5173, strictPort: true },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
