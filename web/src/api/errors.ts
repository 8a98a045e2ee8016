import { has, t } from "../i18n";

export interface FieldError {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** An API refusal in the contract's shape `{code, message, errors?, reason?}`, plus the
 *  status and Retry-After; `network` when no answer came at all. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter: number | null = null,
    readonly errors: FieldError[] = [],
    readonly reason: string | null = null,
  ) {
    super(message);
  }

  /** The validation errors of one body field, by its name. */
  field(name: string): FieldError | undefined {
    return this.errors.find((e) => e.loc[e.loc.length - 1] === name);
  }
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** Await an openapi-fetch call: its data, or an ApiError. */
export async function call<T>(request: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await request;
  } catch {
    throw new ApiError(0, "network", "");
  }
  const { data, error, response } = answer;
  if (response.ok) return data as T;
  const body = (error ?? {}) as Partial<{
    code: string;
    message: string;
    errors: FieldError[];
    reason: string;
  }>;
  const retry = Number(response.headers.get("Retry-After"));
  throw new ApiError(
    response.status,
    body.code ?? `http_${response.status}`,
    body.message ?? "",
    Number.isFinite(retry) && retry > 0 ? retry : null,
    Array.isArray(body.errors) ? body.errors : [],
    body.reason ?? null,
  );
}

/** Whole minutes to wait, at least 1 ("try again in N minutes"). */
export function retryMinutes(seconds: number): number {
  return Math.max(1, Math.ceil(seconds / 60));
}

/** What a person reads for an error: our own catalog's words for the code (in the
 *  page's language), the reason of a weak password, the wait of a throttled request. */
export function describe(error: unknown): string {
  if (!(error instanceof ApiError)) return t("error.unexpected");
  if (error.code === "rate_limited" || error.code === "service_unavailable") {
    const base = t(`error.${error.code}`);
    return error.retryAfter
      ? `${base} ${t("error.retry_in", { count: retryMinutes(error.retryAfter) })}`
      : `${base} ${t("error.retry_later")}`;
  }
  if (error.code === "weak_password" && error.reason && has(`password.weak.${error.reason}`)) {
    return t(`password.weak.${error.reason}`);
  }
  if (has(`error.${error.code}`)) return t(`error.${error.code}`);
  return error.message || t("error.unexpected");
}

/** The message for one field's validation error, in the page's language. */
export function describeField(error: FieldError | undefined): string | undefined {
  if (!error) return undefined;
  return has(`field.${error.type}`) ? t(`field.${error.type}`) : t("field.invalid");
}
