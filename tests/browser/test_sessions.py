"""Active sessions with "sign out" per row and for all others (API.md: GET
/account/sessions, DELETE /account/sessions/{id}, POST /account/sessions/revoke-others)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import check_page, sign_in


def test_sessions_listed_one_signed_out_then_all_others(
    page: Page, open_context, make_person
) -> None:
    # GIVEN a client signed in on three devices
    person = make_person()
    phone = open_context(user_agent="Mozilla/5.0 (Linux; Android 15) Phone").new_page()
    laptop = open_context(user_agent="Mozilla/5.0 (X11; Linux x86_64) Laptop").new_page()
    sign_in(phone, person.login)
    sign_in(laptop, person.login)
    sign_in(page, person.login)

    # WHEN she looks at her sessions
    page.get_by_role("link", name="My details", exact=True).click()
    page.get_by_role("link", name="Sessions", exact=True).click()
    cards = page.locator(".card")
    expect(cards).to_have_count(3)
    # (the badge itself: "Sign out this session" on the other cards contains the words)
    expect(cards.filter(has=page.get_by_text("This session", exact=True))).to_have_count(1)
    check_page(page, "account-sessions")

    # AND signs out the phone's session
    cards.filter(has_text="Phone").get_by_role("button", name="Sign out this session").click()
    expect(page.get_by_role("status")).to_have_text("The session has been signed out.")
    expect(cards).to_have_count(2)

    # THEN the phone is signed out, the laptop is not
    phone.get_by_role("link", name="My details", exact=True).click()
    expect(phone.get_by_role("heading", name="Sign in")).to_be_visible()
    laptop.get_by_role("link", name="My details", exact=True).click()
    expect(laptop.get_by_role("heading", name="My details")).to_be_visible()

    # WHEN she signs out everywhere else THEN only this session is left
    page.get_by_role("button", name="Sign out everywhere else").click()
    expect(page.get_by_role("status")).to_have_text("Every other session has been signed out.")
    expect(cards).to_have_count(1)
    laptop.get_by_role("link", name="Support", exact=True).click()
    expect(laptop.get_by_role("heading", name="Sign in")).to_be_visible()
