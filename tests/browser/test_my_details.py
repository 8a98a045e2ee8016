"""My details: profile and language, password change, contact-email change with its
confirm link, authorised senders (mail from one opens a ticket on the tickets page)."""

from __future__ import annotations

import json
import re
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, ClientArea, Mailbox, check_page, sign_in
from tests.conftest import ROOT

NEW_PASSWORD = "another long passphrase for me 4"


def openapi_has(path: str) -> bool:
    return path in json.loads((ROOT / "docs" / "openapi.json").read_text())["paths"]


def test_profile_language_and_password(page: Page, open_context, make_person) -> None:
    person = make_person(full_name="Maria Silva")
    elsewhere = open_context().new_page()
    sign_in(elsewhere, person.login)
    sign_in(page, person.login)

    # WHEN she adds her phone and chooses Portuguese for the site and her mails
    page.get_by_role("link", name="My details", exact=True).click()
    expect(page.get_by_text(f"{person.client_number}", exact=True)).to_be_visible()
    check_page(page, "account")
    page.get_by_label("Phone").fill("+351 210 000 000")
    page.get_by_label("Language").last.select_option("pt")
    page.get_by_role("button", name="Save").click()

    # THEN the client area speaks Portuguese (Portugal's: "palavra-passe")
    expect(page.get_by_role("heading", name="Os meus dados")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Os seus dados foram guardados.")
    expect(page.get_by_label("Telefone")).to_have_value("+351 210 000 000")
    page.get_by_role("link", name="Palavra-passe").click()
    check_page(page, "account-password-pt")

    # WHEN she changes the password, first with a wrong current one
    page.get_by_label("Palavra-passe atual").fill("this is not my password")
    page.get_by_label("Nova palavra-passe", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repita a nova palavra-passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Alterar a palavra-passe").click()
    expect(page.get_by_text("A palavra-passe está errada.")).to_be_visible()
    page.get_by_label("Palavra-passe atual").fill(PASSWORD)
    page.get_by_role("button", name="Alterar a palavra-passe").click()

    # THEN it is changed, and her other session is signed out
    expect(page.get_by_role("status")).to_contain_text("A palavra-passe foi alterada.")
    elsewhere.get_by_role("link", name="My details", exact=True).click()
    expect(elsewhere.get_by_role("heading", name="Sign in")).to_be_visible()


def test_contact_email_change_confirmed_from_the_new_mailbox(
    page: Page, make_person, mailbox: Mailbox
) -> None:
    # GIVEN a client whose contact email is out of date (seed 000, point 2)
    person = make_person()
    new_email = f"new-{uuid.uuid4().hex[:10]}@example.org"
    sign_in(page, person.login)

    # WHEN he asks for the change under My details, with his password
    page.get_by_role("link", name="My details", exact=True).click()
    page.get_by_role("link", name="Contact email", exact=True).click()
    check_page(page, "account-email")
    page.get_by_label("New email address").fill(new_email)
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_role("button", name="Send the confirmation link").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"We have sent a confirmation link to {new_email}"
    )

    # THEN the old address is told, and nothing changes until the link is opened
    assert mailbox.count(person.email) >= 2  # the verification mail, then the notice
    expect(page.locator(".facts dd").first).to_have_text(person.email)

    # WHEN he opens the link from the new mailbox and confirms
    page.goto(mailbox.link(new_email, "/email-change/confirm#token="))
    expect(page.get_by_role("heading", name="Confirm your new contact email")).to_be_visible()
    check_page(page, "email-change-confirm")
    page.get_by_role("button", name="Confirm the new address").click()

    # THEN the new address is the contact email
    expect(page.get_by_role("status")).to_have_text(f"Done: {new_email} is now your contact email.")
    page.get_by_role("link", name="My details", exact=True).first.click()
    expect(page.locator(".facts dd").nth(2)).to_have_text(new_email)


def raw_mail(sender: str, to: str, subject: str, body: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = formatdate()
    mail["Message-ID"] = make_msgid(domain="example.net")
    mail.set_content(body)
    return bytes(mail)


def test_authorised_sender_opens_a_ticket_by_mail(
    page: Page, make_person, mailbox: Mailbox, client_area: ClientArea
) -> None:
    # GIVEN a client whose colleague writes to support from her own address (seed 002)
    person = make_person()
    colleague = f"office-{uuid.uuid4().hex[:8]}@example.net"
    sign_in(page, person.login)

    # WHEN the client authorises that address
    page.get_by_role("link", name="My details", exact=True).click()
    page.get_by_role("link", name="Authorised senders", exact=True).click()
    page.get_by_label("Email address").fill(colleague)
    page.get_by_role("button", name="Send a confirmation link").click()
    expect(page.get_by_role("status")).to_contain_text(colleague)
    row = page.get_by_role("row", name=re.compile(re.escape(colleague)))
    expect(row).to_be_visible()
    check_page(page, "account-authorised-senders")

    if openapi_has("/account/authorised-emails/confirm"):
        # THEN it waits for a confirmation from that mailbox (API.md: pending)
        expect(row).to_contain_text("Waiting for confirmation")
        landing = page.context.new_page()
        landing.goto(mailbox.link(colleague, "/authorised-emails/confirm#token="))
        check_page(landing, "authorised-sender-confirm")
        landing.get_by_role("button", name="Confirm this address").click()
        expect(landing.get_by_role("status")).to_have_text(
            f"{colleague} is now an authorised sender."
        )
        page.reload()
    expect(page.get_by_role("row", name=re.compile(re.escape(colleague)))).to_contain_text(
        "Confirmed"
    )

    # WHEN mail from that address reaches support
    delivered = requests.post(
        f"{client_area.api}/_dev/inbound-mail",
        params={"to": "support"},
        data=raw_mail(
            colleague,
            "support@clientarea.test",
            "Backup restore",
            "Please restore yesterday's backup.",
        ),
        timeout=30,
    )
    assert delivered.json()["result"] == "ticket_opened", delivered.text
    number = delivered.json()["number"]

    # THEN the ticket is on the client's tickets page, its message by email
    page.get_by_role("link", name="Support", exact=True).click()
    page.get_by_role("link", name=number).click()
    expect(page.get_by_text("Please restore yesterday's backup.")).to_be_visible()
    expect(page.get_by_text("by email")).to_be_visible()

    # WHEN the client removes the address THEN it is gone from the list
    page.get_by_role("link", name="My details", exact=True).click()
    page.get_by_role("link", name="Authorised senders", exact=True).click()
    page.get_by_role("button", name=f"Remove {colleague}").click()
    expect(page.get_by_role("row", name=re.compile(re.escape(colleague)))).to_have_count(0)
