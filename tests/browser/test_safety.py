"""The browser-side safety rules: the headers every page carries (the template's
response-headers policy), a CSP that refuses inline script, no Referer to anyone,
the session in sessionStorage, and a throttled sign-in told when to try again."""

from __future__ import annotations

import math

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import ClientArea, check_page, sign_in

CLIENT_ROUTES = ["/", "/reset-password", "/tickets/TKT-100-001", "/staff/recovery/RC-X"]


@pytest.mark.parametrize("path", CLIENT_ROUTES)
def test_every_route_is_the_app_with_the_policy_headers(client_area: ClientArea, path: str) -> None:
    reply = requests.get(f"{client_area.web}{path}", timeout=10)
    assert reply.status_code == 200
    assert '<div id="app">' in reply.text
    assert "<script>" not in reply.text  # no inline script: the CSP would refuse it
    csp = reply.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert client_area.api in directives["connect-src"].split()
    assert reply.headers["Referrer-Policy"] == "no-referrer"
    assert reply.headers["X-Frame-Options"] == "DENY"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Strict-Transport-Security"].startswith("max-age=")


def test_inline_script_is_refused_and_nothing_sends_a_referer(
    page: Page, make_person, client_area: ClientArea
) -> None:
    person = make_person()
    api_requests = []
    page.on("request", lambda request: api_requests.append(request))  # noqa: PLW0108 - Playwright tags its handlers: a bound builtin cannot be one
    sign_in(page, person.login)

    # An injected inline script (what an XSS would try) does not run.
    violations = page.evaluate(
        """() => new Promise((resolve) => {
            document.addEventListener("securitypolicyviolation", (e) => resolve(e.violatedDirective));
            const script = document.createElement("script");
            script.textContent = "window.__injected = true";
            document.body.append(script);
            setTimeout(() => resolve(null), 2000);
        })"""
    )
    assert violations and violations.startswith("script-src")
    assert page.evaluate("() => window.__injected === undefined")

    # The API was called cross-origin, and never with a Referer.
    to_api = [r for r in api_requests if r.url.startswith(f"{client_area.api}/")]
    assert to_api, "the page called the API on its own origin"
    sent = [(r.url, r.all_headers().get("referer")) for r in api_requests]
    assert not [(url, referer) for url, referer in sent if referer], sent
    storage = page.evaluate("() => Object.keys(localStorage)")
    assert storage == []


def test_unknown_page_says_so(page: Page) -> None:
    page.goto("/no/such/page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    check_page(page, "not-found")


def test_a_throttled_sign_in_says_when_to_try_again(page: Page, make_person) -> None:
    # GIVEN an account whose password someone keeps guessing wrong
    person = make_person()
    page.goto("/login")
    page.get_by_label("Login or email").fill(person.login)
    retry_after = None
    for _ in range(12):
        page.get_by_label("Password").fill("a wrong guess of the password")
        with page.expect_response(lambda r: r.url.endswith("/auth/login")) as answer:
            page.get_by_role("button", name="Sign in").click()
        if answer.value.status == 429:
            retry_after = int(answer.value.headers["retry-after"])
            break
    assert retry_after is not None, "the login was never throttled"

    # THEN the page says how long to wait, in whole minutes (rounded up)
    minutes = math.ceil(retry_after / 60)
    unit = "minute" if minutes == 1 else "minutes"
    expect(page.get_by_role("alert")).to_have_text(
        f"Too many attempts. Try again in {minutes} {unit}."
    )
    check_page(page, "sign-in-throttled")


def test_pages_fit_a_phone_screen(open_context, make_person) -> None:
    # GIVEN a client on a 375-pixel-wide phone
    person = make_person()
    page = open_context(viewport={"width": 375, "height": 740}, is_mobile=True).new_page()
    page.goto("/login")
    check_page(page, "sign-in-phone")
    sign_in(page, person.login)
    for path, name in (
        ("/", "overview-phone"),
        ("/account", "account-phone"),
        ("/tickets/new", "ticket-new-phone"),
    ):
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
        # THEN nothing is wider than the screen (no sideways scrolling)
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), (
            path
        )
        check_page(page, name)
