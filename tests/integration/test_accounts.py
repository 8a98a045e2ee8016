"""Accounts and sessions (API.md "Conventions" and "Accounts and sessions"), end to end.

Most tests run twice through the `client` fixture: in-process through the real
handlers on moto, and over HTTP against the dev server (shared by every test of a
session, hence a unique address per test).
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest

from infra.local.deployment import DEV_FRONTEND_URL
from infra.local.gateway import LocalApi
from infra.local.stack import Route
from tests.clients import ApiClient, HttpClient, InProcessClient, Reply
from tests.support.accounts import (
    PASSWORD,
    fresh_email,
    guess_until_locked,
    log_in,
    register_and_verify,
)
from tests.support.leaks import INTERNALS
from tests.support.replies import expect_error

DAY = 24 * 3600
SESSION_TTL = 12 * 3600
FRONTEND = DEV_FRONTEND_URL  # the dev deployment's FrontendUrl
ACCOUNT_FIELDS = {
    "client_number",
    "login",
    "email",
    "full_name",
    "phone",
    "address",
    "locale",
    "authorised_emails",
    "email_undeliverable",
}
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
POLISH = re.compile(r"[ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]")


# --- helpers ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_server_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """No reply any test here receives is a 5xx: nothing in this module sends input a
    server could fail on. (That no reply names the internals, every test checks:
    tests/support/leaks.py.)"""
    for cls in (InProcessClient, HttpClient):
        original = cls.request

        def checked(self, method, path, *args, _original=original, **kwargs):
            reply = _original(self, method, path, *args, **kwargs)
            text = reply.body.decode("utf-8", errors="replace")
            assert reply.status < 500, f"{method} {path} answered {reply.status}: {text[:500]}"
            return reply

        monkeypatch.setattr(cls, "request", checked)


def _login_name() -> str:
    return f"u{uuid.uuid4().hex[:10]}"


def _register(client: ApiClient, email: str, password: str = PASSWORD, **fields: Any) -> Reply:
    body = {"email": email, "password": password, "full_name": "Test User", **fields}
    return client.post("/auth/register", body)


def _verification_mails(client: ApiClient, email: str, count: int = 1) -> list[dict[str, Any]]:
    mails = client.mails(email, count=count)
    return [m for m in mails if any("/verify-email#token=" in link for link in m["links"])]


def _token_of(mail: dict[str, Any]) -> str:
    return next(link for link in mail["links"] if "#token=" in link).split("#token=", 1)[1]


def _session(client: ApiClient, login: str, password: str = PASSWORD) -> Reply:
    return client.post("/auth/login", {"login": login, "password": password})


# --- POST /auth/register and POST /auth/verify-email -----------------------------------


def test_new_address_gets_a_verification_link_that_activates_the_account(client):
    # GIVEN an address nobody has registered
    email = fresh_email()
    # WHEN someone registers it
    reply = _register(client, email, full_name="Olena Test")
    # THEN the answer is 202 with an empty object
    assert reply.status == 202
    assert reply.json() == {}
    # AND no account exists yet: the password does not log in before verification
    expect_error(_session(client, email), 401, "invalid_credentials")
    # AND one verification mail arrives with a link to the frontend, secret in the fragment
    [mail] = _verification_mails(client, email)
    link = next(link for link in mail["links"] if "#token=" in link)
    assert link.startswith(f"{FRONTEND}/verify-email#token=")
    # WHEN the page posts the link's token
    verified = client.post("/auth/verify-email", {"token": _token_of(mail)})
    # THEN the account is active, with a numeric client number and a login
    assert verified.status == 200
    body = verified.json()
    assert set(body) == {"client_number", "login"}
    assert isinstance(body["client_number"], int)
    assert body["login"]
    # AND a welcome mail (not the verification mail, sent before they existed) tells
    # the login and client number the account got
    [welcome] = [m for m in client.mails(email, count=2) if "ready" in m["subject"]]
    assert body["login"] in welcome["text"]
    assert str(body["client_number"]) in welcome["text"]
    # AND the account logs in with its password
    assert _session(client, email).status == 200


def test_links_point_at_the_frontend_not_at_the_request_host(client):
    # GIVEN a request that claims to come through another host
    email = fresh_email()
    headers = {"Host": "evil.example.net", "X-Forwarded-Host": "evil.example.net"}
    body = {"email": email, "password": PASSWORD, "full_name": "Test User"}
    # WHEN it registers an address
    assert client.post("/auth/register", body, headers=headers).status == 202
    # THEN every link in the mail points at the configured frontend
    [mail] = client.mails(email)
    assert mail["links"]
    assert all(link.startswith(FRONTEND + "/") for link in mail["links"]), mail["links"]
    assert "evil.example.net" not in mail["text"] + mail["html"]


def test_registered_address_gets_a_notice_and_the_same_answer(client):
    # GIVEN an address that already has an account
    email = fresh_email()
    register_and_verify(client, email)
    # AND the answer a brand-new address gets
    fresh = _register(client, fresh_email())
    # WHEN someone registers the same address again (other capitalisation, other name)
    again = _register(
        client, email.upper().replace("@EXAMPLE.COM", "@example.com"), full_name="Mallory"
    )
    # THEN status, body and content type are exactly those of a new registration
    assert (again.status, again.body) == (fresh.status, fresh.body) == (202, b"{}")
    assert again.header("Content-Type") == fresh.header("Content-Type")
    # AND the owner gets a "someone tried to register" notice, not a verification link
    mails = client.mails(email, count=3)  # verification, welcome, notice
    assert len(mails) == 3, [m["subject"] for m in mails]
    notice = mails[-1]
    assert "tried to register" in notice["subject"]
    assert not any("#token=" in link for link in notice["links"])
    assert len(_verification_mails(client, email)) == 1
    # AND the existing account is untouched: its password still logs in
    assert _session(client, email).status == 200


def test_registration_notice_follows_the_owners_language(client):
    # GIVEN an account whose owner speaks Ukrainian
    email = fresh_email()
    register_and_verify(client, email, locale="uk")
    # WHEN someone registers the address with English as their language
    assert _register(client, email, locale="en").status == 202
    # THEN the owner's notice is in Ukrainian
    notice = client.mails(email, count=2)[-1]
    assert CYRILLIC.search(notice["subject"]), notice["subject"]
    assert CYRILLIC.search(notice["text"])


WEAK_PASSWORDS = [
    # (password template, choose the login?, reason)
    ("fourteen chars", False, "too_short"),
    ("x1" + "abcdefghijklmnopqrstuvwxyz0123456789" * 4, False, "too_long"),  # 146 characters
    ("passwordpassword", False, "common"),  # a word typed twice
    ("abcabcabcabcabc", False, "common"),  # a 15-character repetition
    ("1q2w3e4r5t6y7u8i9o0p", False, "common"),  # from the common-password list
    ("the {login} is my passphrase", True, "contains_login"),
    ("the {local} is my passphrase", False, "contains_email"),
]


def test_weak_password_is_refused_with_its_reason(client):
    email = fresh_email()
    login = _login_name()
    for template, choose_login, reason in WEAK_PASSWORDS:
        # GIVEN a registration whose password breaks one rule (login and email in upper case)
        password = template.format(login=login.upper(), local=email.split("@")[0].upper())
        body = {"email": email, "password": password, "full_name": "Test User"}
        if choose_login:
            body["login"] = login
        # WHEN it is sent
        reply = client.post("/auth/register", body)
        # THEN it is refused with 422 weak_password naming the rule
        assert expect_error(reply, 422, "weak_password")["reason"] == reason, template
    # AND nothing was started: a later valid registration is the only mail the address gets
    assert _register(client, email).status == 202
    mails = client.mails(email)
    assert len(mails) == 1 and len(_verification_mails(client, email)) == 1


def test_password_length_limits_over_the_api(client):
    # GIVEN passwords of exactly 15 and 128 characters
    fifteen = "Trombone-Sky-7q"
    longest = ("Rq7" + uuid.uuid4().hex * 4)[:128]
    assert (len(fifteen), len(longest)) == (15, 128)
    # WHEN they are registered / THEN both are accepted
    assert _register(client, fresh_email(), fifteen).status == 202
    assert _register(client, fresh_email(), longest).status == 202
    # AND one character fewer or more is refused
    assert (
        expect_error(_register(client, fresh_email(), fifteen[:14]), 422, "weak_password")["reason"]
        == "too_short"
    )
    assert (
        expect_error(_register(client, fresh_email(), longest + "x"), 422, "weak_password")[
            "reason"
        ]
        == "too_long"
    )


def test_invalid_email_is_refused(client):
    for address in (
        "not-an-email",
        "user@@example.com",
        "user@example",
        "user@exa mple.com",
        "@example.com",
    ):
        # GIVEN an address that cannot receive mail as written
        # WHEN it is registered / THEN 422 invalid_email
        expect_error(_register(client, address), 422, "invalid_email")


def test_missing_fields_are_named_in_validation_errors(client):
    # GIVEN an empty registration
    # WHEN it is sent
    body = expect_error(client.post("/auth/register", {}), 422, "validation_error")
    # THEN every missing field is named, each error with loc, msg and type
    assert body["errors"]
    for item in body["errors"]:
        assert set(item) >= {"loc", "msg", "type"}
        assert (
            isinstance(item["loc"], list)
            and isinstance(item["msg"], str)
            and isinstance(item["type"], str)
        )
    named = {item["loc"][-1] for item in body["errors"]}
    assert named >= {"email", "password", "full_name"}


def test_unknown_field_is_refused(client):
    # GIVEN a registration that also tries to set a field the contract does not have
    email = fresh_email()
    body = {"email": email, "password": PASSWORD, "full_name": "Test User", "role": "admin"}
    # WHEN it is sent / THEN 422 validation_error names the field
    error = expect_error(client.post("/auth/register", body), 422, "validation_error")
    assert any(item["loc"][-1] == "role" for item in error["errors"]), error
    # AND no verification mail was sent for it
    assert _register(client, email).status == 202
    assert len(client.mails(email)) == 1


def test_chosen_login_is_used(client):
    # GIVEN a registration that chooses its login
    email = fresh_email()
    login = _login_name()
    # WHEN it is verified
    created = register_and_verify(client, email, login=login)
    # THEN the account has that login, and it logs in with it in any case
    assert created["login"] == login
    assert _session(client, login.upper()).status == 200
    # AND the welcome mail named it
    assert any(login in m["text"] for m in client.mails(email, count=2) if "ready" in m["subject"])


def test_default_login_is_generated_and_unique(client):
    # GIVEN two registrations without a chosen login
    first = register_and_verify(client, fresh_email())
    second = register_and_verify(client, fresh_email())
    # THEN each gets a login of its own that logs in
    assert first["login"] and second["login"] and first["login"] != second["login"]
    assert _session(client, first["login"]).status == 200


def test_invalid_login_is_refused(client):
    email = fresh_email()
    for login in (
        "a",
        "ab",
        "has space",
        "client123",
        "Client42",
        "-dash",
        "x" * 33,
        "émile",
        "a/b",
    ):
        # GIVEN a login that breaks the login rules (too short or long, bad characters,
        # or the reserved shape of generated logins)
        # WHEN it is chosen at registration / THEN 422 invalid_login
        expect_error(_register(client, email, login=login), 422, "invalid_login")
    # AND none of them started a registration
    assert _register(client, email).status == 202
    assert len(client.mails(email)) == 1


def test_two_pending_registrations_first_verified_wins(client):
    # GIVEN two registrations of one address before either is verified
    email = fresh_email()
    assert _register(client, email, full_name="First Try").status == 202
    assert _register(client, email, full_name="Second Try").status == 202
    # THEN both links exist and differ
    mails = _verification_mails(client, email, count=2)
    assert len(mails) == 2
    first_token, second_token = _token_of(mails[0]), _token_of(mails[1])
    assert first_token != second_token
    # WHEN the second link is followed first
    won = client.post("/auth/verify-email", {"token": second_token})
    assert won.status == 200
    # THEN the other link is dead
    expect_error(client.post("/auth/verify-email", {"token": first_token}), 410, "token_invalid")
    # AND the one account is the one whose link was followed
    token = log_in(client, email)
    account = client.get("/account", token=token).json()
    assert account["full_name"] == "Second Try"
    assert account["client_number"] == won.json()["client_number"]


def test_every_account_gets_a_unique_numeric_client_number(client):
    # GIVEN three accounts
    numbers = [register_and_verify(client, fresh_email())["client_number"] for _ in range(3)]
    # THEN each client number is an integer of its own
    assert all(isinstance(number, int) and number > 0 for number in numbers)
    assert len(set(numbers)) == 3


def test_client_numbers_do_not_reveal_registered_addresses(client):
    # GIVEN an address that already has an account
    registered = fresh_email()
    register_and_verify(client, registered)

    def gap_around(address: str) -> int:
        """How far apart the client numbers of two own registrations made around
        a registration of `address` are: what a requester can see in its own mails."""
        before = register_and_verify(client, fresh_email())["client_number"]
        assert _register(client, address).status == 202
        after = register_and_verify(client, fresh_email())["client_number"]
        return after - before

    # WHEN a requester registers an address of its own, then the address, then another
    # THEN the numbers it gets back look the same whether the address was taken or new
    assert gap_around(registered) == gap_around(fresh_email())


def test_verification_mail_names_the_login_the_account_gets(client):
    # GIVEN an account that already holds a login
    login = _login_name()
    register_and_verify(client, fresh_email(), login=login)
    # WHEN someone else registers choosing that login
    email = fresh_email()
    reply = _register(client, email, login=login)
    if reply.status == 422:
        # refusing the taken login up front is an honest answer too
        assert reply.json()["code"] in {"invalid_login", "login_taken"}
        return
    assert reply.status == 202
    [mail] = client.mails(email)
    # AND verifies
    created = client.post("/auth/verify-email", {"token": _token_of(mail)}).json()
    # THEN the account did not take the other person's login
    assert created["login"] != login
    # AND the mail did not tell them to sign in with it
    assert login not in mail["text"], mail["text"]


def test_verification_link_works_once(client):
    # GIVEN a verified registration
    email = fresh_email()
    assert _register(client, email).status == 202
    token = client.mail_link_token(email)
    assert client.post("/auth/verify-email", {"token": token}).status == 200
    # WHEN the same link is followed again
    reply = client.post("/auth/verify-email", {"token": token})
    # THEN it is 410 token_invalid
    expect_error(reply, 410, "token_invalid")


def test_garbage_verification_tokens_are_gone(client):
    for token in (
        "garbage",
        "100001." + "A" * 43,
        "100001",
        "." + "A" * 43,
        "../../etc/passwd",
        "x" * 512,
    ):
        # GIVEN a token nobody issued
        # WHEN it is posted / THEN 410 token_invalid, like any dead link
        expect_error(client.post("/auth/verify-email", {"token": token}), 410, "token_invalid")


def test_verification_token_body_is_validated(client):
    # GIVEN token bodies of the wrong type or size
    # THEN they are validation errors, not crashes
    expect_error(client.post("/auth/verify-email", {}), 422, "validation_error")
    expect_error(client.post("/auth/verify-email", {"token": ""}), 422, "validation_error")
    expect_error(client.post("/auth/verify-email", {"token": 12345}), 422, "validation_error")
    expect_error(client.post("/auth/verify-email", {"token": "x" * 513}), 422, "validation_error")


def test_verification_link_is_valid_for_24_hours(client):
    # GIVEN two registrations made now
    early, late = fresh_email(), fresh_email()
    started = time.time()
    assert _register(client, early).status == 202
    assert _register(client, late).status == 202
    issued_by = time.time()
    early_token = client.mail_link_token(early)
    late_token = client.mail_link_token(late)
    # WHEN the clock reaches one second before 24 h after the first link was issued
    # (it was issued after `started`, so this is at most 24 h - 1 s after it)
    first_advance = DAY - 1 - (time.time() - started)
    client.advance_clock(first_advance)
    # THEN that link still works
    assert client.post("/auth/verify-email", {"token": early_token}).status == 200
    # WHEN the clock passes 24 h + 1 s after the second link was issued
    # (it was issued before `issued_by`, so this is at least 24 h + 1 s after it)
    client.advance_clock(DAY + 1 - first_advance - (time.time() - issued_by))
    # THEN that link is gone, and no account was created for it
    expect_error(client.post("/auth/verify-email", {"token": late_token}), 410, "token_invalid")
    expect_error(_session(client, late), 401, "invalid_credentials")


# --- POST /auth/login ---------------------------------------------------------------


def test_login_by_login_or_email_in_any_case(client):
    # GIVEN a verified account with a chosen login
    email = fresh_email()
    login = _login_name()
    register_and_verify(client, email, login=login)
    # WHEN it logs in by login or by email, in any capitalisation
    for name in (login, login.upper(), email, email.upper(), f"  {email}  "):
        reply = _session(client, name)
        # THEN each gives a session token and its expiry 12 hours ahead
        assert reply.status == 200, (name, reply.body)
        body = reply.json()
        assert set(body) == {"session_token", "expires_at"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["expires_at"])
        assert client.get("/account", token=body["session_token"]).json()["email"] == email


def test_unknown_login_and_wrong_password_look_alike(client, account):
    # GIVEN an existing account and a login nobody has
    # WHEN each is tried with a wrong password
    wrong = _session(client, account["email"], "not the right password at all")
    unknown = _session(client, fresh_email(), "not the right password at all")
    unknown_login = _session(client, _login_name(), "not the right password at all")
    # THEN all answers are the same 401 invalid_credentials, byte for byte
    expect_error(wrong, 401, "invalid_credentials")
    assert (
        (wrong.status, wrong.body)
        == (unknown.status, unknown.body)
        == (unknown_login.status, unknown_login.body)
    )


def test_login_body_is_validated(client):
    # GIVEN login bodies that are missing fields
    # THEN they are 422 validation errors
    expect_error(client.post("/auth/login", {"login": "someone"}), 422, "validation_error")
    expect_error(client.post("/auth/login", {"password": PASSWORD}), 422, "validation_error")
    expect_error(
        client.post("/auth/login", {"login": "", "password": PASSWORD}), 422, "validation_error"
    )


def test_five_wrong_passwords_pause_the_login_for_15_minutes(client):
    # GIVEN an account and an unrelated one
    email = fresh_email()
    register_and_verify(client, email)
    bystander = register_and_verify(client, fresh_email())
    # WHEN five wrong passwords are tried in a row with its address
    for attempt in range(5):
        expect_error(
            _session(client, email, f"wrong password number {attempt}"), 401, "invalid_credentials"
        )
    # THEN even the right password is answered 429 rate_limited with Retry-After
    paused = _session(client, email)
    expect_error(paused, 429, "rate_limited")
    retry_after = paused.header("Retry-After")
    assert retry_after is not None and retry_after.isdigit()
    assert 1 <= int(retry_after) <= 15 * 60
    # AND other accounts are not affected
    assert _session(client, bystander["login"]).status == 200
    # WHEN 15 minutes have passed
    client.advance_clock(15 * 60 + 1)
    # THEN the right password works again
    assert _session(client, email).status == 200
    # AND the count started over: one wrong password is a plain 401 again
    expect_error(_session(client, email, "wrong once more, sorry"), 401, "invalid_credentials")
    assert _session(client, email).status == 200


def test_four_wrong_passwords_then_the_right_one_resets_the_count(client):
    # GIVEN an account with four wrong passwords in a row (one short of the pause)
    email = fresh_email()
    register_and_verify(client, email)
    for attempt in range(4):
        expect_error(
            _session(client, email, f"wrong password number {attempt}"), 401, "invalid_credentials"
        )
    # WHEN the owner then logs in
    assert _session(client, email).status == 200
    # THEN four more wrong passwords still do not pause the account
    for attempt in range(4):
        expect_error(
            _session(client, email, f"wrong password again {attempt}"), 401, "invalid_credentials"
        )
    assert _session(client, email).status == 200


# --- POST /auth/logout ----------------------------------------------------------------


def test_logout_ends_only_this_session(client, account):
    # GIVEN two sessions of one account
    other = log_in(client, account["email"])
    # WHEN the first logs out
    reply = client.post("/auth/logout", token=account["token"])
    # THEN 204 with no body
    assert reply.status == 204
    assert reply.body == b""
    # AND that token no longer opens the account
    expect_error(client.get("/account", token=account["token"]), 401, "unauthorized")
    # AND a second logout with it is refused too
    expect_error(client.post("/auth/logout", token=account["token"]), 401, "unauthorized")
    # BUT the other session still works
    assert client.get("/account", token=other).status == 200


def test_logout_needs_a_session(client):
    # GIVEN no session / WHEN logging out / THEN 401
    expect_error(client.post("/auth/logout"), 401, "unauthorized")


# --- GET /account -------------------------------------------------------------------


def test_account_shows_exactly_the_contract_fields(client, account):
    # GIVEN a logged-in account
    # WHEN it reads itself
    reply = client.get("/account", token=account["token"])
    # THEN exactly the contract's fields come back, with the account's values
    assert reply.status == 200
    body = reply.json()
    assert set(body) == ACCOUNT_FIELDS
    assert body["client_number"] == account["client_number"]
    assert body["login"] == account["login"]
    assert body["email"] == account["email"]
    assert body["full_name"] == "Test User"
    assert body["phone"] is None and body["address"] is None
    assert body["locale"] == "en"
    assert body["authorised_emails"] == []
    assert body["email_undeliverable"] is False
    # AND nothing secret is in it
    assert "password" not in reply.body.decode() and "hash" not in reply.body.decode()


def test_account_needs_a_valid_session(client, account):
    number, _, secret = account["token"].partition(".")
    attempts = {
        "no token": {},
        "garbage": {"token": "garbage"},
        "wrong secret": {"token": f"{number}.{'A' * len(secret)}"},
        "other client number": {"token": f"{int(number) + 1000}.{secret}"},
        "basic auth": {"headers": {"Authorization": "Basic dXNlcjpwYXNz"}},
        "empty bearer": {"headers": {"Authorization": "Bearer "}},
    }
    # GIVEN requests without a valid session
    for name, kwargs in attempts.items():
        # WHEN they read the account / THEN 401 unauthorized
        reply = client.get("/account", **kwargs)
        assert reply.status == 401, (name, reply.body)
        assert reply.json()["code"] == "unauthorized", name
        assert account["email"] not in reply.body.decode()
    # AND the real token still works
    assert client.get("/account", token=account["token"]).status == 200


def test_session_expires_after_12_hours(client, account):
    # GIVEN a session opened now and used every 25 minutes (an idle one ends after 30:
    # test_sessions.py)
    used = 0
    while used + 25 * 60 <= SESSION_TTL - 60:
        client.advance_clock(25 * 60)
        used += 25 * 60
        assert client.get("/account", token=account["token"]).status == 200
    # WHEN almost 12 hours pass, it still works
    client.advance_clock(SESSION_TTL - 60 - used)
    assert client.get("/account", token=account["token"]).status == 200
    # WHEN 12 hours and a second have passed
    client.advance_clock(61)
    # THEN it is refused
    expect_error(client.get("/account", token=account["token"]), 401, "unauthorized")
    # AND logging in again gives a working session
    assert client.get("/account", token=log_in(client, account["email"])).status == 200


# --- PATCH /account -----------------------------------------------------------------


def test_patch_sets_and_clears_profile_fields(client, account):
    token = account["token"]
    # GIVEN an account without phone or address
    # WHEN the owner sets name, phone and address
    reply = client.patch(
        "/account",
        {
            "full_name": "Ivan Petrenko",
            "phone": "+380 44 123 45 67",
            "address": "Khreshchatyk 1, Kyiv",
        },
        token=token,
    )
    # THEN the updated account comes back, with every contract field
    assert reply.status == 200
    body = reply.json()
    assert set(body) == ACCOUNT_FIELDS
    assert (body["full_name"], body["phone"], body["address"]) == (
        "Ivan Petrenko",
        "+380 44 123 45 67",
        "Khreshchatyk 1, Kyiv",
    )
    # AND it is stored
    assert client.get("/account", token=token).json() == body
    # WHEN phone and address are cleared with null
    cleared = client.patch("/account", {"phone": None, "address": None}, token=token)
    # THEN they are null and the rest is unchanged
    assert cleared.status == 200
    assert (cleared.json()["phone"], cleared.json()["address"]) == (None, None)
    assert client.get("/account", token=token).json()["full_name"] == "Ivan Petrenko"


def test_patch_cannot_touch_fields_outside_the_contract(client, account):
    token = account["token"]
    # GIVEN an owner who tries to change their email, login, client number or role
    for field, value in (
        ("email", fresh_email()),
        ("login", _login_name()),
        ("client_number", 1),
        ("role", "admin"),
        ("authorised_emails", ["x@example.com"]),
        ("email_undeliverable", False),  # only SES's feedback and an email change set it
    ):
        # WHEN it is sent / THEN 422 validation_error
        expect_error(client.patch("/account", {field: value}, token=token), 422, "validation_error")
    # AND the account is unchanged
    body = client.get("/account", token=token).json()
    assert (body["email"], body["login"], body["client_number"]) == (
        account["email"],
        account["login"],
        account["client_number"],
    )


def test_patch_refuses_values_out_of_bounds(client, account):
    for change in (
        {"phone": "1" * 41},
        {"address": "a" * 501},
        {"full_name": "n" * 201},
        {"full_name": ""},
        {"locale": "x" * 36},
        {"phone": 12345},
    ):
        # GIVEN a value longer (or shorter, or of another type) than the account allows
        # WHEN it is sent / THEN 422 validation_error names the field
        error = expect_error(
            client.patch("/account", change, token=account["token"]), 422, "validation_error"
        )
        [field] = change
        assert any(item["loc"][-1] == field for item in error["errors"]), error
    # AND the account is unchanged
    body = client.get("/account", token=account["token"]).json()
    assert (body["full_name"], body["phone"], body["address"], body["locale"]) == (
        "Test User",
        None,
        None,
        "en",
    )


def test_patch_needs_a_session(client):
    expect_error(client.patch("/account", {"full_name": "x"}), 401, "unauthorized")


def test_locale_uk_makes_errors_ukrainian_for_the_session(client, account):
    token = account["token"]
    too_long = {"phone": "1" * 41}
    wrong_password = {
        "current_password": "not my password, sorry",
        "new_password": "whatever new pass 1",
    }
    # GIVEN the English messages of a validation error and a wrong password
    english_422 = expect_error(
        client.patch("/account", too_long, token=token), 422, "validation_error"
    )
    english_401 = expect_error(
        client.put("/account/password", wrong_password, token=token), 401, "invalid_credentials"
    )
    # WHEN the owner switches the account to Ukrainian
    reply = client.patch("/account", {"locale": "uk"}, token=token)
    assert reply.status == 200 and reply.json()["locale"] == "uk"
    # THEN the same mistakes, in the same session, are explained in Ukrainian
    ukrainian_422 = expect_error(
        client.patch("/account", too_long, token=token), 422, "validation_error"
    )
    ukrainian_401 = expect_error(
        client.put("/account/password", wrong_password, token=token), 401, "invalid_credentials"
    )
    assert ukrainian_422["message"] != english_422["message"]
    assert CYRILLIC.search(ukrainian_422["message"])
    assert ukrainian_401["message"] != english_401["message"]
    assert CYRILLIC.search(ukrainian_401["message"])
    # AND the account's locale wins over the browser's Accept-Language
    by_header = client.patch("/account", too_long, token=token, headers={"Accept-Language": "pl"})
    assert expect_error(by_header, 422, "validation_error")["message"] == ukrainian_422["message"]


def test_unsupported_locale_falls_back_to_english(client, account):
    token = account["token"]
    # GIVEN an account in Ukrainian
    assert client.patch("/account", {"locale": "uk"}, token=token).json()["locale"] == "uk"
    # WHEN the owner asks for a language the service does not have
    reply = client.patch("/account", {"locale": "xx"}, token=token)
    # THEN the account falls back to English, and errors are English again
    assert reply.status == 200
    assert reply.json()["locale"] == "en"
    error = expect_error(
        client.patch("/account", {"phone": "1" * 41}, token=token), 422, "validation_error"
    )
    assert not CYRILLIC.search(error["message"])


def test_locale_region_tags_map_to_the_language(client, account):
    # GIVEN a locale written with a region ("pt-BR")
    # WHEN it is set / THEN the account speaks the supported language
    reply = client.patch("/account", {"locale": "pt-BR"}, token=account["token"])
    assert reply.status == 200
    assert reply.json()["locale"] == "pt"


# --- PUT /account/password ----------------------------------------------------------


def test_password_change_ends_other_sessions_and_notifies(client, account):
    new_password = "a brand new passphrase 77"
    # GIVEN two sessions of one account
    other = log_in(client, account["email"])
    # WHEN the password is changed from the first
    reply = client.put(
        "/account/password",
        {"current_password": PASSWORD, "new_password": new_password},
        token=account["token"],
    )
    # THEN 204 with no body
    assert reply.status == 204
    assert reply.body == b""
    # AND the other session is over, while the caller's own one goes on
    expect_error(client.get("/account", token=other), 401, "unauthorized")
    assert client.get("/account", token=account["token"]).status == 200
    # AND the new password logs in and the old one does not
    assert _session(client, account["email"], new_password).status == 200
    expect_error(_session(client, account["email"]), 401, "invalid_credentials")
    # AND a "password changed" notice arrives at the contact address, without the password
    mails = client.mails(account["email"], count=2)
    notice = mails[-1]
    assert "password was changed" in notice["subject"]
    assert new_password not in notice["text"] and new_password not in notice["html"]
    assert all(link.startswith(FRONTEND + "/") for link in notice["links"])


def test_password_change_with_wrong_current_password(client, account):
    other = log_in(client, account["email"])
    # GIVEN a session / WHEN the current password given is wrong
    reply = client.put(
        "/account/password",
        {"current_password": "this is not it at all", "new_password": "a brand new passphrase 77"},
        token=account["token"],
    )
    # THEN 401 invalid_credentials
    expect_error(reply, 401, "invalid_credentials")
    # AND nothing changed: old password works, new does not, the sessions live on
    assert _session(client, account["email"]).status == 200
    expect_error(
        _session(client, account["email"], "a brand new passphrase 77"), 401, "invalid_credentials"
    )
    assert client.get("/account", token=other).status == 200
    assert client.get("/account", token=account["token"]).status == 200


def test_wrong_current_passwords_count_as_login_failures(client, account):
    def change(current: str) -> Reply:
        body = {"current_password": current, "new_password": "a brand new passphrase 77"}
        return client.put("/account/password", body, token=account["token"])

    # GIVEN five wrong current passwords on the change route, from a signed-in session
    # THEN the right one is refused too, for a while (the session cannot guess on), and
    # so is signing in with it: it is the login throttle of the account's address
    guess_until_locked(client, account["email"], change)
    # AND the password is unchanged; after the 15-minute window the change goes through
    client.advance_clock(15 * 60 + 1)
    assert _session(client, account["email"]).status == 200
    assert change(PASSWORD).status == 204


def test_password_change_to_a_weak_password(client, account):
    other = log_in(client, account["email"])
    for new_password, reason in (
        ("too short pw", "too_short"),
        ("passwordpassword", "common"),
        (f"{account['email']} is my new one", "contains_email"),
        (f"my login {account['login']} again", "contains_login"),
    ):
        # GIVEN the right current password and a weak new one
        body = {"current_password": PASSWORD, "new_password": new_password}
        # WHEN the change is sent
        reply = client.put("/account/password", body, token=account["token"])
        # THEN 422 weak_password names the rule
        assert expect_error(reply, 422, "weak_password")["reason"] == reason, new_password
    # AND the password and the other sessions are unchanged
    assert client.get("/account", token=other).status == 200
    assert _session(client, account["email"]).status == 200


def test_password_change_body_and_session_are_checked(client, account):
    # GIVEN a change without its fields, or without a session
    # THEN 422 and 401 respectively
    expect_error(
        client.put("/account/password", {"new_password": "x" * 20}, token=account["token"]),
        422,
        "validation_error",
    )
    expect_error(
        client.put(
            "/account/password",
            {"current_password": PASSWORD, "new_password": "a brand new passphrase 77"},
        ),
        401,
        "unauthorized",
    )
    assert _session(client, account["email"]).status == 200


# --- staff boundary -----------------------------------------------------------------


class _StackWithStaffRoute:
    """template.yaml's stack plus one authorized /staff/... route, until real ones exist."""

    def __init__(self, stack: Any) -> None:
        self._stack = stack

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stack, name)

    def routes(self, **options: Any) -> list[Route]:
        return [
            *self._stack.routes(**options),
            Route("GET", "/staff/tickets", "AccountsFunction", authorized=True),
        ]


def test_client_session_on_a_staff_route_is_forbidden(deployment, handler_client):
    # GIVEN a client's session and a staff agent's session
    from clientarea.accounts import registration
    from clientarea.roles import Role  # imported after the deployment set its environment

    client_email = fresh_email()
    register_and_verify(handler_client, client_email)
    client_token = log_in(handler_client, client_email)
    registration.provision(
        email=fresh_email(),
        password=PASSWORD,
        full_name="Agent",
        login="agent1",
        role=Role.SUPPORT,
    )
    staff_token = log_in(handler_client, "agent1")
    # AND the API with an authorized /staff/... route behind the real authorizer
    api = LocalApi(_StackWithStaffRoute(deployment.stack), stage="api")
    # WHEN the client calls the staff route
    reply = api.handle("GET", "/staff/tickets", {"Authorization": f"Bearer {client_token}"}, None)
    # THEN API Gateway refuses with 403 forbidden
    assert reply.status == 403
    assert reply.json()["code"] == "forbidden"
    # BUT the staff session gets past the authorizer
    staff_reply = api.handle(
        "GET", "/staff/tickets", {"Authorization": f"Bearer {staff_token}"}, None
    )
    assert staff_reply.status not in (401, 403)
    # AND a staff session cannot read client-area routes
    assert handler_client.get("/account", token=staff_token).status == 403


# --- malformed requests -------------------------------------------------------------


MALFORMED_BODIES = [
    b"{not json",
    b'{"email": "a@example.com",',
    b"",
    b"null",
    b"[1, 2]",
    b'"text"',
    b"\xff\xfe\x00",
    b"{}" * 3,
    b"{'email': 'single@quotes.example'}",
]


def test_malformed_json_is_a_validation_error(client):
    for raw in MALFORMED_BODIES:
        # GIVEN a JSON content type with a body that is not a JSON object
        # WHEN it is posted / THEN 422 validation_error, never a 5xx
        expect_error(client.post("/auth/register", raw=raw), 422, "validation_error")
        expect_error(client.post("/auth/login", raw=raw), 422, "validation_error")


def test_body_over_64_kib_is_too_large(client):
    # GIVEN a registration padded with JSON whitespace to just over 64 KiB (still valid JSON)
    email = fresh_email()
    prefix = f'{{"email": "{email}", "password": "{PASSWORD}", "full_name": "Big"'.encode()
    padded = prefix + b" " * (64 * 1024 + 1 - len(prefix) - 1) + b"}"
    assert len(padded) == 64 * 1024 + 1
    # WHEN it is posted / THEN 413 payload_too_large
    expect_error(client.post("/auth/register", raw=padded), 413, "payload_too_large")
    # AND so is an oversized body that is not even valid
    expect_error(
        client.post("/auth/register", raw=b'{"x": "' + b"y" * 70_000 + b'"}'),
        413,
        "payload_too_large",
    )


def test_too_large_message_follows_the_account_language(client, account):
    token = account["token"]
    # GIVEN an account that speaks Ukrainian
    assert client.patch("/account", {"locale": "uk"}, token=token).status == 200
    # WHEN it sends an oversized body
    reply = client.patch("/account", raw=b'{"address": "' + b"a" * 70_000 + b'"}', token=token)
    # THEN the 413 is explained in Ukrainian, like every other error of the session
    assert CYRILLIC.search(expect_error(reply, 413, "payload_too_large")["message"])


def test_body_of_exactly_64_kib_is_accepted(client):
    # GIVEN a valid registration padded with JSON whitespace to exactly 64 KiB
    email = fresh_email()
    prefix = f'{{"email": "{email}", "password": "{PASSWORD}", "full_name": "Big"'.encode()
    padded = prefix + b" " * (64 * 1024 - len(prefix) - 1) + b"}"
    assert len(padded) == 64 * 1024
    # WHEN it is posted / THEN it is handled
    assert client.post("/auth/register", raw=padded).status == 202


def test_wrong_content_type_is_unsupported(client):
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "text/html; charset=utf-8",
    ):
        # GIVEN a JSON body sent as another media type
        body = (
            f'{{"email": "{fresh_email()}", "password": "{PASSWORD}", "full_name": "T"}}'.encode()
        )
        # WHEN it is posted / THEN 415 unsupported_media_type
        reply = client.post("/auth/register", raw=body, headers={"Content-Type": content_type})
        expect_error(reply, 415, "unsupported_media_type")


def test_unknown_route_is_not_found(client):
    for method, path in (
        ("GET", "/nope"),
        ("POST", "/auth/nope"),
        ("GET", "/account/x/y"),
        ("GET", "/"),
    ):
        # GIVEN a path the API does not have / WHEN it is called / THEN 404 not_found
        expect_error(client.request(method, path), 404, "not_found")


def test_wrong_method_is_what_api_gateway_answers(client):
    for method, path in (
        ("DELETE", "/account"),
        ("GET", "/auth/login"),
        ("POST", "/account/password"),
    ):
        # GIVEN a known route / WHEN it is called with a method it does not take
        reply = client.request(method, path)
        # THEN what the deployed API answers: API Gateway (REST) has no 405, a method a
        # path lacks is MISSING_AUTHENTICATION_TOKEN, which the template makes 404
        expect_error(reply, 404, "not_found")


def test_errors_leak_no_internals(client):
    # GIVEN a range of refusals
    replies = [
        client.post("/auth/register", raw=b"{broken"),
        client.post("/auth/register", {"email": "x"}),
        client.post("/auth/verify-email", {"token": "100001." + "A" * 43}),
        client.post("/auth/login", {"login": "nobody-here", "password": "x" * 20}),
        client.get("/account", token="100001." + "A" * 43),
        client.patch("/account", {"phone": 5}, token="garbage"),
        client.get("/does-not-exist"),
    ]
    # THEN each is a {code, message} object that names no stack, ARN or table
    for reply in replies:
        text = reply.body.decode()
        assert 400 <= reply.status < 500, text
        assert {"code", "message"} <= set(reply.json())
        for leak in INTERNALS:
            assert leak not in text


# --- languages ----------------------------------------------------------------------


def test_accept_language_translates_login_errors(client):
    attempt = {"login": _login_name(), "password": "not the right one, no"}
    # GIVEN the English answer to a failed login
    english = expect_error(client.post("/auth/login", attempt), 401, "invalid_credentials")
    # WHEN the browser prefers Polish
    polish = expect_error(
        client.post("/auth/login", attempt, headers={"Accept-Language": "pl"}),
        401,
        "invalid_credentials",
    )
    # THEN the message is Polish
    assert polish["message"] != english["message"]
    assert POLISH.search(polish["message"]), polish["message"]
    # AND a regional, weighted header picks the best supported language
    weighted = client.post(
        "/auth/login", attempt, headers={"Accept-Language": "de-DE, pl-PL;q=0.9, en;q=0.5"}
    )
    assert weighted.json()["message"] == polish["message"]
    # AND an unsupported language falls back to English
    german = client.post("/auth/login", attempt, headers={"Accept-Language": "de"})
    assert german.json()["message"] == english["message"]


def test_verification_mail_follows_the_chosen_locale(client):
    english_address, ukrainian_address = fresh_email(), fresh_email()
    # GIVEN one registration in English and one in Ukrainian
    assert _register(client, english_address, locale="en").status == 202
    assert _register(client, ukrainian_address, locale="uk").status == 202
    [english] = client.mails(english_address)
    [ukrainian] = client.mails(ukrainian_address)
    # THEN the Ukrainian mail's subject and text are Ukrainian
    assert ukrainian["subject"] != english["subject"]
    assert CYRILLIC.search(ukrainian["subject"]) and CYRILLIC.search(ukrainian["text"])
    assert not CYRILLIC.search(english["subject"])
    # AND it still carries a working verification link
    verified = client.post("/auth/verify-email", {"token": _token_of(ukrainian)})
    assert verified.status == 200
    # AND the account keeps Ukrainian as its language
    token = log_in(client, ukrainian_address)
    assert client.get("/account", token=token).json()["locale"] == "uk"


def test_registration_without_locale_uses_accept_language(client):
    # GIVEN a registration without a locale from a Ukrainian browser
    email = fresh_email()
    body = {"email": email, "password": PASSWORD, "full_name": "Test User"}
    assert (
        client.post("/auth/register", body, headers={"Accept-Language": "uk-UA,uk;q=0.9"}).status
        == 202
    )
    # THEN the verification mail is Ukrainian, and so is the account once verified
    [mail] = client.mails(email)
    assert CYRILLIC.search(mail["subject"])
    assert client.post("/auth/verify-email", {"token": _token_of(mail)}).status == 200
    assert client.get("/account", token=log_in(client, email)).json()["locale"] == "uk"


def test_weak_password_reason_is_translated(client):
    # GIVEN a too-short password refused in English
    english = expect_error(_register(client, fresh_email(), "short"), 422, "weak_password")
    # WHEN the same registration comes from a Ukrainian browser
    ukrainian = client.post(
        "/auth/register",
        {"email": fresh_email(), "password": "short", "full_name": "T"},
        headers={"Accept-Language": "uk"},
    )
    # THEN the reason code is the same and the message is Ukrainian
    body = expect_error(ukrainian, 422, "weak_password")
    assert body["reason"] == english["reason"] == "too_short"
    assert body["message"] != english["message"] and CYRILLIC.search(body["message"])
