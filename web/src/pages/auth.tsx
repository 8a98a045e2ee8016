import { useEffect, useState } from "preact/hooks";
import { api } from "../api/client";
import { ApiError, call } from "../api/errors";
import { Alert, ErrorAlert, Field, Loading, Page, Submit, fieldError, useSubmit } from "../components/ui";
import { formatDateTime, locale, t } from "../i18n";
import { signIn } from "../lib/auth";
import { consumeSecret } from "../lib/fragment";
import { flash } from "../lib/flash";
import { navigate } from "../lib/router";
import { useStore } from "../lib/store";

/** Where to go after signing in: the page that asked for it (same origin only). */
function nextPath(role: "client" | "staff"): string {
  const next = new URLSearchParams(window.location.search).get("next");
  const home = role === "staff" ? "/staff" : "/";
  if (!next || !next.startsWith("/") || next.startsWith("//")) return home;
  const staffPage = next.startsWith("/staff");
  return staffPage === (role === "staff") ? next : home;
}

export function SignIn() {
  const message = useStore(flash);
  useEffect(() => () => flash.set(null), []);
  const form = useSubmit(async (values) => {
    const role = await signIn(values.login ?? "", values.password ?? "");
    navigate(nextPath(role), true);
  });
  return (
    <Page title={t("signin.title")}>
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      <ErrorAlert error={form.error} />
      <form onSubmit={form.onSubmit} class="form">
        <Field name="login" label={t("signin.login")} autocomplete="username" required autoFocus={false} />
        <Field name="password" label={t("signin.password")} type="password" autocomplete="current-password" required />
        <p class="below-field">
          <a href="/forgot-password">{t("signin.forgot")}</a>
        </p>
        <Submit busy={form.busy}>{t("signin.submit")}</Submit>
      </form>
      <ul class="links">
        <li>
          <a href="/register">{t("signin.register")}</a>
        </li>
        <li>
          <a href="/support/access-request">{t("signin.cant_log_in")}</a>
        </li>
        <li>
          <a href="/recovery">{t("signin.recovery")}</a>
        </li>
        <li>
          <a href="/support/sales">{t("signin.sales")}</a>
        </li>
      </ul>
    </Page>
  );
}

export function PasswordRules() {
  return (
    <ul class="rules">
      <li>{t("password.rule.length")}</li>
      <li>{t("password.rule.free")}</li>
      <li>{t("password.rule.common")}</li>
      <li>{t("password.rule.personal")}</li>
    </ul>
  );
}

export function Register() {
  const current = useStore(locale);
  const form = useSubmit(async (values) => {
    await call(
      api.POST("/auth/register", {
        body: {
          email: values.email ?? "",
          password: values.password ?? "",
          full_name: values.full_name ?? "",
          login: values.login || null,
          locale: current,
        },
      }),
    );
    return values.email ?? "";
  });
  if (form.result) {
    return (
      <Page title={t("register.sent_title")}>
        <Alert kind="success">{t("register.sent", { email: form.result })}</Alert>
        <p>{t("register.sent_hint")}</p>
      </Page>
    );
  }
  return (
    <Page title={t("register.title")}>
      <ErrorAlert error={form.error} />
      <form onSubmit={form.onSubmit} class="form">
        <Field name="full_name" label={t("register.full_name")} autocomplete="name" required error={form.error} />
        <Field name="email" label={t("register.email")} type="email" autocomplete="email" required error={form.error} />
        <Field
          name="login"
          label={t("register.login")}
          autocomplete="username"
          hint={t("register.login_hint")}
          error={form.error}
        />
        <Field
          name="password"
          label={t("register.password")}
          type="password"
          autocomplete="new-password"
          required
          minLength={15}
          maxLength={128}
          hint={<PasswordRules />}
          error={form.error}
        />
        <Submit busy={form.busy}>{t("register.submit")}</Submit>
      </form>
      <p>
        <a href="/login">{t("register.have_account")}</a>
      </p>
    </Page>
  );
}

/** A landing page for a mailed link: the secret is taken from the fragment once. */
function useLinkSecret(): string | null {
  const [token] = useState(consumeSecret);
  return token;
}

export function VerifyEmail() {
  const token = useLinkSecret();
  const form = useSubmit(async () => {
    if (!token) throw new ApiError(410, "token_invalid", "");
    return call(api.POST("/auth/verify-email", { body: { token } }));
  });
  if (form.result) {
    return (
      <Page title={t("verify.done_title")}>
        <Alert kind="success">{t("verify.done", { login: form.result.login })}</Alert>
        <dl class="facts">
          <dt>{t("account.client_number")}</dt>
          <dd>{form.result.client_number}</dd>
          <dt>{t("account.login")}</dt>
          <dd>{form.result.login}</dd>
        </dl>
        <p>
          <a class="button primary" href="/login">
            {t("signin.title")}
          </a>
        </p>
      </Page>
    );
  }
  return (
    <Page title={t("verify.title")}>
      <LinkMissing token={token} again="/register" againLabel={t("verify.again")} />
      <ErrorAlert error={form.error} />
      {token && (
        <form onSubmit={form.onSubmit} class="form">
          <p>{t("verify.explain")}</p>
          <Submit busy={form.busy}>{t("verify.submit")}</Submit>
        </form>
      )}
    </Page>
  );
}

/** Said when a landing page is opened without its secret (reloaded, or typed in). */
export function LinkMissing(props: { token: string | null; again: string; againLabel: string }) {
  if (props.token) return null;
  return (
    <Alert kind="info">
      {t("link.missing")} <a href={props.again}>{props.againLabel}</a>
    </Alert>
  );
}

export function ForgotPassword() {
  const form = useSubmit(async (values) => {
    await call(api.POST("/password/forgot", { body: { login: values.login ?? "" } }));
    return true;
  });
  if (form.result) {
    return (
      <Page title={t("forgot.sent_title")}>
        <Alert kind="success">{t("forgot.sent")}</Alert>
        <p>{t("forgot.sent_hint")}</p>
        <p>
          <a href="/support/access-request">{t("signin.cant_log_in")}</a>
        </p>
      </Page>
    );
  }
  return (
    <Page title={t("forgot.title")}>
      <p>{t("forgot.explain")}</p>
      <ErrorAlert error={form.error} />
      <form onSubmit={form.onSubmit} class="form">
        <Field name="login" label={t("forgot.login")} autocomplete="username" required />
        <Submit busy={form.busy}>{t("forgot.submit")}</Submit>
      </form>
      <p>
        <a href="/login">{t("common.back_to_signin")}</a>
      </p>
    </Page>
  );
}

export function ResetPassword() {
  const token = useLinkSecret();
  const [expiry, setExpiry] = useState<string | null>(null);
  const [checkError, setCheckError] = useState<unknown>(null);
  const [mismatch, setMismatch] = useState(false);
  useEffect(() => {
    if (!token) return;
    call(api.POST("/password/reset/verify", { body: { token } }))
      .then((answer) => setExpiry(answer.expires_at))
      .catch(setCheckError);
  }, [token]);
  const form = useSubmit(async (values) => {
    if (values.new_password !== values.confirm_password) {
      setMismatch(true);
      return false;
    }
    setMismatch(false);
    await call(api.POST("/password/reset", { body: { token: token ?? "", new_password: values.new_password ?? "" } }));
    return true;
  });
  if (form.result) {
    return (
      <Page title={t("reset.done_title")}>
        <Alert kind="success">{t("reset.done")}</Alert>
        <p>
          <a class="button primary" href="/login">
            {t("signin.title")}
          </a>
        </p>
      </Page>
    );
  }
  const gone = checkError instanceof ApiError && checkError.code === "token_invalid";
  const formGone = form.error instanceof ApiError && form.error.code === "token_invalid";
  return (
    <Page title={t("reset.title")}>
      <LinkMissing token={token} again="/forgot-password" againLabel={t("reset.again")} />
      {token && !expiry && !checkError && <Loading />}
      {(gone || formGone) && (
        <Alert kind="error">
          {t("reset.link_invalid")} <a href="/forgot-password">{t("reset.again")}</a>
        </Alert>
      )}
      {checkError && !gone && <ErrorAlert error={checkError} />}
      {expiry && !formGone && (
        <>
          <p class="validity">
            {t("reset.valid_until", { time: formatDateTime(expiry) })}{" "}
            {t("reset.minutes_left", { count: Math.max(0, Math.floor((Date.parse(expiry) - Date.now()) / 60000)) })}
          </p>
          {form.error && <ErrorAlert error={form.error} />}
          <form onSubmit={form.onSubmit} class="form">
            <Field
              name="new_password"
              label={t("reset.new_password")}
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
              label={t("reset.confirm_password")}
              type="password"
              autocomplete="new-password"
              required
              error={mismatch ? fieldError("confirm_password", "password_mismatch") : undefined}
            />
            <Submit busy={form.busy}>{t("reset.submit")}</Submit>
          </form>
        </>
      )}
    </Page>
  );
}
