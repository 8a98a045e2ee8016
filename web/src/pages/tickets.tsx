import { api } from "../api/client";
import { call } from "../api/errors";
import type { components } from "../api/schema";
import { Alert, ErrorAlert, Field, Loading, Page, Select, StatusBadge, Submit, TextArea, useLoad, useSubmit } from "../components/ui";
import { formatBytes, formatDateTime, t } from "../i18n";
import { navigate } from "../lib/router";

type Message = components["schemas"]["TicketMessage"] | components["schemas"]["StaffTicketMessage"];

export function TicketList() {
  const list = useLoad(() => call(api.GET("/tickets")));
  return (
    <Page title={t("tickets.title")} wide>
      <p>
        <a class="button primary" href="/tickets/new">
          {t("tickets.new")}
        </a>
      </p>
      <ErrorAlert error={list.error} />
      {list.loading && !list.data ? (
        <Loading />
      ) : list.data && list.data.length ? (
        <TicketTable tickets={list.data} base="/tickets" />
      ) : (
        <p class="empty">{t("tickets.none")}</p>
      )}
    </Page>
  );
}

export function TicketTable(props: { tickets: components["schemas"]["TicketSummary"][]; base: string }) {
  return (
    <table class="table">
      <caption class="visually-hidden">{t("tickets.title")}</caption>
      <thead>
        <tr>
          <th scope="col">{t("tickets.number")}</th>
          <th scope="col">{t("tickets.subject")}</th>
          <th scope="col">{t("tickets.department")}</th>
          <th scope="col">{t("tickets.status")}</th>
          <th scope="col">{t("tickets.updated")}</th>
        </tr>
      </thead>
      <tbody>
        {props.tickets.map((ticket) => (
          <tr key={ticket.number}>
            <td>
              <a href={`${props.base}/${encodeURIComponent(ticket.number)}`}>{ticket.number}</a>
            </td>
            <td>{ticket.subject}</td>
            <td>{t(`tickets.dept.${ticket.department}`)}</td>
            <td>
              <StatusBadge prefix="tickets.state" status={ticket.status} />
            </td>
            <td>{formatDateTime(ticket.updated_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function NewTicket() {
  const services = useLoad(() => call(api.GET("/services")));
  const form = useSubmit(async (values) => {
    const created = await call(
      api.POST("/tickets", {
        body: {
          department: (values.department ?? "technical") as "technical" | "billing" | "sales",
          subject: values.subject ?? "",
          message: values.message ?? "",
          service_id: values.service_id || null,
        },
      }),
    );
    navigate(`/tickets/${encodeURIComponent(created.number)}`);
    return created;
  });
  return (
    <Page title={t("tickets.new")}>
      <ErrorAlert error={form.error} />
      <form onSubmit={form.onSubmit} class="form">
        <Select
          name="department"
          label={t("tickets.department")}
          options={[
            ["technical", t("tickets.dept.technical")],
            ["billing", t("tickets.dept.billing")],
            ["sales", t("tickets.dept.sales")],
          ]}
        />
        <Select
          name="service_id"
          label={t("tickets.service")}
          options={[["", t("tickets.no_service")], ...(services.data ?? []).map((s): [string, string] => [s.service_id, `${s.domain} (${s.product})`])]}
        />
        <Field name="subject" label={t("tickets.subject")} required maxLength={200} error={form.error} />
        <TextArea name="message" label={t("tickets.message")} required error={form.error} />
        <Submit busy={form.busy}>{t("tickets.open")}</Submit>
      </form>
    </Page>
  );
}

export function Thread(props: { messages: Message[]; staffView?: boolean }) {
  return (
    <ol class="thread">
      {props.messages.map((message) => (
        <li key={message.message_id} class={`message message-${message.author}`}>
          <p class="message-meta">
            <strong>{t(props.staffView ? `thread.staff_view.${message.author}` : `thread.${message.author}`)}</strong>{" "}
            <time dateTime={message.created_at}>{formatDateTime(message.created_at)}</time>
            {message.channel === "email" && <span class="muted"> · {t("thread.by_email")}</span>}
          </p>
          <div class="message-body">{message.body}</div>
          {message.attachments.length > 0 && (
            <ul class="attachments" aria-label={t("thread.attachments")}>
              {message.attachments.map((file) => (
                <li key={file.filename}>
                  {"download_url" in file ? (
                    <a href={file.download_url} rel="noopener noreferrer" target="_blank">
                      {file.filename}
                    </a>
                  ) : (
                    file.filename
                  )}{" "}
                  <span class="muted">({formatBytes(file.size)})</span>
                </li>
              ))}
            </ul>
          )}
        </li>
      ))}
    </ol>
  );
}

export function TicketDetail(props: { params: Record<string, string> }) {
  const number = props.params.number ?? "";
  const path = { params: { path: { number } } };
  const ticket = useLoad(() => call(api.GET("/tickets/{number}", path)), [number]);
  const reply = useSubmit(async (values, element) => {
    await call(api.POST("/tickets/{number}/messages", { ...path, body: { message: values.message ?? "" } }));
    element.reset();
    ticket.reload();
    return true;
  });
  const close = useSubmit(async () => {
    ticket.setData(await call(api.POST("/tickets/{number}/close", path)));
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
  return (
    <Page title={`${data.number}: ${data.subject}`} wide>
      <p class="lead">
        <StatusBadge prefix="tickets.state" status={data.status} /> {t(`tickets.dept.${data.department}`)} ·{" "}
        {t("tickets.opened_at", { time: formatDateTime(data.created_at) })}
      </p>
      <Thread messages={data.messages} />
      {data.status === "closed" ? (
        <Alert kind="info">
          {t("tickets.closed_note")} <a href="/tickets/new">{t("tickets.new")}</a>
        </Alert>
      ) : (
        <>
          <h2>{t("tickets.reply")}</h2>
          {reply.result && !reply.busy && <Alert kind="success">{t("tickets.reply_sent")}</Alert>}
          <ErrorAlert error={reply.error ?? close.error} />
          <form onSubmit={reply.onSubmit} class="form">
            <TextArea name="message" label={t("tickets.your_reply")} required error={reply.error} />
            <Submit busy={reply.busy}>{t("tickets.send")}</Submit>
          </form>
          <form onSubmit={close.onSubmit} class="form inline">
            <Submit busy={close.busy} kind="secondary">
              {t("tickets.close")}
            </Submit>
          </form>
        </>
      )}
    </Page>
  );
}

/** "I can't log in": for a person who cannot sign in; the ticket number is the receipt. */
export function AccessRequest() {
  const form = useSubmit(async (values) =>
    call(
      api.POST("/support/access-requests", {
        body: {
          full_name: values.full_name ?? "",
          address: values.address ?? "",
          phone: values.phone ?? "",
          login_or_email: values.login_or_email ?? "",
          email: values.email || null,
          message: values.message ?? "",
        },
      }),
    ),
  );
  if (form.result) return <TicketNumber number={form.result.number} text={t("access.done")} />;
  return (
    <Page title={t("access.title")}>
      <p>{t("access.explain")}</p>
      <p>
        <a href="/forgot-password">{t("access.try_reset")}</a> · <a href="/recovery">{t("signin.recovery")}</a>
      </p>
      <ErrorAlert error={form.error} />
      <form onSubmit={form.onSubmit} class="form">
        <Field name="full_name" label={t("access.full_name")} autocomplete="name" required error={form.error} />
        <Field name="address" label={t("access.address")} autocomplete="street-address" required error={form.error} />
        <Field name="phone" label={t("access.phone")} type="tel" autocomplete="tel" required error={form.error} />
        <Field name="login_or_email" label={t("access.login")} required autocomplete="username" error={form.error} />
        <Field name="email" label={t("access.email")} type="email" autocomplete="email" hint={t("access.email_hint")} error={form.error} />
        <TextArea name="message" label={t("access.message")} required error={form.error} />
        <Submit busy={form.busy}>{t("access.submit")}</Submit>
      </form>
    </Page>
  );
}

export function SalesQuestion() {
  const form = useSubmit(async (values) =>
    call(
      api.POST("/support/sales-questions", {
        body: { email: values.email ?? "", full_name: values.full_name || null, message: values.message ?? "" },
      }),
    ),
  );
  if (form.result) return <TicketNumber number={form.result.number} text={t("sales.done")} />;
  return (
    <Page title={t("sales.title")}>
      <p>{t("sales.explain")}</p>
      <ErrorAlert error={form.error} />
      <form onSubmit={form.onSubmit} class="form">
        <Field name="full_name" label={t("sales.full_name")} autocomplete="name" error={form.error} />
        <Field name="email" label={t("sales.email")} type="email" autocomplete="email" required error={form.error} />
        <TextArea name="message" label={t("sales.message")} required error={form.error} />
        <Submit busy={form.busy}>{t("sales.submit")}</Submit>
      </form>
    </Page>
  );
}

function TicketNumber(props: { number: string; text: string }) {
  return (
    <Page title={t("access.number_title")}>
      <p>{props.text}</p>
      <p class="ticket-number-label" id="ticket-number-label">
        {t("access.number_label")}
      </p>
      <p class="ticket-number" aria-describedby="ticket-number-label">
        <strong>{props.number}</strong>
      </p>
      <p>{t("access.keep_number")}</p>
    </Page>
  );
}
