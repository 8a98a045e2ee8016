import type { ComponentChildren, InputHTMLAttributes, SelectHTMLAttributes, TextareaHTMLAttributes } from "preact";
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { ApiError, describe, describeField } from "../api/errors";
import { t } from "../i18n";

let firstPage = true;

/** A page: its <h1>, the document title, and focus moved to the heading when the page
 *  was reached by navigation (screen readers announce it; Tab goes on into the page). */
export function Page(props: { title: string; children?: ComponentChildren; wide?: boolean }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${props.title} · ${t("app.name")}`;
  }, [props.title]);
  useEffect(() => {
    if (firstPage) firstPage = false;
    else heading.current?.focus();
  }, []);
  return (
    <section class={props.wide ? "page wide" : "page"}>
      <h1 tabIndex={-1} ref={heading}>
        {props.title}
      </h1>
      {props.children}
    </section>
  );
}

export function Alert(props: { kind: "error" | "success" | "info"; children: ComponentChildren }) {
  return (
    <div class={`alert alert-${props.kind}`} role={props.kind === "error" ? "alert" : "status"}>
      {props.children}
    </div>
  );
}

export function ErrorAlert(props: { error: unknown }) {
  if (!props.error) return null;
  return <Alert kind="error">{describe(props.error)}</Alert>;
}

type InputProps = Omit<InputHTMLAttributes<HTMLInputElement>, "label" | "name" | "value"> & {
  name: string;
  label: string;
  hint?: ComponentChildren;
  error?: unknown;
  value?: string;
};

/** A labelled input with its hint and the server's error for this field beside it. */
export function Field({ name, label, hint, error, ...input }: InputProps) {
  const id = useId();
  const message =
    error instanceof ApiError ? (describeField(error.field(name)) ?? fieldCode(error, name)) : undefined;
  const described = [hint ? `${id}-hint` : "", message ? `${id}-error` : ""].filter(Boolean).join(" ");
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        name={name}
        aria-invalid={message ? "true" : undefined}
        aria-describedby={described || undefined}
        {...input}
      />
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {message && (
        <p class="field-error" id={`${id}-error`}>
          {message}
        </p>
      )}
    </div>
  );
}

// Errors that belong to one field although they are not validation errors.
const FIELD_CODES: Record<string, string[]> = {
  weak_password: ["password", "new_password"],
  invalid_email: ["email", "new_email"],
  invalid_login: ["login"],
  email_unchanged: ["new_email"],
  email_taken: ["email", "new_email"],
  already_authorised: ["email"],
  recipient_mismatch: ["recipient_login", "recipient_client_number"],
};

function fieldCode(error: ApiError, name: string): string | undefined {
  return FIELD_CODES[error.code]?.includes(name) ? describe(error) : undefined;
}

type SelectProps = Omit<SelectHTMLAttributes<HTMLSelectElement>, "label" | "name" | "value"> & {
  name: string;
  label: string;
  options: [string, string][];
  hint?: ComponentChildren;
  value?: string;
};

export function Select({ name, label, options, hint, ...rest }: SelectProps) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} name={name} aria-describedby={hint ? `${id}-hint` : undefined} {...rest}>
        {options.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}

type AreaProps = Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, "label" | "name"> & {
  name: string;
  label: string;
  error?: unknown;
};

export function TextArea({ name, label, error, ...rest }: AreaProps) {
  const id = useId();
  const message = error instanceof ApiError ? describeField(error.field(name)) : undefined;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <textarea
        id={id}
        name={name}
        rows={6}
        aria-invalid={message ? "true" : undefined}
        aria-describedby={message ? `${id}-error` : undefined}
        {...rest}
      />
      {message && (
        <p class="field-error" id={`${id}-error`}>
          {message}
        </p>
      )}
    </div>
  );
}

/** A form's submit: busy while the request runs, its error kept for the fields and the
 *  alert. `run` gets the form's values as strings. */
export function useSubmit<T>(action: (values: Record<string, string>, form: HTMLFormElement) => Promise<T>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<T | undefined>(undefined);
  async function onSubmit(event: Event) {
    event.preventDefault();
    if (busy) return;
    const form = event.currentTarget as HTMLFormElement;
    const values: Record<string, string> = {};
    new FormData(form, (event as SubmitEvent).submitter).forEach((value, key) => {
      if (typeof value === "string") values[key] = value;
    });
    setBusy(true);
    setError(null);
    try {
      setResult(await action(values, form));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, result, onSubmit, setError, setResult };
}

/** Data for a page: loaded on mount and when `deps` change; `reload` after an action. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load()
      .then((value) => {
        if (live) {
          setData(value);
          setError(null);
        }
      })
      .catch((caught: unknown) => live && setError(caught))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { data, error, loading, reload: () => setTick((n) => n + 1), setData };
}

export function Loading() {
  return (
    <p class="loading" role="status">
      {t("common.loading")}
    </p>
  );
}

export function Submit(props: { busy: boolean; children: ComponentChildren; kind?: "primary" | "secondary" | "danger" }) {
  return (
    <button type="submit" class={`button ${props.kind ?? "primary"}`} disabled={props.busy} aria-busy={props.busy}>
      {props.children}
    </button>
  );
}

export function StatusBadge(props: { status: string; prefix: string }) {
  return <span class={`badge badge-${props.status}`}>{t(`${props.prefix}.${props.status}`)}</span>;
}

/** An error shown beside one field (a local check, or a code that names that field). */
export function fieldError(field: string, type: string): ApiError {
  return new ApiError(422, type, "", null, [{ loc: [field], msg: "", type }]);
}
