import { Fragment } from "preact";
import { useState } from "preact/hooks";
import { api } from "../api/client";
import { call } from "../api/errors";
import { Alert, ErrorAlert, Field, Loading, Page, StatusBadge, Submit, TextArea, useLoad, useSubmit } from "../components/ui";
import { formatBytes, formatDateTime, t } from "../i18n";
import { staff } from "../lib/auth";
import { navigate } from "../lib/router";
import { useStore } from "../lib/store";
import { TicketTable, Thread } from "./tickets";

type TicketStatus = "open" | "answered" | "closed";
type RecoveryStatus = "awaiting_documents" | "under_review" | "approved" | "rejected";

function StatusTabs<T extends string>(props: { label: string; values: T[]; current: T; prefix: string; onChange: (value: T) => void }) {
  return (
    <div class="tabs" role="group" aria-label={props.label}>
      {props.values.map((value) => (
        <button
          type="button"
          key={value}
          class={value === props.current ? "tab active" : "tab"}
          aria-pressed={value === props.current}
          onClick={() => props.onChange(value)}
        >
          {t(`${props.prefix}.${value}`)}
        </button>
      ))}
    </div>
  );
}

export function StaffTickets() {
  const [status, setStatus] = useState<TicketStatus>("open");
  const queue = useLoad(() => call(api.GET("/staff/tickets", { params: { query: { status } } })), [status]);
  const me = useStore(staff);
  return (
    <Page title={t("staff.queue_title")} wide>
      {me && <p class="muted">{t("staff.signed_in_as", { login: me.login, role: t(`staff.role.${me.role}`) })}</p>}
      <StatusTabs label={t("tickets.status")} values={["open", "answered", "closed"]} current={status} prefix="tickets.state" onChange={setStatus} />
      <ErrorAlert error={queue.error} />
      {queue.loading && !queue.data ? (
        <Loading />
      ) : queue.data && queue.data.length ? (
        <TicketTable tickets={queue.data} base="/staff/tickets" />
      ) : (
        <p class="empty">{t("staff.queue_empty")}</p>
      )}
    </Page>
  );
}

export function StaffTicket(props: { params: Record<string, string> }) {
  const number = props.params.number ?? "";
  const path = { params: { path: { number } } };
  const ticket = useLoad(() => call(api.GET("/staff/tickets/{number}", path)), [number]);
  const reply = useSubmit(async (values, element) => {
    await call(api.POST("/staff/tickets/{number}/messages", { ...path, body: { message: values.message ?? "" } }));
    element.reset();
    ticket.reload();
    return true;
  });
  if (ticket.loading && !ticket.data) return <Loading />;
  if (!ticket.data) {
    return (
      <Page title={number}>
        <ErrorAlert error={ticket.error} />
      </Page>
    );
  }
  const data = ticket.data;
  const client = data.client_number ?? data.claimed_client_number;
  return (
    <Page title={`${data.number}: ${data.subject}`} wide>
      <p class="lead">
        <StatusBadge prefix="tickets.state" status={data.status} /> {t(`tickets.dept.${data.department}`)} · {t(`staff.origin.${data.origin}`)}
      </p>
      <dl class="facts">
        {data.client_number !== null && (
          <>
            <dt>{t("account.client_number")}</dt>
            <dd>{data.client_number}</dd>
          </>
        )}
        {data.claimed_client_number !== null && (
          <>
            <dt>{t("staff.claimed_client")}</dt>
            <dd>{data.claimed_client_number}</dd>
          </>
        )}
        {data.applicant &&
          Object.entries(data.applicant).map(([name, value]) => (
            <Fragment key={name}>
              <dt>{t(`staff.applicant.${name}`)}</dt>
              <dd>{value}</dd>
            </Fragment>
          ))}
      </dl>
      {client !== null && (
        <p>
          <a href={`/staff/clients/${client}`}>{t("staff.see_products", { number: client })}</a>
        </p>
      )}
      <Thread messages={data.messages} staffView />
      {data.status !== "closed" && (
        <>
          <h2>{t("staff.reply")}</h2>
          {reply.result && !reply.busy && <Alert kind="success">{t("staff.reply_sent")}</Alert>}
          <ErrorAlert error={reply.error} />
          <form onSubmit={reply.onSubmit} class="form">
            <TextArea name="message" label={t("staff.your_reply")} required error={reply.error} />
            <Submit busy={reply.busy}>{t("staff.send_reply")}</Submit>
          </form>
        </>
      )}
    </Page>
  );
}

export function StaffClients(props: { params: Record<string, string> }) {
  const clientNumber = props.params.number ?? "";
  const products = useLoad(
    async () =>
      clientNumber
        ? call(api.GET("/staff/clients/{client_number}/products", { params: { path: { client_number: Number(clientNumber) } } }))
        : null,
    [clientNumber],
  );
  const form = useSubmit(async (values) => {
    navigate(`/staff/clients/${encodeURIComponent((values.client_number ?? "").trim())}`);
    return true;
  });
  return (
    <Page title={t("staff.clients_title")} wide>
      <p>{t("staff.clients_explain")}</p>
      <form onSubmit={form.onSubmit} class="form inline-form">
        <Field name="client_number" label={t("account.client_number")} inputMode="numeric" pattern="[0-9]+" required defaultValue={clientNumber} />
        <Submit busy={form.busy}>{t("staff.show_products")}</Submit>
      </form>
      <ErrorAlert error={products.error} />
      {clientNumber && products.data && (
        <>
          <h2>{t("staff.products_of", { number: clientNumber })}</h2>
          {products.data.length ? (
            <table class="table">
              <caption class="visually-hidden">{t("staff.products_of", { number: clientNumber })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("services.domain")}</th>
                  <th scope="col">{t("services.product")}</th>
                  <th scope="col">{t("services.status")}</th>
                </tr>
              </thead>
              <tbody>
                {products.data.map((product) => (
                  <tr key={product.service_id}>
                    <td>{product.domain}</td>
                    <td>{product.product}</td>
                    <td>
                      <StatusBadge prefix="services.state" status={product.status} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p class="empty">{t("staff.no_products")}</p>
          )}
        </>
      )}
    </Page>
  );
}

export function StaffRecoveryQueue() {
  const [status, setStatus] = useState<RecoveryStatus>("under_review");
  const queue = useLoad(() => call(api.GET("/staff/recovery-requests", { params: { query: { status } } })), [status]);
  return (
    <Page title={t("staff.recovery_title")} wide>
      <StatusTabs
        label={t("recovery.status")}
        values={["under_review", "awaiting_documents", "approved", "rejected"]}
        current={status}
        prefix="recovery.state"
        onChange={setStatus}
      />
      <ErrorAlert error={queue.error} />
      {queue.loading && !queue.data ? (
        <Loading />
      ) : queue.data && queue.data.length ? (
        <table class="table">
          <caption class="visually-hidden">{t("staff.recovery_title")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("recovery.reference")}</th>
              <th scope="col">{t("recovery.full_name")}</th>
              <th scope="col">{t("recovery.who")}</th>
              <th scope="col">{t("recovery.channel")}</th>
              <th scope="col">{t("recovery.submitted")}</th>
            </tr>
          </thead>
          <tbody>
            {queue.data.map((item) => (
              <tr key={item.reference}>
                <td>
                  <a href={`/staff/recovery/${encodeURIComponent(item.reference)}`}>{item.reference}</a>
                </td>
                <td>{item.full_name}</td>
                <td>{t(`recovery.type.${item.applicant_type}`)}</td>
                <td>{t(`recovery.channel.${item.channel}`)}</td>
                <td>{formatDateTime(item.submitted_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="empty">{t("staff.recovery_empty")}</p>
      )}
    </Page>
  );
}

export function StaffRecoveryCase(props: { params: Record<string, string> }) {
  const reference = props.params.reference ?? "";
  const path = { params: { path: { reference } } };
  const item = useLoad(() => call(api.GET("/staff/recovery-requests/{reference}", path)), [reference]);
  const decide = useSubmit(async (values) => {
    const decision = values.decision === "reject" ? "reject" : "approve";
    item.setData(await call(api.POST("/staff/recovery-requests/{reference}/decision", { ...path, body: { decision, reason: values.reason ?? "" } })));
    return decision;
  });
  if (item.loading && !item.data) return <Loading />;
  if (!item.data) {
    return (
      <Page title={reference}>
        <ErrorAlert error={item.error} />
      </Page>
    );
  }
  const data = item.data;
  // Staff see each document's name, not the applicant-facing instructions ("signed by you").
  const describeDoc = (name: string) => t(`recovery.doc.${name}`);
  return (
    <Page title={t("staff.case_title", { reference: data.reference })} wide>
      <p class="lead">
        <StatusBadge prefix="recovery.state" status={data.status} />
      </p>
      {decide.result && <Alert kind="success">{t(`staff.decided.${decide.result}`)}</Alert>}
      <div class="columns">
        <section aria-labelledby="applicant-heading">
          <h2 id="applicant-heading">{t("staff.applicant")}</h2>
          <dl class="facts">
            <dt>{t("recovery.who")}</dt>
            <dd>{t(`recovery.type.${data.applicant_type}`)}</dd>
            <dt>{t("recovery.full_name")}</dt>
            <dd>{data.full_name}</dd>
            {data.company_name && (
              <>
                <dt>{t("recovery.company_name")}</dt>
                <dd>{data.company_name}</dd>
              </>
            )}
            {data.company_code && (
              <>
                <dt>{t("recovery.company_code")}</dt>
                <dd>{data.company_code}</dd>
              </>
            )}
            <dt>{t("recovery.new_email")}</dt>
            <dd>{data.new_email}</dd>
            <dt>{t("recovery.phone")}</dt>
            <dd>{data.phone}</dd>
            <dt>{t("staff.account_hint")}</dt>
            <dd>{data.account_hint}</dd>
            <dt>{t("recovery.channel")}</dt>
            <dd>{t(`recovery.channel.${data.channel}`)}</dd>
          </dl>
        </section>
        <section aria-labelledby="account-heading">
          <h2 id="account-heading">{t("staff.matched_account")}</h2>
          {data.account ? (
            <dl class="facts">
              <dt>{t("account.client_number")}</dt>
              <dd>{data.account.client_number}</dd>
              <dt>{t("account.full_name")}</dt>
              <dd>{data.account.full_name}</dd>
              <dt>{t("staff.matched_by")}</dt>
              <dd>{data.account.matched_by ?? "—"}</dd>
            </dl>
          ) : (
            <Alert kind="info">{t("staff.no_match")}</Alert>
          )}
        </section>
      </div>
      <h2>{t("recovery.documents")}</h2>
      {data.documents.length ? (
        <ul class="cards">
          {data.documents.map((doc) => (
            <li class="card" key={doc.document}>
              <p class="card-title">{describeDoc(doc.document)}</p>
              {doc.uploaded && doc.download_url ? (
                <p>
                  <a href={doc.download_url} target="_blank" rel="noopener noreferrer">
                    {t("staff.open_document", { document: doc.document })}
                  </a>{" "}
                  <span class="muted">
                    {doc.size !== null && formatBytes(doc.size)} · {formatDateTime(doc.uploaded_at)}
                  </span>
                </p>
              ) : (
                <span class="badge badge-pending">{t("recovery.not_uploaded")}</span>
              )}
            </li>
          ))}
        </ul>
      ) : (
        <p class="empty">{t("staff.no_documents")}</p>
      )}
      {data.status === "under_review" ? (
        <>
          <h2>{t("staff.decision")}</h2>
          <ErrorAlert error={decide.error} />
          <form onSubmit={decide.onSubmit} class="form">
            <TextArea name="reason" label={t("staff.reason")} error={decide.error} />
            <div class="actions">
              <button type="submit" name="decision" value="approve" class="button primary" disabled={decide.busy}>
                {t("staff.approve")}
              </button>
              <button type="submit" name="decision" value="reject" class="button danger" disabled={decide.busy}>
                {t("staff.reject")}
              </button>
            </div>
          </form>
        </>
      ) : (
        data.decision_reason && (
          <p>
            {t("recovery.reason")}: {data.decision_reason} ({formatDateTime(data.decided_at)})
          </p>
        )
      )}
      <details class="audit">
        <summary>{t("staff.audit")}</summary>
        <ul>
          {data.audit.map((entry, index) => (
            <li key={index}>
              {formatDateTime(entry.at)} · {entry.action} · {entry.actor} · {entry.source_ip}
            </li>
          ))}
        </ul>
      </details>
    </Page>
  );
}
