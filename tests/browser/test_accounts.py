"""Signing up, in and out, and the password reset, as a person does them in the browser."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    PASSWORD,
    Mailbox,
    check_page,
    path_of,
    sign_in,
    tab_to,
    token_storage,
)

NEW_PASSWORD = "a brand new long passphrase 7"


def test_register_verify_then_sign_in(page: Page, mailbox: Mailbox) -> None:
    # GIVEN a person who has no account yet
    email = f"new-{uuid.uuid4().hex[:10]}@example.com"

    # WHEN they register
    page.goto("/register")
    check_page(page, "register")
    page.get_by_label("Full name").fill("Mykola Shevchenko")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    # THEN they are told to check their mail
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(email)
    check_page(page, "register-sent")

    # WHEN they open the link from the mail
    link = mailbox.link(email, "/verify-email#token=")
    page.goto(link)

    # THEN the secret has left the address bar and the history entry
    expect(page.get_by_role("heading", name="Activate your account")).to_be_visible()
    assert path_of(page) == "/verify-email"
    page.go_back()
    page.go_forward()
    assert path_of(page) == "/verify-email"
    check_page(page, "verify-email")

    # WHEN they confirm
    page.reload()  # the reloaded page no longer has the secret: it says so
    expect(page.get_by_text("This page needs the link from your email")).to_be_visible()
    page.goto(link)
    page.get_by_role("button", name="Activate my account").click()

    # THEN the account is active and they can sign in with their email
    expect(page.get_by_role("heading", name="Your account is active")).to_be_visible()
    check_page(page, "verify-email-done")
    page.get_by_role("link", name="Sign in").last.click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    check_page(page, "sign-in")
    page.get_by_label("Login or email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_text("Welcome, Mykola Shevchenko.")).to_be_visible()
    check_page(page, "overview")

    # AND the session lives in sessionStorage only
    storage = token_storage(page)
    assert storage["local"] == []
    assert "clientarea.session" in storage["session"]

    # WHEN they sign out THEN the session is gone and the sign-in page says so
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    check_page(page, "signed-out")
    assert "clientarea.session" not in token_storage(page)["session"]
    page.goto("/account")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_wrong_password_is_said_beside_the_form(page: Page, make_person) -> None:
    person = make_person()
    page.goto("/login")
    page.get_by_label("Login or email").fill(person.login)
    page.get_by_label("Password").fill("not the right password at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("The login or the password is wrong.")
    check_page(page, "sign-in-refused")


def test_forgot_and_reset_with_the_keyboard_alone(
    page: Page, mailbox: Mailbox, make_person, open_context
) -> None:
    # GIVEN an account that is signed in somewhere else too
    person = make_person()
    elsewhere = open_context().new_page()
    sign_in(elsewhere, person.login)

    # WHEN its owner, on the sign-in page, asks for a reset with the keyboard only
    page.goto("/login")
    tab_to(page, page.get_by_role("link", name="Forgot your password?"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    check_page(page, "forgot-password")
    tab_to(page, page.get_by_label("Login or email"))
    page.keyboard.type(person.login)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    check_page(page, "forgot-password-sent")

    # AND opens the link from the mail
    page.goto(mailbox.link(person.email, "/reset-password#token="))

    # THEN the page says how long the link stays valid and explains the rules
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert path_of(page) == "/reset-password"
    expect(
        page.get_by_text(re.compile(r"This link stays valid until .+ \((119|120) minutes left\)"))
    ).to_be_visible()
    expect(page.get_by_text("At least 15 characters and at most 128")).to_be_visible()
    check_page(page, "reset-password")

    # WHEN the new password contains the login THEN the reason is given beside the field
    tab_to(page, page.get_by_label("New password", exact=True))
    page.keyboard.type(f"{person.login} forever and ever")
    page.keyboard.press("Tab")
    page.keyboard.type(f"{person.login} forever and ever")
    page.keyboard.press("Enter")
    expect(page.get_by_text("The password must not contain your login.").first).to_be_visible()

    # WHEN another password is typed twice and sent with Enter
    tab_to(page, page.get_by_label("New password", exact=True))
    page.keyboard.press("Control+A")
    page.keyboard.type(NEW_PASSWORD)
    page.keyboard.press("Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type(NEW_PASSWORD)
    page.keyboard.press("Enter")

    # THEN the password is changed and every old session is gone
    expect(page.get_by_role("heading", name="Your password has been changed")).to_be_visible()
    check_page(page, "reset-password-done")
    elsewhere.get_by_role("link", name="My details", exact=True).click()
    expect(elsewhere.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(elsewhere.get_by_role("status")).to_have_text(
        "Your session has ended. Please sign in again."
    )

    # AND the link does not work twice
    page.goto(mailbox.link(person.email, "/reset-password#token="))
    expect(page.get_by_role("alert")).to_contain_text("This link is no longer valid")
    check_page(page, "reset-password-used")

    # AND the owner signs in with the new password, keyboard only
    page.goto("/login")
    tab_to(page, page.get_by_label("Login or email"))
    page.keyboard.type(person.login)
    page.keyboard.press("Tab")
    page.keyboard.type(NEW_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def test_reset_in_ukrainian(open_context, mailbox: Mailbox, make_person) -> None:
    # GIVEN a Ukrainian-speaking client whose browser asks for Ukrainian
    person = make_person(locale="uk", full_name="Олена Коваленко")
    page = open_context(locale="uk-UA").new_page()

    # WHEN she asks for a reset from the sign-in page ("Забули пароль?")
    page.goto("/login")
    expect(page.get_by_role("heading", name="Вхід в особистий кабінет")).to_be_visible()
    page.get_by_role("link", name="Забули пароль?").click()
    page.get_by_label("Логін або email").fill(person.email)
    page.get_by_role("button", name="Надіслати посилання").click()
    expect(page.get_by_role("heading", name="Перевірте пошту")).to_be_visible()

    # THEN the mail is in Ukrainian and its link opens the page in Ukrainian
    mail = mailbox.wait(person.email, link="/reset-password#token=")
    assert re.search("[а-яіїєґ]", mail["text"], re.IGNORECASE), mail["subject"]
    page.goto(next(url for url in mail["links"] if "/reset-password#token=" in url))
    expect(page.get_by_role("heading", name="Новий пароль")).to_be_visible()
    expect(page.get_by_text("Посилання дійсне до")).to_be_visible()
    check_page(page, "reset-password-uk")
    page.get_by_label("Новий пароль", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Повторіть новий пароль").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Зберегти новий пароль").click()
    expect(page.get_by_role("heading", name="Пароль змінено")).to_be_visible()

    # AND she signs in with it, still in Ukrainian
    page.get_by_role("link", name="Вхід в особистий кабінет").last.click()
    page.get_by_label("Логін або email").fill(person.login)
    page.get_by_label("Пароль").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Увійти").click()
    expect(page.get_by_role("heading", name="Огляд")).to_be_visible()
    expect(page.get_by_text("Вітаємо, Олена Коваленко.")).to_be_visible()
