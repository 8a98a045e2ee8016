import { Store } from "./store";

// History-API routing: one path per page, so that every mailed link (`/tickets/TKT-…`,
// `/orders/…`, `/reset-password`) opens its page directly. The static server (and
// CloudFront) answer index.html for any path that is not a file.

export const path = new Store<string>(window.location.pathname);
/** Counts visits: a page opened again (even at the same path) starts afresh. */
export const visit = new Store<number>(0);

function arrive(): void {
  visit.set(visit.get() + 1);
  path.set(window.location.pathname);
}

export function navigate(to: string, replace = false): void {
  if (to === window.location.pathname + window.location.search) return;
  if (replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  arrive();
}

export function startRouter(onFragment: () => boolean): void {
  window.addEventListener("popstate", () => arrive());
  // A mailed link pasted into a tab already showing its page only changes the
  // fragment: take the secret and open the page afresh, as a new tab would.
  window.addEventListener("hashchange", () => {
    if (onFragment()) arrive();
  });
  // Same-origin links are handled here rather than by a reload; modified clicks
  // (new tab, download) and other origins are left to the browser.
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = (event.target as Element | null)?.closest?.("a");
    if (!anchor || anchor.target || anchor.hasAttribute("download")) return;
    const url = new URL(anchor.href, window.location.href);
    if (url.origin !== window.location.origin) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
}

export interface Match {
  params: Record<string, string>;
}

/** `/tickets/:number` against `/tickets/TKT-100-001` → {number: "TKT-100-001"}. */
export function match(pattern: string, pathname: string): Match | null {
  const want = pattern.split("/").filter(Boolean);
  const have = pathname.split("/").filter(Boolean);
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i += 1) {
    const segment = want[i] as string;
    const actual = have[i] as string;
    if (segment.startsWith(":")) {
      try {
        params[segment.slice(1)] = decodeURIComponent(actual);
      } catch {
        return null;
      }
    } else if (segment !== actual) {
      return null;
    }
  }
  return { params };
}
