import { describe, expect, it } from "vitest";
import { t } from "./index";

describe("t", () => {
  it("fills placeholders", () => {
    expect(t("home.welcome", { name: "Olena" })).toBe("Welcome, Olena.");
  });
  it("chooses the plural form for the count", () => {
    expect(t("error.retry_in", { count: 1 })).toBe("Try again in 1 minute.");
    expect(t("error.retry_in", { count: 15 })).toBe("Try again in 15 minutes.");
  });
  it("answers an unknown key with the key itself", () => {
    expect(t("no.such.key")).toBe("no.such.key");
  });
});
