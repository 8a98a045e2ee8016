import { describe as suite, expect, it } from "vitest";
import { retryMinutes } from "./errors";

suite("retryMinutes", () => {
  it("rounds a Retry-After in seconds up to whole minutes, at least one", () => {
    expect(retryMinutes(1)).toBe(1);
    expect(retryMinutes(60)).toBe(1);
    expect(retryMinutes(61)).toBe(2);
    expect(retryMinutes(900)).toBe(15);
  });
});
