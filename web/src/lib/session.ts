import { Store } from "./store";

// The session token lives in sessionStorage: it dies with the tab, is never shared with
// other tabs or written to disk the way localStorage is. Nothing is kept in localStorage.
const KEY = "clientarea.session";

export type Role = "client" | "staff";
export interface Session {
  token: string;
  expires_at: string;
  role: Role;
}

function load(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    const parsed = raw ? (JSON.parse(raw) as Session) : null;
    if (parsed && Date.parse(parsed.expires_at) > Date.now()) return parsed;
  } catch {
    // unreadable storage: no session
  }
  sessionStorage.removeItem(KEY);
  return null;
}

export const session = new Store<Session | null>(load());

export function saveSession(value: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(value));
  session.set(value);
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
  session.set(null);
}
