// A mailed link carries its one-time secret in the fragment (`/reset-password#token=…`):
// browsers never send a fragment to a server, and this module takes it out of the
// address bar and the history entry before anything else runs, so it is neither shown,
// bookmarked, synced nor found again with the back button. The page reads it once.

let pending: string | null = null;

/** Read `#token=…` once and remove the fragment from the URL and the current history
 *  entry (replaceState: the entry is rewritten, not added). Call first thing at boot.
 *  True when a secret was taken. */
export function takeFragmentSecret(
  location: Pick<Location, "hash" | "pathname" | "search"> = window.location,
  history: Pick<History, "replaceState" | "state"> = window.history,
): boolean {
  if (!location.hash || location.hash === "#") return false;
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  history.replaceState(history.state, "", location.pathname + location.search);
  if (token) pending = token;
  return token !== null;
}

/** The secret the page was opened with, handed out once (null afterwards). */
export function consumeSecret(): string | null {
  const token = pending;
  pending = null;
  return token;
}
