import { describe, expect, it, vi } from "vitest";

vi.stubGlobal("window", { location: { pathname: "/" } });
const { match } = await import("./router");

describe("match", () => {
  it("takes parameters from their segments", () => {
    expect(match("/tickets/:number", "/tickets/TKT-100-001")).toEqual({
      params: { number: "TKT-100-001" },
    });
  });
  it("decodes a percent-encoded segment", () => {
    expect(match("/recovery/:reference", "/recovery/RC%2DAB")?.params.reference).toBe("RC-AB");
  });
  it("refuses other lengths and literals", () => {
    expect(match("/tickets/:number", "/tickets")).toBeNull();
    expect(match("/tickets/new", "/tickets/TKT-1")).toBeNull();
    expect(match("/", "/")).toEqual({ params: {} });
  });
});
