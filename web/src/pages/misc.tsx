import { api } from "../api/client";
import { call } from "../api/errors";
import { ErrorAlert, Loading, Page, StatusBadge, useLoad } from "../components/ui";
import { t } from "../i18n";
import { account } from "../lib/auth";
import { useStore } from "../lib/store";

/** The client area's front page: services, open tickets, orders waiting for something. */
export function Home() {
  const me = useStore(account);
  const overview = useLoad(() =>
    Promise.all([call(api.GET("/services")), call(api.GET("/tickets")), call(api.GET("/orders"))]),
  );
  const [services, tickets, orders] = overview.data ?? [[], [], []];
  const openTickets = tickets.filter((ticket) => ticket.status !== "closed");
  const openOrders = orders.filter((order) => order.status.startsWith("awaiting"));
  return (
    <Page title={t("home.title")} wide>
      {me && (
        <p class="lead">
          {t("home.welcome", { name: me.full_name })} <span class="muted">{t("home.client_number", { number: me.client_number })}</span>
        </p>
      )}
      <ErrorAlert error={overview.error} />
      {overview.loading && !overview.data ? (
        <Loading />
      ) : (
        <div class="tiles">
          <section class="tile" aria-labelledby="home-services">
            <h2 id="home-services">{t("nav.services")}</h2>
            <ul>
              {services.map((service) => (
                <li key={service.service_id}>
                  {service.domain} <span class="muted">({service.product})</span>
                </li>
              ))}
            </ul>
            {services.length === 0 && <p class="muted">{t("services.none")}</p>}
            <a href="/services">{t("home.all_services")}</a>
          </section>
          <section class="tile" aria-labelledby="home-tickets">
            <h2 id="home-tickets">{t("nav.tickets")}</h2>
            <p>{t("home.open_tickets", { count: openTickets.length })}</p>
            <ul>
              {openTickets.slice(0, 3).map((ticket) => (
                <li key={ticket.number}>
                  <a href={`/tickets/${encodeURIComponent(ticket.number)}`}>{ticket.number}</a> {ticket.subject}
                </li>
              ))}
            </ul>
            <a href="/tickets/new">{t("tickets.new")}</a>
          </section>
          <section class="tile" aria-labelledby="home-orders">
            <h2 id="home-orders">{t("nav.orders")}</h2>
            <ul>
              {openOrders.map((order) => (
                <li key={order.order_id}>
                  <a href={`/orders/${encodeURIComponent(order.order_id)}`}>{t("orders.cession_of", { domain: order.domain })}</a>{" "}
                  <StatusBadge prefix="orders.state" status={order.status} />
                </li>
              ))}
            </ul>
            {openOrders.length === 0 && <p class="muted">{t("orders.none_open")}</p>}
            <a href="/orders">{t("home.all_orders")}</a>
          </section>
        </div>
      )}
    </Page>
  );
}

export function NotFound() {
  return (
    <Page title={t("notfound.title")}>
      <p>{t("notfound.text")}</p>
      <p>
        <a href="/">{t("notfound.home")}</a>
      </p>
    </Page>
  );
}
