import { useState } from "preact/hooks";
import { api } from "../api/client";
import { ApiError, call } from "../api/errors";
import type { components } from "../api/schema";
import { Alert, ErrorAlert, Field, Loading, Page, Select, Submit, fieldError, useLoad, useSubmit } from "../components/ui";
import { LOCALE_NAMES, LOCALES, formatDateTime, isLocale, setLocale, t } from "../i18n";
import { account } from "../lib/auth";
import { consumeSecret } from "../lib/fragment";
import { path } from "../lib/router";
import { useStore } from "../lib/store";
import { LinkMissing, PasswordRules } from "./auth";

type SessionInfo = components["schemas"]["Session"];

const SECTIONS: [string, string][] = [
  ["/account", "account.tab.details"],
  ["/account/password", "account.tab.password"],
  ["/account/email", "account.tab.email"],
  ["/account/authorised-emails", "account.tab.senders"],
  ["/account/sessions", "account.tab.sessions"],
];

/** My details and its sections, one page each, reachable from this sub-navigation. */
function AccountNav() {
  const here = useStore(path);
  return (
    <nav aria-label={t("account.nav")} class="subnav">
      <ul>
        {SECTIONS.map(([href, key]) => (
          <li key={href}>
            <a href={href} aria-current={here === href ? "page" : undefined}>
              {t(key)}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export function MyDetails() {
  const fresh = useLoad(async () => {
    const mine = await call(api.GET("/account"));
    account.set(mine);
    return mine;
  });
  const me = fresh.data;
  const form = useSubmit(async (values) => {
    const updated = await call(
      api.PATCH("/account", {
        body: {
          full_name: values.full_name ?? null,
          phone: values.phone || null,
          address: values.address || null,
          locale: values.locale ?? null,
        },
      }),
    );
    account.set(updated);
    if (isLocale(updated.locale)) await setLocale(updated.locale);
    return true;
  });
  if (!me) {
    return fresh.error ? (
      <Page title={t("account.title")}>
        <ErrorAlert error={fresh.error} />
      </Page>
    ) : (
      <Loading />
    );
  }
  return (
    <Page title={t("account.title")}>
      <AccountNav />
      <dl class="facts">
        <dt>{t("account.client_number")}</dt>
        <dd>{me.client_number}</dd>
        <dt>{t("account.login")}</dt>
        <dd>{me.login}</dd>
        <dt>{t("account.email")}</dt>
        <dd>{me.email}</dd>
      </dl>
      {form.result && !form.busy && <Alert kind="success">{t("account.saved")}</Alert>}
      <ErrorAlert error={form.error} />
      <form onSubmit={form.onSubmit} class="form">
        <Field name="full_name" label={t("account.full_name")} defaultValue={me.full_name} autocomplete="name" required error={form.error} />
        <Field name="phone" label={t("account.phone")} defaultValue={me.phone ?? ""} type="tel" autocomplete="tel" error={form.error} />
        <Field name="address" label={t("account.address")} defaultValue={me.address ?? ""} autocomplete="street-address" error={form.error} />
        <Select
          name="locale"
          label={t("account.language")}
          hint={t("account.language_hint")}
          defaultValue={me.locale}
          options={LOCALES.map((code) => [code, LOCALE_NAMES[code]])}
        />
        <Submit busy={form.busy}>{t("common.save")}</Submit>
      </form>
    </Page>
  );
}

export function ChangePassword() {
  const [mismatch, setMismatch] = useState(false);
  const form = useSubmit(async (values, element) => {
    if (values.new_password !== values.confirm_password) {
      setMismatch(true);
      return false;
    }
    setMismatch(false);
    await call(
      api.PUT("/account/password", {
        body: { current_password: values.current_password ?? "", new_password: values.new_password ?? "" },
      }),
    );
    element.reset();
    return true;
  });
  const wrongCurrent = form.error instanceof ApiError && form.error.code === "invalid_credentials";
  return (
    <Page title={t("password.title")}>
      <AccountNav />
      <p>{t("password.explain")}</p>
      {form.result && <Alert kind="success">{t("password.changed")}</Alert>}
      <ErrorAlert error={form.error} />
      <form onSubmit={form.onSubmit} class="form">
        <Field
          name="current_password"
          label={t("password.current")}
          type="password"
          autocomplete="current-password"
          required
          error={wrongCurrent ? fieldError("current_password", "invalid_credentials") : undefined}
        />
        <Field
          name="new_password"
          label={t("password.new")}
          type="password"
          autocomplete="new-password"
          required
          minLength={15}
          maxLength={128}
          hint={<PasswordRules />}
          error={form.error}
        />
        <Field
          name="confirm_password"
          label={t("password.confirm")}
          type="password"
          autocomplete="new-password"
          required
          error={mismatch ? fieldError("confirm_password", "password_mismatch") : undefined}
        />
        <Submit busy={form.busy}>{t("password.submit")}</Submit>
      </form>
    </Page>
  );
}

export function ContactEmail() {
  const me = useStore(account);
  const form = useSubmit(async (values, element) => {
    await call(
      api.POST("/account/email-change", {
        body: { new_email: values.new_email ?? "", current_password: values.current_password ?? "" },
      }),
    );
    element.reset();
    return values.new_email ?? "";
  });
  const wrongPassword = form.error instanceof ApiError && form.error.code === "invalid_credentials";
  return (
    <Page title={t("email.title")}>
      <AccountNav />
      <dl class="facts">
        <dt>{t("email.current")}</dt>
        <dd>{me?.email}</dd>
      </dl>
      <p>{t("email.explain")}</p>
      {form.result && <Alert kind="success">{t("email.sent", { email: form.result })}</Alert>}
      <ErrorAlert error={form.error} />
      <form onSubmit={form.onSubmit} class="form">
        <Field name="new_email" label={t("email.new")} type="email" autocomplete="email" required error={form.error} />
        <Field
          name="current_password"
          label={t("password.current")}
          type="password"
          autocomplete="current-password"
          required
          error={wrongPassword ? fieldError("current_password", "invalid_credentials") : undefined}
        />
        <Submit busy={form.busy}>{t("email.submit")}</Submit>
      </form>
    </Page>
  );
}

export function EmailChangeConfirm() {
  const [token] = useState(consumeSecret);
  const form = useSubmit(async () => {
    const updated = await call(api.POST("/account/email-change/confirm", { body: { token: token ?? "" } }));
    if (account.get()) account.set(updated);
    return updated;
  });
  return (
    <Page title={t("email.confirm_title")}>
      {form.result ? (
        <>
          <Alert kind="success">{t("email.confirmed", { email: form.result.email })}</Alert>
          <p>
            <a href="/account">{t("nav.account")}</a>
          </p>
        </>
      ) : (
        <>
          <LinkMissing token={token} again="/account/email" againLabel={t("email.again")} />
          <ErrorAlert error={form.error} />
          {token && (
            <form onSubmit={form.onSubmit} class="form">
              <p>{t("email.confirm_explain")}</p>
              <Submit busy={form.busy}>{t("email.confirm_submit")}</Submit>
            </form>
          )}
        </>
      )}
    </Page>
  );
}

export function AuthorisedSenders() {
  const list = useLoad(() => call(api.GET("/account/authorised-emails")));
  const [removeError, setRemoveError] = useState<unknown>(null);
  const me = useStore(account);
  const form = useSubmit(async (values, element) => {
    await call(api.POST("/account/authorised-emails", { body: { email: values.email ?? "" } }));
    element.reset();
    list.reload();
    return values.email ?? "";
  });
  async function remove(email: string) {
    setRemoveError(null);
    try {
      await call(api.DELETE("/account/authorised-emails/{email}", { params: { path: { email } } }));
      list.reload();
    } catch (caught) {
      setRemoveError(caught);
    }
  }
  return (
    <Page title={t("senders.title")}>
      <AccountNav />
      <p>{t("senders.explain", { email: me?.email ?? "" })}</p>
      <ErrorAlert error={list.error ?? removeError} />
      {list.loading && !list.data ? (
        <Loading />
      ) : list.data && list.data.length > 0 ? (
        <table class="table">
          <caption class="visually-hidden">{t("senders.title")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("senders.email")}</th>
              <th scope="col">{t("senders.status")}</th>
              <th scope="col">{t("senders.added")}</th>
              <th scope="col">
                <span class="visually-hidden">{t("common.actions")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((entry) => {
              const status = entry.status;
              return (
                <tr key={entry.email}>
                  <td>{entry.email}</td>
                  <td>
                    <span class={`badge badge-${status}`}>{t(`senders.status.${status}`)}</span>
                  </td>
                  <td>{formatDateTime(entry.added_at)}</td>
                  <td>
                    <button
                      type="button"
                      class="button secondary small"
                      aria-label={t("senders.remove_label", { email: entry.email })}
                      onClick={() => void remove(entry.email)}
                    >
                      {t("senders.remove")}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <p class="empty">{t("senders.none")}</p>
      )}
      <h2>{t("senders.add_title")}</h2>
      {form.result && <Alert kind="success">{t("senders.sent", { email: form.result })}</Alert>}
      <ErrorAlert error={form.error} />
      <form onSubmit={form.onSubmit} class="form">
        <Field name="email" label={t("senders.email")} type="email" required error={form.error} />
        <Submit busy={form.busy}>{t("senders.add")}</Submit>
      </form>
    </Page>
  );
}

export function AuthorisedConfirm() {
  const [token] = useState(consumeSecret);
  const form = useSubmit(async () =>
    call(api.POST("/account/authorised-emails/confirm", { body: { token: token ?? "" } })),
  );
  return (
    <Page title={t("senders.confirm_title")}>
      {form.result ? (
        <Alert kind="success">{t("senders.confirmed", { email: form.result.email })}</Alert>
      ) : (
        <>
          <LinkMissing token={token} again="/account/authorised-emails" againLabel={t("senders.again")} />
          <ErrorAlert error={form.error} />
          {token && (
            <form onSubmit={form.onSubmit} class="form">
              <p>{t("senders.confirm_explain")}</p>
              <Submit busy={form.busy}>{t("senders.confirm_submit")}</Submit>
            </form>
          )}
        </>
      )}
    </Page>
  );
}

export function Sessions() {
  const list = useLoad(() => call(api.GET("/account/sessions")));
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  async function act(action: () => Promise<unknown>, message: string) {
    setError(null);
    setDone(null);
    try {
      await action();
      setDone(message);
      list.reload();
    } catch (caught) {
      setError(caught);
    }
  }
  const others = (list.data ?? []).filter((s: SessionInfo) => !s.current);
  return (
    <Page title={t("sessions.title")}>
      <AccountNav />
      <p>{t("sessions.explain")}</p>
      {done && <Alert kind="success">{done}</Alert>}
      <ErrorAlert error={error ?? list.error} />
      {list.loading && !list.data ? (
        <Loading />
      ) : (
        <ul class="cards">
          {(list.data ?? []).map((item: SessionInfo) => (
            <li key={item.session_id} class="card">
              <p class="card-title">
                {item.user_agent || t("sessions.unknown_device")}
                {item.current && <span class="badge badge-current">{t("sessions.this_device")}</span>}
              </p>
              <dl class="facts compact">
                <dt>{t("sessions.ip")}</dt>
                <dd>{item.ip ?? "—"}</dd>
                <dt>{t("sessions.started")}</dt>
                <dd>{formatDateTime(item.created_at)}</dd>
                <dt>{t("sessions.last_seen")}</dt>
                <dd>{formatDateTime(item.last_seen_at)}</dd>
              </dl>
              {!item.current && (
                <button
                  type="button"
                  class="button secondary small"
                  onClick={() =>
                    void act(
                      () =>
                        call(
                          api.DELETE("/account/sessions/{session_id}", {
                            params: { path: { session_id: item.session_id } },
                          }),
                        ),
                      t("sessions.ended_one"),
                    )
                  }
                >
                  {t("sessions.end")}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {others.length > 0 && (
        <button
          type="button"
          class="button danger"
          onClick={() => void act(() => call(api.POST("/account/sessions/revoke-others")), t("sessions.ended_others"))}
        >
          {t("sessions.end_others")}
        </button>
      )}
    </Page>
  );
}
