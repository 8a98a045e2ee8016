"""The browser suite: the client area in Debian's Chromium, driven by Playwright.

One dev server for the whole run, serving the API and the web client (web/dist) on an
origin of its own, so CORS is exercised as deployed; one Chromium (pytest-playwright's
session `browser`), a fresh context per test and more where a flow has two people.
Mails are read from the dev mailbox and their links opened in the browser.

Chromium is Debian's (`make install` installs it); Playwright's own browser download
is never used: never run `playwright install`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.conftest import ROOT, _free_port, running_dev_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / ".artifacts" / "screenshots"
AXE_SOURCE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "correct horse battery staple 9"
DEMO_PASSWORD = "clientarea-dev-password"  # the dev server's documented seed
MAIL_TIMEOUT = 30.0

expect.set_options(timeout=15_000)


@dataclass(frozen=True)
class ClientArea:
    api: str  # the dev server's API (and /_dev/*)
    web: str  # the web client's origin (its --frontend-url)


@pytest.fixture(scope="session")
def client_area(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClientArea]:
    if not (ROOT / "web" / "dist" / "index.html").is_file():
        pytest.fail("web/dist is missing: `make web` builds it (make test does)")
    web = f"http://127.0.0.1:{_free_port()}"
    log_dir = tmp_path_factory.mktemp("browser-dev-server")
    with running_dev_server(log_dir, ("--frontend-url", web)) as api:
        yield ClientArea(api=api, web=web)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


@pytest.fixture(scope="session")
def browser_context_args(
    browser_context_args: dict[str, Any], client_area: ClientArea
) -> dict[str, Any]:
    return {
        **browser_context_args,
        "base_url": client_area.web,
        "locale": "en-GB",
        "viewport": {"width": 1200, "height": 800},
    }


@pytest.fixture
def open_context(
    browser: Browser, browser_context_args: dict[str, Any]
) -> Iterator[Callable[..., BrowserContext]]:
    """More people at once: each call is a new browser context (its own storage)."""
    opened: list[BrowserContext] = []

    def make(**overrides: Any) -> BrowserContext:
        context = browser.new_context(**{**browser_context_args, **overrides})
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()


# --- the dev mailbox ---------------------------------------------------------------


class Mailbox:
    def __init__(self, api: str) -> None:
        self.api = api

    def mails(self, to: str) -> list[dict[str, Any]]:
        reply = requests.get(f"{self.api}/_dev/mail", params={"to": to}, timeout=10)
        reply.raise_for_status()
        return reply.json()

    def count(self, to: str) -> int:
        return len(self.mails(to))

    def wait(self, to: str, *, after: int = 0, link: str | None = None) -> dict[str, Any]:
        """The newest mail to `to` beyond the first `after` (with a link containing
        `link`, if given), polling the mailbox until it arrives."""
        deadline = time.monotonic() + MAIL_TIMEOUT
        while True:
            for mail in reversed(self.mails(to)[after:]):
                if link is None or any(link in url for url in mail["links"]):
                    return mail
            if time.monotonic() > deadline:
                raise AssertionError(f"no mail to {to} with a link to {link!r}")
            time.sleep(0.1)

    def link(self, to: str, path: str, *, after: int = 0) -> str:
        mail = self.wait(to, after=after, link=path)
        return next(url for url in mail["links"] if path in url)


@pytest.fixture(scope="session")
def mailbox(client_area: ClientArea) -> Mailbox:
    return Mailbox(client_area.api)


# --- people ------------------------------------------------------------------------


@dataclass
class Person:
    email: str
    login: str
    client_number: int
    password: str = PASSWORD
    full_name: str = "Test Person"


@pytest.fixture
def make_person(client_area: ClientArea, mailbox: Mailbox) -> Callable[..., Person]:
    """A verified account, registered over HTTP (for flows that are not about signing up)."""

    def make(*, locale: str = "en", full_name: str = "Olena Kovalenko") -> Person:
        email = f"p-{uuid.uuid4().hex[:10]}@example.com"
        body = {"email": email, "password": PASSWORD, "full_name": full_name, "locale": locale}
        assert requests.post(f"{client_area.api}/auth/register", json=body, timeout=10).ok
        token = mailbox.link(email, "/verify-email#token=").split("#token=", 1)[1]
        verified = requests.post(
            f"{client_area.api}/auth/verify-email", json={"token": token}, timeout=10
        )
        assert verified.status_code == 200, verified.text
        data = verified.json()
        return Person(email, data["login"], data["client_number"], full_name=full_name)

    return make


def sign_in(page: Page, login: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Login or email").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


# --- what every page gets: axe-core and a screenshot --------------------------------


def check_page(page: Page, name: str) -> None:
    """Axe-core on the page as it is (0 serious or critical violations), then a
    full-page screenshot in .artifacts/screenshots/<name>.png.

    axe is served from the page's own origin (a routed URL), so the strict CSP, which
    allows scripts from 'self' only, stays on while it runs."""
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator(".loading")).to_have_count(0)
    page.route(
        "**/__axe.js",
        lambda route: route.fulfill(
            body=AXE_SOURCE.read_text(), content_type="text/javascript; charset=utf-8"
        ),
    )
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(url="/__axe.js")
    violations = page.evaluate(
        """async () => {
            const result = await window.axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
            }));
        }"""
    )
    serious = [v for v in violations if v["impact"] in {"serious", "critical"}]
    assert not serious, f"{name}: {serious}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def token_storage(page: Page) -> dict[str, Any]:
    return page.evaluate(
        "() => ({local: Object.keys(localStorage), session: Object.keys(sessionStorage)})"
    )


def path_of(page: Page) -> str:
    return page.evaluate("() => location.pathname + location.search + location.hash")


def tab_to(page: Page, target: Any, limit: int = 40) -> None:
    """Press Tab until `target` (a locator) has the focus, as a keyboard user does."""
    for _ in range(limit):
        if target.evaluate("(el) => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{target} never got the focus by Tab")
