import { useState } from "preact/hooks";
import { api } from "../api/client";
import { call } from "../api/errors";
import type { components } from "../api/schema";
import { Alert, ErrorAlert, Field, Loading, Page, StatusBadge, Submit, useLoad, useSubmit } from "../components/ui";
import { formatDateTime, t } from "../i18n";
import { account } from "../lib/auth";
import { consumeSecret } from "../lib/fragment";
import { navigate } from "../lib/router";
import { useStore } from "../lib/store";
import { LinkMissing } from "./auth";

type Order = components["schemas"]["Order"];
type Party = "owner" | "recipient";

export function Services() {
  const list = useLoad(() => call(api.GET("/services")));
  return (
    <Page title={t("services.title")} wide>
      <ErrorAlert error={list.error} />
      {list.loading && !list.data ? (
        <Loading />
      ) : list.data && list.data.length ? (
        <table class="table">
          <caption class="visually-hidden">{t("services.title")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("services.domain")}</th>
              <th scope="col">{t("services.product")}</th>
              <th scope="col">{t("services.status")}</th>
              <th scope="col">
                <span class="visually-hidden">{t("common.actions")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((service) => (
              <tr key={service.service_id}>
                <td>{service.domain}</td>
                <td>{service.product}</td>
                <td>
                  <StatusBadge prefix="services.state" status={service.status} />
                </td>
                <td>
                  <a
                    href={`/services/${encodeURIComponent(service.service_id)}/cession`}
                    aria-label={t("services.cession_label", { domain: service.domain })}
                  >
                    {t("services.cession")}
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="empty">{t("services.none")}</p>
      )}
    </Page>
  );
}

export function OrderCession(props: { params: Record<string, string> }) {
  const serviceId = props.params.id ?? "";
  const services = useLoad(() => call(api.GET("/services")));
  const service = services.data?.find((s) => s.service_id === serviceId);
  const form = useSubmit(async (values) => {
    const order = await call(
      api.POST("/services/{service_id}/cession", {
        params: { path: { service_id: serviceId } },
        body: {
          recipient_login: values.recipient_login ?? "",
          recipient_client_number: Number(values.recipient_client_number),
        },
      }),
    );
    navigate(`/orders/${encodeURIComponent(order.order_id)}`);
    return order;
  });
  return (
    <Page title={t("cession.order_title")}>
      {service && (
        <p class="lead">
          {service.domain} · {service.product}
        </p>
      )}
      <p>{t("cession.order_explain")}</p>
      <ol class="steps">
        <li>{t("cession.step1")}</li>
        <li>{t("cession.step2")}</li>
        <li>{t("cession.step3")}</li>
      </ol>
      <ErrorAlert error={form.error ?? services.error} />
      <form onSubmit={form.onSubmit} class="form">
        <fieldset>
          <legend>{t("cession.recipient")}</legend>
          <Field name="recipient_login" label={t("cession.recipient_login")} hint={t("cession.recipient_login_hint")} required autocomplete="off" error={form.error} />
          <Field
            name="recipient_client_number"
            label={t("cession.recipient_number")}
            hint={t("cession.recipient_number_hint")}
            inputMode="numeric"
            pattern="[0-9]+"
            required
            autocomplete="off"
            error={form.error}
          />
        </fieldset>
        <Submit busy={form.busy}>{t("cession.order_submit")}</Submit>
      </form>
    </Page>
  );
}

export function Orders() {
  const list = useLoad(() => call(api.GET("/orders")));
  return (
    <Page title={t("orders.title")} wide>
      <ErrorAlert error={list.error} />
      {list.loading && !list.data ? (
        <Loading />
      ) : list.data && list.data.length ? (
        <table class="table">
          <caption class="visually-hidden">{t("orders.title")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("orders.order")}</th>
              <th scope="col">{t("services.domain")}</th>
              <th scope="col">{t("orders.status")}</th>
              <th scope="col">{t("orders.created")}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((order) => (
              <tr key={order.order_id}>
                <td>
                  <a href={`/orders/${encodeURIComponent(order.order_id)}`}>{t("orders.cession_of", { domain: order.domain })}</a>
                </td>
                <td>{order.domain}</td>
                <td>
                  <StatusBadge prefix="orders.state" status={order.status} />
                </td>
                <td>{formatDateTime(order.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="empty">{t("orders.none")}</p>
      )}
    </Page>
  );
}

const OPEN = ["awaiting_activation", "awaiting_confirmations"];

export function OrderDetail(props: { params: Record<string, string> }) {
  const orderId = props.params.id ?? "";
  const me = useStore(account);
  const order = useLoad(
    () => call(api.GET("/orders/{order_id}", { params: { path: { order_id: orderId } } })),
    [orderId],
  );
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const path = { params: { path: { order_id: orderId } } };

  async function act(run: () => Promise<Order | undefined>, message: string) {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const updated = await run();
      if (updated) order.setData(updated);
      else order.reload();
      setNotice(message);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  if (order.loading && !order.data) return <Loading />;
  if (!order.data) {
    return (
      <Page title={t("orders.detail_title")}>
        <ErrorAlert error={order.error} />
      </Page>
    );
  }
  const o = order.data;
  const mine: Party | null = me?.client_number === o.owner.client_number ? "owner" : me?.client_number === o.recipient.client_number ? "recipient" : null;
  const open = OPEN.includes(o.status);
  return (
    <Page title={t("orders.cession_of", { domain: o.domain })} wide>
      <p class="lead">
        <StatusBadge prefix="orders.state" status={o.status} /> {t(`orders.explain.${o.status}`)}
      </p>
      {notice && <Alert kind="success">{notice}</Alert>}
      <ErrorAlert error={error} />
      <dl class="facts">
        <dt>{t("orders.order")}</dt>
        <dd>{o.order_id}</dd>
        <dt>{t("services.product")}</dt>
        <dd>
          {o.product} ({o.domain})
        </dd>
        <dt>{t("orders.created")}</dt>
        <dd>{formatDateTime(o.created_at)}</dd>
        {o.expires_at && (
          <>
            <dt>{t("orders.expires")}</dt>
            <dd>{formatDateTime(o.expires_at)}</dd>
          </>
        )}
      </dl>
      <h2>{t("orders.parties")}</h2>
      <table class="table">
        <caption class="visually-hidden">{t("orders.parties")}</caption>
        <thead>
          <tr>
            <th scope="col">{t("orders.party")}</th>
            <th scope="col">{t("account.client_number")}</th>
            <th scope="col">{t("orders.confirmation")}</th>
            <th scope="col">
              <span class="visually-hidden">{t("common.actions")}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(["owner", "recipient"] as const).map((party) => {
            const info = o[party];
            const canResend =
              o.status === "awaiting_confirmations" && !info.confirmed_at && (mine === "owner" || mine === party);
            return (
              <tr key={party}>
                <th scope="row">
                  {t(`orders.party.${party}`)}
                  {mine === party && <span class="muted"> ({t("orders.you")})</span>}
                </th>
                <td>{info.client_number}</td>
                <td>
                  {info.confirmed_at ? (
                    <span class="badge badge-confirmed">{t("orders.confirmed_at", { time: formatDateTime(info.confirmed_at) })}</span>
                  ) : o.status === "awaiting_confirmations" ? (
                    <span class="badge badge-pending">{t("orders.waiting")}</span>
                  ) : (
                    "—"
                  )}
                </td>
                <td>
                  {canResend && (
                    <button
                      type="button"
                      class="button secondary small"
                      disabled={busy}
                      onClick={() =>
                        void act(async () => {
                          await call(api.POST("/orders/{order_id}/resend", { ...path, body: { party } }));
                          return undefined;
                        }, t("orders.resent", { party: t(`orders.party.${party}`) }))
                      }
                    >
                      {t(`orders.resend.${party}`)}
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div class="actions">
        {mine === "owner" && o.status === "awaiting_activation" && (
          <button
            type="button"
            class="button primary"
            disabled={busy}
            onClick={() => void act(() => call(api.POST("/orders/{order_id}/activate", path)), t("orders.activated"))}
          >
            {t("orders.activate")}
          </button>
        )}
        {mine === "owner" && open && (
          <button
            type="button"
            class="button danger"
            disabled={busy}
            onClick={() => void act(() => call(api.POST("/orders/{order_id}/cancel", path)), t("orders.cancelled"))}
          >
            {t("orders.cancel")}
          </button>
        )}
        <button type="button" class="button secondary" disabled={busy} onClick={() => order.reload()}>
          {t("common.refresh")}
        </button>
      </div>
    </Page>
  );
}

export function CessionLanding() {
  const [token] = useState(consumeSecret);
  const [answer, setAnswer] = useState<components["schemas"]["CessionAnswer"] | null>(null);
  const [chosen, setChosen] = useState<"confirm" | "decline" | null>(null);
  const form = useSubmit(async (values) => {
    if (!token) return null;
    const decline = values.answer === "decline";
    setChosen(decline ? "decline" : "confirm");
    const route = decline ? "/cession/decline" : "/cession/confirm";
    const result = await call(api.POST(route, { body: { token } }));
    setAnswer(result);
    return result;
  });
  return (
    <Page title={t("cession.landing_title")}>
      {answer ? (
        <>
          <Alert kind="success">
            {t(chosen === "decline" ? "cession.declined" : "cession.confirmed", { party: t(`orders.party.${answer.party}`) })}
          </Alert>
          <p>
            <StatusBadge prefix="orders.state" status={answer.status} /> {t(`orders.explain.${answer.status}`)}
          </p>
          <p>
            <a href={`/orders/${encodeURIComponent(answer.order_id)}`}>{t("cession.see_order")}</a>
          </p>
        </>
      ) : (
        <>
          <LinkMissing token={token} again="/orders" againLabel={t("cession.again")} />
          <ErrorAlert error={form.error} />
          {token && (
            <form onSubmit={form.onSubmit} class="form">
              <p>{t("cession.landing_explain")}</p>
              <div class="actions">
                <button type="submit" class="button primary" disabled={form.busy} name="answer" value="confirm">
                  {t("cession.confirm")}
                </button>
                <button type="submit" class="button danger" disabled={form.busy} name="answer" value="decline">
                  {t("cession.decline")}
                </button>
              </div>
            </form>
          )}
        </>
      )}
    </Page>
  );
}
