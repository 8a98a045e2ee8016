"""Seed 004, the cession of a service between two client accounts, in two browsers:
the owner orders and activates it, has a link re-sent, both parties confirm from their
mails; and a second order the recipient declines."""

from __future__ import annotations

import re
import time

import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import ClientArea, Mailbox, check_page, sign_in


def give_service(client_area: ClientArea, client_number: int, domain: str) -> None:
    requests.post(
        f"{client_area.api}/_dev/services",
        json={"client_number": client_number, "domain": domain, "product": "Hosting Pro"},
        timeout=10,
    ).raise_for_status()


def order_cession(page: Page, domain: str, login: str, client_number: int) -> None:
    page.get_by_role("link", name="My services", exact=True).click()
    page.get_by_role("link", name=f"Transfer {domain} to another account").click()
    expect(page.get_by_role("heading", name="Transfer a service (cession)")).to_be_visible()
    page.get_by_label("Login of the receiving client").fill(login)
    page.get_by_label("Client number of the receiving client").fill(str(client_number))


def refresh_until(page: Page, status: str, timeout: float = 30) -> None:
    """The workflow moves the service in the background: refresh as a person would."""
    deadline = time.monotonic() + timeout
    badge = page.locator(".lead .badge")
    while badge.inner_text() != status:
        assert time.monotonic() < deadline, f"order still {badge.inner_text()!r}"
        page.get_by_role("button", name="Refresh").click()
        page.wait_for_timeout(250)


def test_cession_confirmed_by_both_with_a_resent_link(
    page: Page, open_context, make_person, mailbox: Mailbox, client_area: ClientArea
) -> None:
    # GIVEN an owner with a hosting and the account that is to take it over
    owner = make_person(full_name="Anna Nowak")
    recipient = make_person(full_name="Jan Kowalski")
    domain = f"{owner.login}-shop.example"
    give_service(client_area, owner.client_number, domain)
    sign_in(page, owner.login)

    # WHEN the owner orders the cession naming the recipient's login and client number
    order_cession(page, domain, recipient.login, recipient.client_number)
    check_page(page, "cession-order")
    page.get_by_role("button", name="Order the cession").click()

    # THEN the order waits for activation; activating sends both parties their links
    expect(page.get_by_role("heading", name=f"Cession of {domain}")).to_be_visible()
    expect(page.locator(".lead .badge")).to_have_text("Awaiting activation")
    check_page(page, "order-awaiting-activation")
    page.get_by_role("button", name="Activate free of charge").click()
    expect(page.locator(".lead .badge")).to_have_text("Awaiting confirmations")
    expect(page.get_by_role("row", name=re.compile("current owner"))).to_contain_text("Waiting")
    first_link = mailbox.link(owner.email, "/cession#token=")
    recipient_link = mailbox.link(recipient.email, "/cession#token=")

    # WHEN the owner's mail went astray and he has his link sent again
    mails_before = mailbox.count(owner.email)
    page.get_by_role("button", name="Send the owner's link again").click()
    expect(page.get_by_role("status")).to_contain_text(
        "A new link has been sent to the current owner"
    )
    new_link = mailbox.link(owner.email, "/cession#token=", after=mails_before)
    assert new_link != first_link

    # THEN the first link no longer works
    landing = open_context().new_page()
    landing.goto(first_link)
    expect(landing.get_by_role("heading", name="Confirm the transfer of a service")).to_be_visible()
    check_page(landing, "cession-landing")
    landing.get_by_role("button", name="Confirm the transfer").click()
    expect(landing.get_by_role("alert")).to_contain_text("This link is no longer valid")

    # WHEN the owner confirms with the new link
    page.goto(new_link)
    page.get_by_role("button", name="Confirm the transfer").click()
    expect(page.get_by_role("status").first).to_contain_text("your confirmation as current owner")
    check_page(page, "cession-confirmed")

    # THEN the order shows who has confirmed and who not yet
    page.get_by_role("link", name="See the order (sign in)").click()
    expect(page.get_by_role("row", name=re.compile("current owner"))).to_contain_text("Confirmed")
    expect(page.get_by_role("row", name=re.compile("recipient"))).to_contain_text("Waiting")
    check_page(page, "order-status")

    # WHEN the recipient confirms from his own mailbox, in his own browser
    other = open_context().new_page()
    other.goto(recipient_link)
    other.get_by_role("button", name="Confirm the transfer").click()
    expect(other.get_by_role("status").first).to_contain_text("your confirmation as recipient")

    # THEN the order completes and the service is the recipient's
    refresh_until(page, "Completed")
    check_page(page, "order-completed")
    sign_in(other, recipient.login)
    other.get_by_role("link", name="My services", exact=True).click()
    expect(other.get_by_role("cell", name=domain, exact=True)).to_be_visible()
    page.get_by_role("link", name="My services", exact=True).click()
    expect(page.get_by_role("heading", name="My services")).to_be_visible()
    expect(page.get_by_role("cell", name=domain, exact=True)).to_have_count(0)
    check_page(page, "services")


def test_cession_declined_by_the_recipient(
    page: Page, open_context, make_person, mailbox: Mailbox, client_area: ClientArea
) -> None:
    owner = make_person()
    recipient = make_person()
    domain = f"{owner.login}-blog.example"
    give_service(client_area, owner.client_number, domain)
    sign_in(page, owner.login)
    order_cession(page, domain, recipient.login, recipient.client_number)
    page.get_by_role("button", name="Order the cession").click()
    page.get_by_role("button", name="Activate free of charge").click()
    expect(page.locator(".lead .badge")).to_have_text("Awaiting confirmations")

    # WHEN the recipient declines from the link in his mail
    other = open_context().new_page()
    other.goto(mailbox.link(recipient.email, "/cession#token="))
    other.get_by_role("button", name="Decline the transfer").click()
    expect(other.get_by_role("status").first).to_contain_text("You have declined the transfer")
    check_page(other, "cession-declined")

    # THEN the owner's order is declined and the service stays
    refresh_until(page, "Declined")
    expect(page.get_by_role("button", name="Cancel the order")).to_have_count(0)
    page.get_by_role("link", name="My orders", exact=True).click()
    expect(page.get_by_role("row", name=re.compile(domain))).to_contain_text("Declined")
    check_page(page, "orders")
    page.get_by_role("link", name="My services", exact=True).click()
    expect(page.get_by_role("cell", name=domain, exact=True)).to_be_visible()
