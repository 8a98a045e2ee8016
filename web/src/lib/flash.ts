import { Store } from "./store";

/** A message for the next page ("You have signed out", "Your session has ended"). */
export const flash = new Store<{ kind: "success" | "info" | "error"; text: string } | null>(null);
