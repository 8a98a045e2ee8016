import { useState } from "preact/hooks";
import { api } from "../api/client";
import { ApiError, call } from "../api/errors";
import type { components } from "../api/schema";
import { Alert, ErrorAlert, Field, Loading, Page, StatusBadge, Submit, useLoad, useSubmit } from "../components/ui";
import { formatBytes, formatDateTime, locale, t } from "../i18n";
import { saveBlob } from "../lib/download";
import { navigate } from "../lib/router";
import { useStore } from "../lib/store";
import { uploadToS3 } from "../lib/upload";

type ApplicantType = "individual" | "sole_proprietor" | "legal_entity";
type Channel = "e_signature" | "scanned_documents" | "post";
type Rules = components["schemas"]["RecoveryApplicantRules"];
type Upload = components["schemas"]["RecoveryUpload"];
const TYPES: ApplicantType[] = ["individual", "sole_proprietor", "legal_entity"];
const DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

// The access key is shown once by the API. It is kept for this tab only (like the
// session), so that the status page can be reloaded; the person is told to write it down.
const keyName = (reference: string) => `clientarea.recovery.${reference}`;
let justCreated: { reference: string; key: string } | null = null;

async function downloadTemplate(type: ApplicantType, lang: string) {
  const blob = await call(
    api.GET("/recovery/templates/{applicant_type}", {
      params: { path: { applicant_type: type }, query: { locale: lang } },
      headers: { Accept: DOCX },
      parseAs: "blob",
    }),
  );
  saveBlob(blob as unknown as Blob, `recovery-application-${type}-${lang}.docx`);
}

export function Recovery() {
  const lang = useStore(locale);
  const requirements = useLoad(() => call(api.GET("/recovery/requirements")), [lang]);
  const [type, setType] = useState<ApplicantType>("individual");
  const [channel, setChannel] = useState<Channel | null>(null);
  const [downloadError, setDownloadError] = useState<unknown>(null);
  const form = useSubmit(async (values) => {
    const created = await call(
      api.POST("/recovery/requests", {
        body: {
          account_hint: values.account_hint ?? "",
          applicant_type: type,
          full_name: values.full_name ?? "",
          new_email: values.new_email ?? "",
          phone: values.phone ?? "",
          company_name: values.company_name || null,
          company_code: values.company_code || null,
          channel: (values.channel ?? "") as Channel,
        },
      }),
    );
    sessionStorage.setItem(keyName(created.reference), created.access_key);
    justCreated = { reference: created.reference, key: created.access_key };
    navigate(`/recovery/${encodeURIComponent(created.reference)}`);
    return created;
  });
  const rules: Rules | undefined = requirements.data?.applicant_types[type];
  const company = type !== "individual";
  return (
    <Page title={t("recovery.title")} wide>
      <p>{t("recovery.explain")}</p>
      <ErrorAlert error={requirements.error ?? downloadError} />
      {!requirements.data ? (
        <Loading />
      ) : (
        <form onSubmit={form.onSubmit} class="form">
          <fieldset>
            <legend>{t("recovery.who")}</legend>
            {TYPES.map((option) => (
              <label class="choice" key={option}>
                <input
                  type="radio"
                  name="applicant_type"
                  value={option}
                  checked={type === option}
                  onChange={() => {
                    setType(option);
                    setChannel(null);
                  }}
                />{" "}
                {requirements.data?.applicant_types[option].name ?? option}
              </label>
            ))}
          </fieldset>
          {rules && (
            <>
              <h2>{t("recovery.requirements_for", { type: rules.name })}</h2>
              <p>
                <button
                  type="button"
                  class="button secondary"
                  onClick={() => {
                    setDownloadError(null);
                    downloadTemplate(type, lang).catch(setDownloadError);
                  }}
                >
                  {t("recovery.download_template")}
                </button>
              </p>
              <fieldset>
                <legend>{t("recovery.channel")}</legend>
                {rules.channels.map((rule) => (
                  <div class="choice-card" key={rule.channel}>
                    <label class="choice">
                      <input
                        type="radio"
                        name="channel"
                        value={rule.channel}
                        required
                        checked={channel === rule.channel}
                        onChange={() => setChannel(rule.channel as Channel)}
                      />{" "}
                      <strong>{t(`recovery.channel.${rule.channel}`)}</strong>
                    </label>
                    <p class="hint">{rule.description}</p>
                    {rule.documents.length > 0 && (
                      <ul class="documents">
                        {rule.documents.map((doc) => (
                          <li key={doc.document}>
                            {doc.description}
                            {!doc.required && <span class="muted"> ({t("recovery.optional")})</span>}
                          </li>
                        ))}
                      </ul>
                    )}
                  </div>
                ))}
              </fieldset>
              <p class="hint">
                {t("recovery.file_rules", {
                  size: formatBytes(rules.max_upload_bytes),
                  types: rules.accepted_content_types.map(shortType).join(", "),
                })}
              </p>
            </>
          )}
          <fieldset>
            <legend>{t("recovery.applicant")}</legend>
            <Field name="account_hint" label={t("recovery.account_hint")} hint={t("recovery.account_hint_help")} required error={form.error} />
            <Field name="full_name" label={t("recovery.full_name")} autocomplete="name" required error={form.error} />
            {company && <Field name="company_name" label={t("recovery.company_name")} autocomplete="organization" required={type === "legal_entity"} error={form.error} />}
            {company && <Field name="company_code" label={t("recovery.company_code")} required={type === "legal_entity"} error={form.error} />}
            <Field name="new_email" label={t("recovery.new_email")} type="email" autocomplete="email" hint={t("recovery.new_email_help")} required error={form.error} />
            <Field name="phone" label={t("recovery.phone")} type="tel" autocomplete="tel" required error={form.error} />
          </fieldset>
          <ErrorAlert error={form.error} />
          <Submit busy={form.busy}>{t("recovery.submit_application")}</Submit>
        </form>
      )}
    </Page>
  );
}

function shortType(contentType: string): string {
  const known: Record<string, string> = { "application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG" };
  return known[contentType] ?? contentType;
}

export function RecoveryStatus(props: { params: Record<string, string> }) {
  const reference = props.params.reference ?? "";
  const [key, setKey] = useState<string | null>(() => sessionStorage.getItem(keyName(reference)));
  const fresh = justCreated?.reference === reference ? justCreated.key : null;
  if (!key) {
    return <AccessKeyForm reference={reference} onKey={setKey} />;
  }
  return <RecoveryCase reference={reference} accessKey={key} fresh={fresh} forget={() => setKey(null)} />;
}

function AccessKeyForm(props: { reference: string; onKey: (key: string) => void }) {
  const form = useSubmit(async (values) => {
    const key = (values.access_key ?? "").trim();
    await call(
      api.GET("/recovery/requests/{reference}", {
        params: { path: { reference: props.reference }, header: { "x-recovery-key": key } },
      }),
    );
    sessionStorage.setItem(keyName(props.reference), key);
    props.onKey(key);
    return true;
  });
  return (
    <Page title={t("recovery.status_title", { reference: props.reference })}>
      <p>{t("recovery.key_explain")}</p>
      <ErrorAlert error={form.error} />
      <form onSubmit={form.onSubmit} class="form">
        <Field name="access_key" label={t("recovery.access_key")} required autocomplete="off" spellcheck={false} />
        <Submit busy={form.busy}>{t("recovery.open_case")}</Submit>
      </form>
    </Page>
  );
}

function RecoveryCase(props: { reference: string; accessKey: string; fresh: string | null; forget: () => void }) {
  const lang = useStore(locale);
  const params = { params: { path: { reference: props.reference }, header: { "x-recovery-key": props.accessKey } } };
  const recoveryCase = useLoad(() => call(api.GET("/recovery/requests/{reference}", params)), [props.reference]);
  const requirements = useLoad(() => call(api.GET("/recovery/requirements")), [lang]);
  const [error, setError] = useState<unknown>(null);
  const submit = useSubmit(async () => {
    await call(api.POST("/recovery/requests/{reference}/submit", params));
    recoveryCase.reload();
    return true;
  });

  if (recoveryCase.loading && !recoveryCase.data) return <Loading />;
  const data = recoveryCase.data;
  if (!data) {
    const wrongKey = recoveryCase.error instanceof ApiError && recoveryCase.error.status === 404;
    return (
      <Page title={t("recovery.status_title", { reference: props.reference })}>
        <ErrorAlert error={recoveryCase.error} />
        {wrongKey && (
          <button
            type="button"
            class="button secondary"
            onClick={() => {
              sessionStorage.removeItem(keyName(props.reference));
              props.forget();
            }}
          >
            {t("recovery.other_key")}
          </button>
        )}
      </Page>
    );
  }
  const rules = requirements.data?.applicant_types[data.applicant_type as ApplicantType];
  const channelRule = rules?.channels.find((c) => c.channel === data.channel);
  const describeDoc = (name: string) => channelRule?.documents.find((d) => d.document === name)?.description ?? name;
  const uploadsByDoc = new Map(data.uploads.map((u) => [u.document, u]));
  const open = data.status === "awaiting_documents";

  async function downloadApplication() {
    setError(null);
    try {
      const blob = await call(
        api.GET("/recovery/requests/{reference}/application", {
          ...params,
          headers: { Accept: DOCX },
          parseAs: "blob",
        }),
      );
      saveBlob(blob as unknown as Blob, `recovery-application-${props.reference}.docx`);
    } catch (caught) {
      setError(caught);
    }
  }

  return (
    <Page title={t("recovery.status_title", { reference: data.reference })} wide>
      {props.fresh && (
        <Alert kind="info">
          <p>{t("recovery.key_once")}</p>
          <dl class="facts">
            <dt>{t("recovery.reference")}</dt>
            <dd>
              <code>{data.reference}</code>
            </dd>
            <dt>{t("recovery.access_key")}</dt>
            <dd>
              <code class="secret">{props.fresh}</code>
            </dd>
          </dl>
        </Alert>
      )}
      <p class="lead">
        <StatusBadge prefix="recovery.state" status={data.status} /> {t(`recovery.explain.${data.status}`)}
      </p>
      {data.decision_reason && (
        <Alert kind={data.status === "rejected" ? "error" : "info"}>
          {t("recovery.reason")}: {data.decision_reason}
        </Alert>
      )}
      <dl class="facts">
        <dt>{t("recovery.channel")}</dt>
        <dd>{t(`recovery.channel.${data.channel}`)}</dd>
        <dt>{t("recovery.created")}</dt>
        <dd>{formatDateTime(data.created_at)}</dd>
        {data.submitted_at && (
          <>
            <dt>{t("recovery.submitted")}</dt>
            <dd>{formatDateTime(data.submitted_at)}</dd>
          </>
        )}
      </dl>
      <p>
        <button type="button" class="button secondary" onClick={() => void downloadApplication()}>
          {t("recovery.download_filled")}
        </button>
      </p>
      <ErrorAlert error={error} />
      {data.documents.length > 0 && (
        <>
          <h2>{t("recovery.documents")}</h2>
          <ul class="cards">
            {data.documents.map((doc) => (
              <li class="card" key={doc.document}>
                <p class="card-title">
                  {describeDoc(doc.document)}
                  {!doc.required && <span class="muted"> ({t("recovery.optional")})</span>}
                </p>
                {doc.uploaded ? (
                  <p>
                    <span class="badge badge-confirmed">{t("recovery.uploaded")}</span>{" "}
                    {doc.size !== null && formatBytes(doc.size)} · {formatDateTime(doc.uploaded_at)}
                  </p>
                ) : (
                  <p>
                    <span class="badge badge-pending">{t("recovery.not_uploaded")}</span>
                  </p>
                )}
                {open && uploadsByDoc.has(doc.document) && (
                  <DocumentUpload
                    upload={uploadsByDoc.get(doc.document) as Upload}
                    label={describeDoc(doc.document)}
                    replace={doc.uploaded}
                    onDone={() => recoveryCase.reload()}
                  />
                )}
              </li>
            ))}
          </ul>
        </>
      )}
      {open && (
        <>
          <ErrorAlert error={submit.error} />
          <form onSubmit={submit.onSubmit} class="form">
            <p>{t(data.channel === "post" ? "recovery.submit_post" : "recovery.submit_explain")}</p>
            <Submit busy={submit.busy}>{t("recovery.submit")}</Submit>
          </form>
        </>
      )}
    </Page>
  );
}

function DocumentUpload(props: { upload: Upload; label: string; replace: boolean; onDone: () => void }) {
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [fileName, setFileName] = useState<string | null>(null);
  const types = Object.keys(props.upload.fields_by_content_type);
  const inputId = `upload-${props.upload.document}`;

  async function send(file: File) {
    setError(null);
    setFileName(file.name);
    const fields = props.upload.fields_by_content_type[file.type];
    if (!fields) {
      setError(new ApiError(0, "file_type", ""));
      return;
    }
    if (file.size > props.upload.max_bytes || file.size === 0) {
      setError(new ApiError(0, "file_size", ""));
      return;
    }
    setProgress(0);
    try {
      await uploadToS3(props.upload.url, fields, file, setProgress);
      props.onDone();
    } catch (caught) {
      setError(caught);
      setProgress(null);
    }
  }

  return (
    <div class="upload">
      <label for={inputId}>
        {props.replace ? t("recovery.replace_file") : t("recovery.choose_file")}
        <span class="visually-hidden"> ({props.label})</span>
      </label>
      <input
        id={inputId}
        type="file"
        accept={types.join(",")}
        onChange={(event) => {
          const file = (event.currentTarget as HTMLInputElement).files?.[0];
          if (file) void send(file);
        }}
      />
      {progress !== null && (
        <div class="progress">
          <progress max={100} value={Math.round(progress * 100)} aria-label={t("recovery.progress", { file: fileName ?? "" })} />
          <span aria-hidden="true">{Math.round(progress * 100)}%</span>
        </div>
      )}
      {progress === 1 && <p role="status">{t("recovery.upload_done", { file: fileName ?? "" })}</p>}
      <ErrorAlert error={error} />
    </div>
  );
}
