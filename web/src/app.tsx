import type { ComponentType } from "preact";
import { useEffect } from "preact/hooks";
import { LOCALE_NAMES, LOCALES, isLocale, locale, setLocale, t } from "./i18n";
import { account, forget, signOut, staff } from "./lib/auth";
import { flash } from "./lib/flash";
import { match, navigate, path, visit } from "./lib/router";
import { session } from "./lib/session";
import { useStore } from "./lib/store";
import { routes, type Access } from "./routes";
import { NotFound } from "./pages/misc";

function resolve(pathname: string): { page: ComponentType<{ params: Record<string, string> }>; access: Access; params: Record<string, string> } {
  for (const route of routes) {
    const found = match(route.path, pathname);
    if (found) return { page: route.page, access: route.access, params: found.params };
  }
  return { page: NotFound, access: "public", params: {} };
}

export function App() {
  const current = useStore(path);
  const visits = useStore(visit);
  const who = useStore(session);
  useStore(locale); // re-render every page when the language changes
  const { page: PageComponent, access, params } = resolve(current);

  const allowed = access === "public" || (who !== null && who.role === access);
  useEffect(() => {
    if (!allowed) {
      const next = encodeURIComponent(current + window.location.search);
      if (who && who.role !== access) navigate(who.role === "staff" ? "/staff" : "/", true);
      else navigate(`/login?next=${next}`, true);
    }
  }, [allowed, current]);

  return (
    <>
      <a class="skip" href="#main" onClick={skipToMain}>
        {t("nav.skip")}
      </a>
      <Header />
      <main id="main" tabIndex={-1}>
        {allowed ? <PageComponent key={`${current}#${visits}`} params={params} /> : null}
      </main>
      <footer class="footer">
        <p>{t("footer.text")}</p>
      </footer>
    </>
  );
}

function skipToMain(event: Event) {
  event.preventDefault();
  document.getElementById("main")?.focus();
}

function Header() {
  const who = useStore(session);
  const me = useStore(account);
  const agent = useStore(staff);
  const currentPath = useStore(path);
  const link = (href: string, label: string) => {
    const active = href === "/" ? currentPath === "/" : currentPath.startsWith(href);
    return (
      <li>
        <a href={href} aria-current={active ? "page" : undefined}>
          {label}
        </a>
      </li>
    );
  };
  async function leave() {
    try {
      await signOut();
    } catch {
      forget();
    }
    flash.set({ kind: "success", text: t("signout.done") });
    navigate("/login");
  }
  return (
    <header class="header">
      <div class="header-inner">
        <a class="brand" href={who?.role === "staff" ? "/staff" : "/"}>
          <span class="brand-mark" aria-hidden="true" />
          {who?.role === "staff" ? t("app.staff_name") : t("app.name")}
        </a>
        <nav aria-label={t("nav.label")}>
          <ul class="nav">
            {who?.role === "client" && (
              <>
                {link("/", t("nav.home"))}
                {link("/services", t("nav.services"))}
                {link("/orders", t("nav.orders"))}
                {link("/tickets", t("nav.tickets"))}
                {link("/account", t("nav.account"))}
              </>
            )}
            {who?.role === "staff" && (
              <>
                {link("/staff/tickets", t("nav.staff_tickets"))}
                {link("/staff/clients", t("nav.staff_clients"))}
                {link("/staff/recovery", t("nav.staff_recovery"))}
              </>
            )}
            {!who && (
              <>
                {link("/login", t("nav.signin"))}
                {link("/register", t("nav.register"))}
                {link("/support/access-request", t("nav.help"))}
              </>
            )}
          </ul>
        </nav>
        <div class="header-tools">
          <LanguageSwitch />
          {who && (
            <span class="who">
              {me ? me.full_name : agent ? agent.login : ""}
            </span>
          )}
          {who && (
            <button type="button" class="button secondary small" onClick={leave}>
              {t("nav.signout")}
            </button>
          )}
        </div>
      </div>
    </header>
  );
}

function LanguageSwitch() {
  const current = useStore(locale);
  return (
    <label class="language">
      <span class="visually-hidden">{t("nav.language")}</span>
      <select
        value={current}
        onChange={(event) => {
          const next = (event.currentTarget as HTMLSelectElement).value;
          if (isLocale(next)) void setLocale(next);
        }}
      >
        {LOCALES.map((code) => (
          <option key={code} value={code} lang={code}>
            {LOCALE_NAMES[code]}
          </option>
        ))}
      </select>
    </label>
  );
}
