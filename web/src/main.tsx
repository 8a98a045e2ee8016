import { render } from "preact";
import { App } from "./app";
import { configureApi } from "./api/client";
import { initialLocale, setLocale, t } from "./i18n";
import { forget, loadIdentity } from "./lib/auth";
import { flash } from "./lib/flash";
import { takeFragmentSecret } from "./lib/fragment";
import { navigate, startRouter } from "./lib/router";
import { session } from "./lib/session";
import "./styles.css";

// First of all: a mailed link's secret leaves the address bar and the history entry.
takeFragmentSecret();

async function boot(): Promise<void> {
  // Where the API is: /config.json beside index.html, so that one build serves any
  // deployment (make dev's static server writes it; a deployment uploads its own).
  const config = (await fetch("/config.json", { cache: "no-store" }).then((r) => r.json())) as {
    api_url: string;
  };
  configureApi(config.api_url, () => {
    forget();
    flash.set({ kind: "info", text: t("session.ended") });
    const here = window.location.pathname + window.location.search;
    navigate(`/login?next=${encodeURIComponent(here)}`, true);
  });
  await setLocale(initialLocale(), false);
  startRouter(() => takeFragmentSecret());
  if (session.get()) {
    try {
      await loadIdentity();
    } catch {
      forget();
    }
  }
  const root = document.getElementById("app");
  if (root) render(<App />, root);
}

void boot();
