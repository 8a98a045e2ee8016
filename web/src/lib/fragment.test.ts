import { describe, expect, it } from "vitest";
import { consumeSecret, takeFragmentSecret } from "./fragment";

function fakeLocation(hash: string) {
  const calls: string[] = [];
  const location = { hash, pathname: "/reset-password", search: "" };
  const history = {
    state: null,
    replaceState: (_s: unknown, _t: string, url?: string | URL | null) => {
      calls.push(String(url));
    },
  };
  return { location, history, calls };
}

describe("takeFragmentSecret", () => {
  it("removes the fragment from the history entry and hands the token out once", () => {
    const { location, history, calls } = fakeLocation("#token=abc.def");
    takeFragmentSecret(location, history);
    expect(calls).toEqual(["/reset-password"]);
    expect(consumeSecret()).toBe("abc.def");
    expect(consumeSecret()).toBeNull();
  });

  it("leaves a URL without a fragment alone", () => {
    const { location, history, calls } = fakeLocation("");
    takeFragmentSecret(location, history);
    expect(calls).toEqual([]);
    expect(consumeSecret()).toBeNull();
  });

  it("removes a fragment without a token too", () => {
    const { location, history, calls } = fakeLocation("#something");
    takeFragmentSecret(location, history);
    expect(calls).toEqual(["/reset-password"]);
    expect(consumeSecret()).toBeNull();
  });
});
