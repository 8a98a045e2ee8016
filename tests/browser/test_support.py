"""Support as people use it: a client's ticket answered in the staff console, the
public "I can't log in" form (seed 003) and a sales question (seed 002)."""

from __future__ import annotations

import re
import uuid

import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    DEMO_PASSWORD,
    ClientArea,
    Mailbox,
    check_page,
    sign_in,
)

TICKET_NUMBER = re.compile(r"TKT-\d+-\d+")


def test_ticket_opened_answered_in_the_console_and_read_by_the_client(
    page: Page, open_context, make_person, mailbox: Mailbox, client_area: ClientArea
) -> None:
    # GIVEN a client with a service
    person = make_person()
    requests.post(
        f"{client_area.api}/_dev/services",
        json={"client_number": person.client_number, "domain": f"{person.login}.example"},
        timeout=10,
    ).raise_for_status()
    sign_in(page, person.login)

    # WHEN the client opens a ticket about it
    page.get_by_role("link", name="Support", exact=True).click()
    expect(page.get_by_role("heading", name="Support tickets")).to_be_visible()
    check_page(page, "tickets-empty")
    page.get_by_role("link", name="Open a ticket").first.click()
    page.get_by_label("Department").select_option("technical")
    page.get_by_label("Service concerned").select_option(
        label=f"{person.login}.example (Hosting Pro)"
    )
    page.get_by_label("Subject").fill("Mail stopped arriving")
    page.get_by_label("Your message").fill("Since this morning no mail reaches info@ on my domain.")
    check_page(page, "ticket-new")
    page.get_by_role("button", name="Open the ticket").click()

    # THEN the thread shows the ticket's number and the message
    heading = page.get_by_role("heading", name=re.compile(r"TKT-.*: Mail stopped arriving"))
    expect(heading).to_be_visible()
    number = TICKET_NUMBER.search(heading.inner_text()).group(0)
    expect(page.get_by_text("Since this morning no mail reaches info@")).to_be_visible()

    # WHEN support answers it in the staff console
    console = open_context().new_page()
    sign_in(console, "staff", DEMO_PASSWORD)
    expect(console.get_by_role("heading", name="Ticket queue")).to_be_visible()
    console.get_by_role("link", name=number).click()
    expect(console.get_by_text(f"Client number{person.client_number}")).to_be_visible()
    check_page(console, "staff-ticket")
    console.get_by_label("Your reply (emailed to the client)").fill(
        "We restarted the mail service for your domain: please try again."
    )
    console.get_by_role("button", name="Send the reply").click()
    expect(console.get_by_role("status")).to_have_text("Your reply has been sent.")

    # AND looks at the client's products: the products and nothing else of the client
    console.get_by_role("link", name=f"Products of client {person.client_number}").click()
    expect(console.get_by_role("cell", name=f"{person.login}.example")).to_be_visible()
    expect(console.get_by_text(person.email)).to_have_count(0)
    check_page(console, "staff-client-products")
    console.get_by_role("link", name="Ticket queue", exact=True).click()
    console.get_by_role("button", name="Answered").click()
    expect(console.get_by_role("link", name=number)).to_be_visible()
    check_page(console, "staff-queue")

    # THEN the client is mailed, and the mail's link shows the reply in the thread
    page.goto(mailbox.link(person.email, f"/tickets/{number}"))
    expect(page.get_by_text("We restarted the mail service for your domain")).to_be_visible()
    expect(page.locator(".lead .badge")).to_have_text("Answered")

    # WHEN the client replies and then closes the ticket
    page.get_by_label("Your reply").fill("It works again, thank you!")
    page.get_by_role("button", name="Send the reply").click()
    expect(page.get_by_text("It works again, thank you!")).to_be_visible()
    check_page(page, "ticket-thread")
    page.get_by_role("button", name="Close the ticket").click()

    # THEN the thread takes no more replies and the list shows it closed
    expect(page.get_by_role("status")).to_contain_text("This ticket is closed.")
    expect(page.get_by_label("Your reply")).to_have_count(0)
    page.get_by_role("link", name="Support", exact=True).click()
    expect(page.get_by_role("row", name=re.compile(number))).to_contain_text("Closed")
    check_page(page, "tickets")


def test_cant_log_in_form_gives_a_ticket_number(page: Page, open_context, make_person) -> None:
    # GIVEN a client who cannot sign in
    person = make_person(full_name="Ivan Petrov")

    # WHEN he fills in "I can't log in" from the sign-in page
    page.goto("/login")
    page.get_by_role("link", name="I can't log in (no access to my email)").click()
    expect(page.get_by_role("heading", name="I can't log in")).to_be_visible()
    check_page(page, "access-request")
    page.get_by_label("Full name").fill("Ivan Petrov")
    page.get_by_label("Registered address").fill("vul. Khreshchatyk 1, Kyiv")
    page.get_by_label("Phone number").fill("+380 44 000 0000")
    page.get_by_label("Login or email of the account").fill(person.login)
    page.get_by_label("What happened?").fill("My old mailbox was closed by my employer.")
    page.get_by_role("button", name="Send").click()

    # THEN the ticket number is shown, large, with the advice to keep it
    expect(page.get_by_role("heading", name="Your ticket number")).to_be_visible()
    number_text = page.locator(".ticket-number").inner_text()
    assert TICKET_NUMBER.fullmatch(number_text.strip())
    font_size = page.locator(".ticket-number").evaluate(
        "(el) => parseFloat(getComputedStyle(el).fontSize)"
    )
    assert font_size >= 32
    expect(page.get_by_text("Write this number down")).to_be_visible()
    check_page(page, "access-request-number")

    # AND staff see what he typed and the account he named
    console = open_context().new_page()
    sign_in(console, "staff", DEMO_PASSWORD)
    console.get_by_role("link", name=number_text.strip()).click()
    expect(console.locator(".lead")).to_contain_text("access request")
    expect(
        console.get_by_text(f"Named account (client number){person.client_number}")
    ).to_be_visible()
    expect(console.get_by_text("vul. Khreshchatyk 1, Kyiv")).to_be_visible()


def test_sales_question_from_anyone(page: Page) -> None:
    page.goto("/login")
    page.get_by_role("link", name="Ask a sales question").click()
    expect(page.get_by_role("heading", name="A sales question")).to_be_visible()
    check_page(page, "sales-question")
    page.get_by_label("Your email").fill(f"buyer-{uuid.uuid4().hex[:8]}@example.org")
    page.get_by_label("Your question").fill("How much is an upgrade from plan H0 to H1?")
    page.get_by_role("button", name="Send the question").click()
    expect(page.get_by_role("heading", name="Your ticket number")).to_be_visible()
    assert TICKET_NUMBER.fullmatch(page.locator(".ticket-number").inner_text().strip())
