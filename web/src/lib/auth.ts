import { api } from "../api/client";
import { call } from "../api/errors";
import type { components } from "../api/schema";
import { isLocale, setLocale } from "../i18n";
import { clearSession, saveSession, session, type Role } from "./session";
import { Store } from "./store";

export type Account = components["schemas"]["Account"];
export type StaffMember = components["schemas"]["StaffMember"];

export const account = new Store<Account | null>(null);
export const staff = new Store<StaffMember | null>(null);

/** Sign in, then learn who signed in; the session is kept (and the navigation shown)
 *  only once that is known, so no page of the wrong kind can be opened in between. */
export async function signIn(login: string, password: string): Promise<Role> {
  const created = await call(api.POST("/auth/login", { body: { login, password } }));
  const role = await identify(`Bearer ${created.session_token}`);
  saveSession({ token: created.session_token, expires_at: created.expires_at, role });
  return role;
}

/** Who the saved session belongs to (at start-up, after a reload). */
export async function loadIdentity(): Promise<Role> {
  const current = session.get();
  if (!current) throw new Error("no session");
  const role = await identify(`Bearer ${current.token}`);
  if (role !== current.role) saveSession({ ...current, role });
  return role;
}

/** A client's session reads /account; a staff session is refused there (403) and reads
 *  /staff/me instead. */
async function identify(authorization: string): Promise<Role> {
  const headers = { Authorization: authorization };
  const mine = await api.GET("/account", { headers });
  if (mine.response.ok && mine.data) {
    account.set(mine.data);
    staff.set(null);
    if (isLocale(mine.data.locale)) await setLocale(mine.data.locale, false);
    return "client";
  }
  if (mine.response.status === 403) {
    staff.set(await call(api.GET("/staff/me", { headers })));
    account.set(null);
    return "staff";
  }
  await call(Promise.resolve(mine));
  throw new Error("unreachable");
}

export async function signOut(): Promise<void> {
  try {
    await api.POST("/auth/logout");
  } finally {
    forget();
  }
}

export function forget(): void {
  clearSession();
  account.set(null);
  staff.set(null);
}
