"""Abuse (issue 6, hardening): what a hostile or careless caller sends, through the
handlers and over HTTP. Header injection through anything a user types that reaches a
mail header; markup in every field that reaches a mail or a staff view; one account per
address however it is written (case, compatibility forms, mixed scripts); oversized,
deeply nested and mistyped bodies on every route that takes one (swept from
docs/openapi.json); and expired, garbled, truncated and foreign tokens on every token
route. Each gets a clear 4xx in the contract's shape and leaves nothing half done."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.clients import ApiClient, Reply
from tests.support.accounts import (
    PASSWORD,
    fresh_email,
    log_in,
    new_account,
    register_and_verify,
    staff_token,
)
from tests.support.replies import expect_error

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = json.loads((ROOT / "docs" / "openapi.json").read_text())
NEW_PASSWORD = "a brand new passphrase 2026"
SCRIPT = "<script>alert(1)</script>"
INJECTED = "Bcc: victim@evil.example"


# --- helpers -------------------------------------------------------------------------------


def _error(reply: Reply, status: int, code: str) -> dict[str, Any]:
    """The contract's error shape, answered as JSON."""
    assert (reply.header("Content-Type") or "").startswith("application/json"), reply.status
    return expect_error(reply, status, code)


def _staff_answer(client: ApiClient, number: str, to: str) -> tuple[str, dict]:
    """Staff answer ticket `number`; their session and the one mail it sends to `to`."""
    staff = staff_token(client)
    answer = client.post(f"/staff/tickets/{number}/messages", {"message": "ok"}, token=staff)
    assert answer.status == 201, answer.body
    (mail,) = client.mails_about(to, number)
    return staff, mail


def _assert_no_injected_header(mail: dict[str, Any]) -> None:
    names = [name.lower() for name, _ in mail["headers"]]
    assert "bcc" not in names and "x-injected" not in names, mail["headers"]
    assert len(names) == len(set(names)), f"a header appears twice: {mail['headers']}"
    for name, value in mail["headers"]:
        assert "\r" not in value and "\n" not in value, (name, value)


def _assert_absent(mail: dict[str, Any]) -> None:
    for part in ("subject", "text", "html"):
        assert "script" not in mail[part].lower(), (part, mail[part])


def _assert_escaped(html: str) -> None:
    assert "<script" not in html.lower(), html
    assert "&lt;script&gt;" in html, html


# --- header injection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "newline", ["\r\n", "\n", "\r", "\u2028", "\x85"], ids=["crlf", "lf", "cr", "ls", "nel"]
)
def test_ticket_subject_with_newlines_never_becomes_a_mail_header(client, newline):
    # GIVEN a client who opens a ticket whose subject tries to add headers
    account = new_account(client)
    subject = f"Help{newline}{INJECTED}{newline}X-Injected: yes"
    reply = client.post(
        "/tickets",
        {"department": "technical", "subject": subject, "message": "hello"},
        token=account["token"],
    )
    # THEN it is either refused as invalid or stored as typed
    if reply.status == 422:
        _error(reply, 422, "validation_error")
        return
    assert reply.status == 201, reply.body
    number = reply.json()["number"]
    # WHEN staff answer, which mails the client with the subject in the Subject header
    staff, mail = _staff_answer(client, number, account["email"])
    # THEN the subject is one line and no header was injected
    _assert_no_injected_header(mail)
    assert "Help" in mail["subject"] and "X-Injected: yes" in mail["subject"]
    assert mail["to"] == account["email"]
    # and staff see the subject as one line of the client's words (flattened when stored)
    seen = client.get(f"/staff/tickets/{number}", token=staff).json()
    assert seen["subject"].splitlines() == [seen["subject"]]
    assert "Help" in seen["subject"] and "X-Injected: yes" in seen["subject"]


def test_access_request_login_with_crlf_cannot_inject_into_the_reply_subject(client):
    # GIVEN an access request whose login (which becomes the ticket subject) carries CRLF
    contact = fresh_email("contact")
    form = {
        "full_name": "Jane\r\nX-Injected: yes",
        "address": "1 Street\r\nBcc: victim@evil.example",
        "phone": "+380 44 000 00 00",
        "login_or_email": f"somebody\r\n{INJECTED}",
        "message": "I lost access",
        "email": contact,
    }
    reply = client.post("/support/access-requests", form)
    if reply.status == 422:
        _error(reply, 422, "validation_error")
        return
    assert reply.status == 201, reply.body
    number = reply.json()["number"]
    # WHEN staff answer at the address given
    _, mail = _staff_answer(client, number, contact)
    # THEN the reply carries no injected header and goes to that address only
    _assert_no_injected_header(mail)
    assert mail["to"] == contact


def test_full_name_with_crlf_is_refused_and_mails_nothing(client):
    # GIVEN a registration whose full name carries header lines
    email = fresh_email("abuse")
    name = f"Eve\r\n{INJECTED}\r\nX-Injected: yes"
    body = {"email": email, "password": PASSWORD, "full_name": name, "locale": "en"}
    # THEN it is refused (a name is one line) and nothing is mailed
    _error(client.post("/auth/register", body), 422, "validation_error")
    assert client.settled_mails(email) == []


# --- markup in fields that reach mails and staff views ---------------------------------------


def test_markup_in_names_is_escaped_in_every_mail(client):
    # GIVEN an account whose full name is a script
    email = fresh_email("abuse")
    register_and_verify(client, email, full_name=SCRIPT)
    # WHEN the mails about it are rendered (verification, welcome, a reset link)
    assert client.post("/password/forgot", {"login": email}).status == 202
    mails = client.mails_about(email, "", count=3)
    assert len(mails) == 3
    verification, *to_the_owner = mails
    # THEN the verification link, sent before the address was proven, carries no name
    assert "confirm your email address" in verification["subject"]
    assert "<script" not in verification["html"] and "script" not in verification["text"]
    for mail in to_the_owner:
        # and the others show the name in HTML as text, never as markup
        _assert_escaped(mail["html"])
        # and in the plain-text part as typed (it is not HTML)
        assert SCRIPT in mail["text"]


def test_markup_in_a_ticket_is_escaped_in_the_reply_mail_and_literal_in_staff_json(client):
    # GIVEN a client whose name, ticket subject and message are markup
    account = new_account(client, full_name=SCRIPT)
    ticket = {"department": "billing", "subject": SCRIPT, "message": f"<b>bold</b>{SCRIPT}"}
    reply = client.post("/tickets", ticket, token=account["token"])
    assert reply.status == 201, reply.body
    number = reply.json()["number"]
    # WHEN staff look at it and answer with markup quoted from it
    staff = staff_token(client)
    seen = client.get(f"/staff/tickets/{number}", token=staff)
    listed = client.get("/staff/tickets", token=staff)
    answer = client.post(
        f"/staff/tickets/{number}/messages", {"message": f"re: {SCRIPT}"}, token=staff
    )
    assert answer.status == 201, answer.body
    # THEN the staff views are JSON carrying the literal text
    for view in (seen, listed):
        assert view.status == 200
        assert view.header("Content-Type") == "application/json"
    assert seen.json()["subject"] == SCRIPT
    assert seen.json()["messages"][0]["body"] == ticket["message"]
    assert any(t["subject"] == SCRIPT for t in listed.json())
    # and the mail's HTML part escapes the name, the subject and the message
    (mail,) = client.mails_about(account["email"], number)
    _assert_escaped(mail["html"])
    assert "<b>" not in mail["html"]
    assert SCRIPT in mail["subject"]  # a Subject header is plain text, never HTML


def test_markup_in_an_access_request_is_literal_for_staff(client):
    # GIVEN an access request whose every field is markup
    form = {
        "full_name": SCRIPT,
        "address": SCRIPT,
        "phone": "<img src=x>",
        "login_or_email": SCRIPT,
        "message": SCRIPT,
    }
    reply = client.post("/support/access-requests", form)
    assert reply.status == 201, reply.body
    number = reply.json()["number"]
    # WHEN staff open it
    seen = client.get(f"/staff/tickets/{number}", token=staff_token(client))
    # THEN it is JSON with the applicant's text exactly as typed
    assert seen.status == 200
    assert seen.header("Content-Type") == "application/json"
    applicant = seen.json()["applicant"]
    assert applicant["full_name"] == SCRIPT
    assert applicant["address"] == SCRIPT
    assert applicant["phone"] == "<img src=x>"


def test_markup_in_an_access_request_is_escaped_in_the_acknowledgement(client):
    # GIVEN an account whose name is markup, and an access request for it
    account = new_account(client, full_name=SCRIPT)
    form = {
        "full_name": SCRIPT,
        "address": SCRIPT,
        "phone": "+380 44 000 00 00",
        "login_or_email": account["email"],
        "message": SCRIPT,
    }
    assert client.post("/support/access-requests", form).status == 201
    # THEN the acknowledgement to the contact address escapes it
    (mail,) = client.mails_about(account["email"], "access request")
    _assert_escaped(mail["html"])


# --- one account per address however it is written -------------------------------------------


def _variants(email: str) -> list[str]:
    local, _, domain = email.partition("@")
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "a" <= c <= "z" else c for c in local[:3])
    return [
        email.upper(),
        f"{local.capitalize()}@{domain.upper()}",
        f"{fullwidth}{local[3:]}@{domain}",  # fullwidth letters: NFKC makes them ASCII
        f"{local}@{domain.replace('e', '\uff45', 1)}",  # fullwidth in the domain
        f"  {email} ",
    ]


def test_the_same_address_written_differently_is_one_account(client):
    # GIVEN an account
    account = new_account(client)
    # WHEN someone registers each variant of its address
    variants = _variants(account["email"])
    for variant in variants:
        body = {"email": variant, "password": PASSWORD, "full_name": "Twin", "locale": "en"}
        reply = client.post("/auth/register", body)
        # THEN the answer is the registration's usual one (nothing is revealed)
        assert (reply.status, reply.body) == (202, b"{}"), (variant, reply.body)
    # and the owner is told, as often as the address's daily allowance of unasked mail
    # permits (3, the first spent on the verification link), while no link goes out
    settled = client.settled_mails(account["email"])
    assert sum("tried to register" in m["subject"] for m in settled) == 2
    for mail in client.all_mails():
        if mail["to"].casefold() != account["email"].casefold():
            assert not any(v.strip() in mail["to"] for v in variants), mail["to"]
    # and every spelling logs into the one account
    for variant in variants:
        token = log_in(client, variant)
        assert (
            client.get("/account", token=token).json()["client_number"] == account["client_number"]
        )


def test_login_names_in_any_case_or_width_are_one_login(client):
    # GIVEN an account with a chosen login
    login = f"ab{uuid.uuid4().hex[:10]}"
    account = new_account(client, login=login.upper())
    assert account["login"] == login
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in login)
    # THEN the login works however it is written
    for variant in (login.upper(), login.capitalize(), fullwidth):
        assert client.post("/auth/login", {"login": variant, "password": PASSWORD}).status == 200
    # and nobody can register it again in another form (the second verification fails
    # over to a generated login, never to a second owner of this one)
    email = fresh_email("abuse")
    created = register_and_verify(client, email, login=fullwidth)
    assert created["login"] != login


MIXED_SCRIPT = [
    "p\u0430ypal-{n}@example.com",  # Cyrillic а among Latin letters
    "{n}-\u0455ecure@example.com",  # Cyrillic ѕ
    "{n}@ex\u0430mple.com",  # Cyrillic а in a Latin domain label
    "\u03bfpen-{n}@example.com",  # Greek ο
]


@pytest.mark.parametrize("pattern", MIXED_SCRIPT)
def test_mixed_script_addresses_are_refused_everywhere(client, pattern):
    # GIVEN an address mixing scripts so that it looks like a Latin one
    address = pattern.format(n=uuid.uuid4().hex[:8])
    account = new_account(client)
    # WHEN it is used to register, as a new contact email, or as an authorised sender
    register = client.post(
        "/auth/register",
        {"email": address, "password": PASSWORD, "full_name": "Mallory", "locale": "en"},
    )
    change = client.post(
        "/account/email-change",
        {"new_email": address, "current_password": PASSWORD},
        token=account["token"],
    )
    sender = client.post("/account/authorised-emails", {"email": address}, token=account["token"])
    sales = client.post("/support/sales-questions", {"email": address, "message": "price?"})
    # THEN each is refused as an invalid address and nothing is sent to it
    for reply in (register, change, sender, sales):
        _error(reply, 422, "invalid_email")
    assert client.settled_mails(address) == []
    assert client.get("/account/authorised-emails", token=account["token"]).json() == []


def test_a_single_script_international_address_is_accepted(client):
    # GIVEN an address wholly in Cyrillic before the @ (a real, if rare, mailbox)
    address = f"почта{uuid.uuid4().int % 10**8}@example.com"
    reply = client.post(
        "/auth/register",
        {"email": address, "password": PASSWORD, "full_name": "Olena", "locale": "uk"},
    )
    # THEN it registers like any other
    assert reply.status == 202
    assert client.mails_about(address, "")


def test_contact_email_change_and_senders_use_the_same_normalisation(client):
    # GIVEN two accounts
    mine, other = new_account(client), new_account(client)
    my_variants, other_variants = _variants(mine["email"]), _variants(other["email"])
    # WHEN the first tries its own address in another spelling as a new contact email
    for variant in my_variants:
        reply = client.post(
            "/account/email-change",
            {"new_email": variant, "current_password": PASSWORD},
            token=mine["token"],
        )
        # THEN it is its own address, unchanged
        _error(reply, 422, "email_unchanged")
        # and as an authorised sender it is already authorised
        reply = client.post("/account/authorised-emails", {"email": variant}, token=mine["token"])
        _error(reply, 409, "already_authorised")
    # WHEN it authorises the other account's address in each spelling
    first, *others = other_variants
    # THEN the first is accepted like any address (whose contact email it is stays
    # untold; only its mailbox's owner could confirm it, see test_contact_email.py)
    reply = client.post("/account/authorised-emails", {"email": first}, token=mine["token"])
    assert reply.status == 202, reply.body
    stored = reply.json()["email"]
    # and every other spelling is that same pending entry, asked for again
    for variant in others:
        reply = client.post("/account/authorised-emails", {"email": variant}, token=mine["token"])
        assert (reply.status, reply.json()) == (202, {"email": stored, "status": "pending"})
    listed = client.get("/account/authorised-emails", token=mine["token"]).json()
    assert [entry["email"].casefold() for entry in listed] == [other["email"].casefold()]
    # WHEN it asks to move to the other's address in fullwidth letters
    fullwidth = other_variants[2]
    reply = client.post(
        "/account/email-change",
        {"new_email": fullwidth, "current_password": PASSWORD},
        token=mine["token"],
    )
    # THEN the answer and the notice to the old address are the usual ones
    assert (reply.status, reply.body) == (202, b"{}")
    notice = client.mails_about(mine["email"], "request to change your contact email")
    assert notice and other["email"] in notice[-1]["text"]  # the NFKC (real) address
    # but it is known as the other's address: no link goes out, nothing changes
    assert [m for m in client.mails(other["email"]) if "confirm your new" in m["subject"]] == []
    assert client.get("/account", token=mine["token"]).json()["email"] == mine["email"]
    assert client.get("/account", token=other["token"]).json()["email"] == other["email"]


# --- bodies: size, nesting, content type, swept over every route that takes JSON ---------------


def _json_operations() -> list[tuple[str, str]]:
    operations = []
    for path, methods in OPENAPI["paths"].items():
        for method, operation in methods.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                operations.append((method.upper(), path))
    return operations


JSON_OPERATIONS = _json_operations()


def test_the_sweep_sees_every_route_that_takes_json():
    # a sanity check: the sweep is driven by the contract, not a hand-kept list
    assert ("POST", "/auth/register") in JSON_OPERATIONS
    assert ("POST", "/staff/tickets/{number}/messages") in JSON_OPERATIONS
    assert len(JSON_OPERATIONS) >= 15


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.fixture
def sessions(client: ApiClient) -> dict[str, str]:
    """A client and a staff session, so that authenticated routes reach their function."""
    return {"client": new_account(client)["token"], "staff": staff_token(client)}


def _send_all(
    client: ApiClient, sessions: dict[str, str], raw: bytes, headers: dict[str, str] | None = None
) -> dict[tuple[str, str], Reply]:
    replies = {}
    for method, path in JSON_OPERATIONS:
        secured = OPENAPI["paths"][path][method.lower()].get("security")
        token = None
        if secured:
            token = sessions["staff" if path.startswith("/staff/") else "client"]
        replies[(method, path)] = client.request(
            method, _concrete(path), raw=raw, token=token, headers=headers
        )
    return replies


def test_a_one_megabyte_body_is_413_on_every_route(client, sessions):
    # WHEN every route that takes JSON gets a 1 MB JSON body
    raw = json.dumps({"padding": "a" * (1024 * 1024)}).encode()
    replies = _send_all(client, sessions, raw)
    # THEN each answers 413 payload_too_large in the contract's shape
    for route, reply in replies.items():
        assert reply.status == 413, (route, reply.status, reply.body[:200])
        _error(reply, 413, "payload_too_large")


@pytest.mark.parametrize("depth", [1_000, 9_999, 10_000, 30_000])
def test_a_deeply_nested_body_is_4xx_on_every_route(client, sessions, depth):
    # WHEN every route gets arrays or objects nested this deep, at the top or in a field
    # (the parser's own limit is near 10 000; 30 000 arrays still fit in 64 KiB)
    arrays = b"[" * depth + b"]" * depth
    objects = b'{"a":' * depth + b"1" + b"}" * depth
    for raw in (arrays, objects, b'{"token": ' + arrays + b"}"):
        replies = _send_all(client, sessions, raw)
        # THEN each answers a 4xx in the contract's shape, never a 5xx
        for route, reply in replies.items():
            assert 400 <= reply.status < 500, (route, reply.status, reply.body[:200])
            body = reply.json()
            assert isinstance(body["code"], str) and body["message"], (route, body)


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        ("text/plain", b'{"login": "x"}'),
        ("application/x-www-form-urlencoded", b"login=x&password=y"),
        ("multipart/form-data; boundary=x", b"--x\r\n\r\nlogin\r\n--x--\r\n"),
        ("application/xml", b"<login>x</login>"),
    ],
    ids=["text", "form", "multipart", "xml"],
)
def test_a_body_that_is_not_json_is_415_on_every_route(client, sessions, content_type, raw):
    # WHEN every route gets a body declared as something else than JSON
    replies = _send_all(client, sessions, raw, headers={"Content-Type": content_type})
    # THEN each answers 415 unsupported_media_type
    for route, reply in replies.items():
        assert reply.status == 415, (route, reply.status, reply.body[:200])
        _error(reply, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "raw",
    [b'{"token": ', b"\xff\xfe{}", b"null", b"[]", b'"text"', b"1e999999", b'{"a": NaN}'],
    ids=["truncated", "not-utf8", "null", "array", "string", "huge-number", "nan"],
)
def test_a_json_body_that_is_malformed_or_the_wrong_shape_is_4xx_on_every_route(
    client, sessions, raw
):
    # WHEN every route gets a body that is broken or not an object
    replies = _send_all(client, sessions, raw)
    # THEN each answers a 4xx in the contract's shape, never a 5xx
    for route, reply in replies.items():
        assert 400 <= reply.status < 500, (route, reply.status, reply.body[:200])
        assert reply.json()["code"], route


def test_an_oversized_or_nested_registration_leaves_nothing_behind(client):
    # GIVEN an address nobody registered
    email = fresh_email("abuse")
    big = {"email": email, "password": PASSWORD, "full_name": "a" * (1024 * 1024)}
    deep = {"email": email, "password": PASSWORD, "full_name": "x", "locale": "en"}
    deep_raw = json.dumps(deep)[:-1].encode() + b', "extra": ' + b"[" * 10_000 + b"]" * 10_000
    deep_raw += b"}"
    # WHEN it is registered with a 1 MB name, a deeply nested field, or as a form
    _error(client.post("/auth/register", big), 413, "payload_too_large")
    assert 400 <= client.post("/auth/register", raw=deep_raw).status < 500
    form = client.post(
        "/auth/register",
        raw=f"email={email}&password=x".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    _error(form, 415, "unsupported_media_type")
    # THEN no verification mail went out and the address can still register normally
    assert client.settled_mails(email) == []
    assert register_and_verify(client, email)["client_number"]


# --- token routes: expired, garbled, truncated and foreign tokens -----------------------------


TOKEN_ROUTES = {
    "/auth/verify-email": {},
    "/password/reset/verify": {},
    "/password/reset": {"new_password": NEW_PASSWORD},
    "/account/email-change/confirm": {},
    "/cession/confirm": {},
    "/cession/decline": {},
}
# The flow each live token belongs to (its own route takes it; every other refuses it).
OWN_ROUTES = {
    "verification": {"/auth/verify-email"},
    "reset": {"/password/reset/verify", "/password/reset"},
    "change": {"/account/email-change/confirm"},
}


def _live_tokens(client: ApiClient) -> dict[str, Any]:
    """An account with a pending reset link and a pending email change, another account
    with a reset link, and a pending registration: their live tokens."""
    victim, other = new_account(client), new_account(client)
    new_email, pending = fresh_email("new"), fresh_email("pending")
    assert client.post("/password/forgot", {"login": victim["email"]}).status == 202
    assert client.post("/password/forgot", {"login": other["email"]}).status == 202
    reply = client.post(
        "/account/email-change",
        {"new_email": new_email, "current_password": PASSWORD},
        token=victim["token"],
    )
    assert reply.status == 202, reply.body
    body = {"email": pending, "password": PASSWORD, "full_name": "Pending", "locale": "en"}
    assert client.post("/auth/register", body).status == 202
    return {
        "victim": victim,
        "other": other,
        "new_email": new_email,
        "pending": pending,
        "reset": client.mail_link_token(victim["email"], subject_contains="reset"),
        "other_reset": client.mail_link_token(other["email"], subject_contains="reset"),
        "change": client.mail_link_token(new_email, subject_contains="confirm your new"),
        "verification": client.mail_link_token(pending),
    }


def _post_token(client: ApiClient, route: str, token: Any) -> Reply:
    return client.post(route, {"token": token, **TOKEN_ROUTES[route]})


def _assert_nothing_changed(client: ApiClient, live: dict[str, Any]) -> None:
    """The victim's password, contact email and session are as before, and every live
    link still works (the refused attempts consumed and superseded nothing)."""
    victim = live["victim"]
    profile = client.get("/account", token=victim["token"])
    assert profile.status == 200, "the victim's session was revoked"
    assert profile.json()["email"] == victim["email"]
    assert (
        client.post("/auth/login", {"login": victim["email"], "password": PASSWORD}).status == 200
    )
    for name in ("reset", "other_reset"):
        assert _post_token(client, "/password/reset/verify", live[name]).status == 200, name
    confirmed = _post_token(client, "/account/email-change/confirm", live["change"])
    assert confirmed.status == 200, confirmed.body
    assert confirmed.json()["email"] == live["new_email"]
    verified = _post_token(client, "/auth/verify-email", live["verification"])
    assert verified.status == 200, verified.body


def _garbled(token: str) -> list[Any]:
    subject, _, secret = token.rpartition(".")
    flipped = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    return [
        "not-a-token",
        f"{subject}.",
        f".{secret}",
        f"{subject}.{flipped}",
        f"{subject}.{secret}.{secret}",
        f"{subject}.{secret.upper()}",
        f"{subject}\r\n.{secret}",
        f"../{subject}.{secret}",
        f"{subject}%2E{secret}",
        "токен.секрет",
        "a" * 512,
    ]


# The live token each route's broken variants are made from: its own flow's where it has
# one (the closest a guesser gets), a reset link's for the cession routes.
BASE_TOKEN = {
    "/auth/verify-email": "verification",
    "/password/reset/verify": "reset",
    "/password/reset": "reset",
    "/account/email-change/confirm": "change",
    "/cession/confirm": "reset",
    "/cession/decline": "change",
}


def test_garbled_and_truncated_tokens_are_410_everywhere_and_change_nothing(client):
    # GIVEN live links of every flow
    live = _live_tokens(client)
    # WHEN each route gets broken variants of a live token: garbled, truncated, cut
    # down to its subject
    for route in TOKEN_ROUTES:
        token = live[BASE_TOKEN[route]]
        for bad in (*_garbled(token), token[:-1], token[:20], token.rpartition(".")[0]):
            reply = _post_token(client, route, bad)
            # THEN the answer is the contract's 410 token_invalid
            _error(reply, 410, "token_invalid")
    # and nothing changed
    _assert_nothing_changed(client, live)


def test_tokens_of_the_wrong_type_are_422_and_change_nothing(client):
    live = _live_tokens(client)
    for route in TOKEN_ROUTES:
        for token in (None, 123, [live["reset"]], {"token": live["reset"]}, "", "a" * 513):
            _error(_post_token(client, route, token), 422, "validation_error")
    _assert_nothing_changed(client, live)


def test_tokens_of_another_flow_or_another_account_are_410_and_change_nothing(client):
    # GIVEN live links of every flow, and the victim's and another account's reset links
    live = _live_tokens(client)
    victim_subject = live["reset"].rpartition(".")[0]
    other_secret = live["other_reset"].rpartition(".")[2]
    # WHEN each route gets the other flows' live tokens
    for flow, own in OWN_ROUTES.items():
        for route in TOKEN_ROUTES:
            if route not in own:
                _error(_post_token(client, route, live[flow]), 410, "token_invalid")
    # and the reset routes get another account's secret under the victim's subject
    for route in ("/password/reset/verify", "/password/reset"):
        _error(_post_token(client, route, f"{victim_subject}.{other_secret}"), 410, "token_invalid")
    # and the change route gets the victim's reset secret under the change subject
    change_subject = live["change"].rpartition(".")[0]
    reset_secret = live["reset"].rpartition(".")[2]
    forged = f"{change_subject}.{reset_secret}"
    _error(_post_token(client, "/account/email-change/confirm", forged), 410, "token_invalid")
    # THEN nothing changed
    _assert_nothing_changed(client, live)


def test_expired_tokens_are_410_everywhere_and_change_nothing(client):
    # GIVEN live links of every flow, then 24 h and a second later (every link expired;
    # the 12-hour session too, so the state is checked with fresh logins)
    live = _live_tokens(client)
    client.advance_clock(24 * 3600 + 1)
    # WHEN every route gets every expired token
    for route in TOKEN_ROUTES:
        for name in ("reset", "other_reset", "change", "verification"):
            _error(_post_token(client, route, live[name]), 410, "token_invalid")
    # THEN the victim's password and contact email are as before
    victim = live["victim"]
    token = log_in(client, victim["email"])
    assert client.get("/account", token=token).json()["email"] == victim["email"]
    assert (
        client.post("/auth/login", {"login": live["new_email"], "password": PASSWORD}).status == 401
    )
    # and the pending registration created no account
    assert (
        client.post("/auth/login", {"login": live["pending"], "password": PASSWORD}).status == 401
    )


def test_cession_links_garbled_truncated_or_crossed_are_410_and_change_nothing(client):
    from tests.integration.test_cession import activated, new_party, wait_for_status

    # GIVEN an activated cession with a live link for each party
    owner, recipient = new_party(client), new_party(client)
    _, order, owner_link, recipient_link = activated(client, owner, recipient)
    owner_subject, _, owner_secret = owner_link.rpartition(".")
    recipient_subject, _, recipient_secret = recipient_link.rpartition(".")
    crossed = [f"{owner_subject}.{recipient_secret}", f"{recipient_subject}.{owner_secret}"]
    # WHEN both cession routes get broken links, and one party's secret under the other's
    for route in ("/cession/confirm", "/cession/decline"):
        for bad in (*_garbled(owner_link), owner_link[:-1], owner_subject, *crossed):
            _error(_post_token(client, route, bad), 410, "token_invalid")
    # and every other token route gets a live cession link
    for route in TOKEN_ROUTES:
        if not route.startswith("/cession/"):
            _error(_post_token(client, route, owner_link), 410, "token_invalid")
    # THEN the order still waits for both parties
    seen = client.get(f"/orders/{order['order_id']}", token=owner.token).json()
    assert seen["status"] == "awaiting_confirmations"
    assert seen["owner"]["confirmed_at"] is None and seen["recipient"]["confirmed_at"] is None
    # and both real links still work
    assert _post_token(client, "/cession/confirm", owner_link).status == 200
    assert _post_token(client, "/cession/decline", recipient_link).status == 200
    wait_for_status(client, owner, order["order_id"], "declined")


# --- recovery cases and sales questions: markup, header lines, foreign keys ---------------------


def _strings(value: Any) -> list[str]:
    """Every string anywhere in a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _recovery_case(client: ApiClient, **changes: Any) -> tuple[dict, dict]:
    body = {
        "account_hint": SCRIPT,
        "applicant_type": "legal_entity",
        "full_name": SCRIPT,
        "company_name": f"{SCRIPT} {INJECTED}",
        "company_code": "12345678",
        "new_email": fresh_email("recover"),
        "phone": "+380 44 000 00 00",
        "channel": "post",
        **changes,
    }
    reply = client.post("/recovery/requests", body)
    assert reply.status == 201, reply.body
    return body, reply.json()


def test_markup_in_a_recovery_case_is_escaped_in_mails_and_literal_for_staff(client):
    # GIVEN a recovery case whose name, company and hint are markup (and header lines)
    body, case = _recovery_case(client)
    key = {"X-Recovery-Key": case["access_key"]}
    assert client.post(f"/recovery/requests/{case['reference']}/submit", headers=key).status == 202
    # THEN the receipt to the (unverified) new address carries no name and no header
    (received,) = client.mails_about(body["new_email"], "received")
    assert "script" not in received["html"] and "script" not in received["text"]
    _assert_no_injected_header(received)
    # WHEN staff open it and reject it with a reason that is markup too
    staff = staff_token(client)
    seen = client.get(f"/staff/recovery-requests/{case['reference']}", token=staff)
    # THEN the staff view is JSON with the applicant's text as typed
    assert seen.status == 200
    assert seen.header("Content-Type") == "application/json"
    assert SCRIPT in _strings(seen.json())
    assert body["company_name"] in _strings(seen.json())
    reply = client.post(
        f"/staff/recovery-requests/{case['reference']}/decision",
        {"decision": "reject", "reason": f"{SCRIPT}\r\n{INJECTED}"},
        token=staff,
    )
    assert reply.status == 200, reply.body
    # and the rejection mail escapes the reason and injects no header
    (rejected,) = client.mails_about(body["new_email"], "rejected")
    _assert_escaped(rejected["html"])
    _assert_no_injected_header(rejected)


def test_recovery_keys_garbled_truncated_or_of_another_case_are_404_and_change_nothing(client):
    # GIVEN two open recovery cases
    _, case = _recovery_case(client)
    _, other = _recovery_case(client)
    path = f"/recovery/requests/{case['reference']}"
    key = case["access_key"]
    # WHEN the first is read and submitted with broken keys or the other case's key
    for bad in (other["access_key"], key[:-1], key[1:], key + "A", key.upper()):
        for reply in (
            client.get(path, headers={"X-Recovery-Key": bad}),
            client.post(f"{path}/submit", headers={"X-Recovery-Key": bad}),
        ):
            # THEN each is the same 404 as an unknown case
            _error(reply, 404, "not_found")
    # and the case is still waiting, its own key still works
    seen = client.get(path, headers={"X-Recovery-Key": key})
    assert seen.status == 200 and seen.json()["status"] == "awaiting_documents"


def test_markup_in_a_sales_question_is_literal_for_staff_and_escaped_in_the_answer(client):
    # GIVEN a sales question whose name and message are markup
    email = fresh_email("prospect")
    question = {"email": email, "full_name": SCRIPT, "message": f"{SCRIPT}\r\n{INJECTED}"}
    reply = client.post("/support/sales-questions", question)
    assert reply.status == 201, reply.body
    number = reply.json()["number"]
    # WHEN staff open it and answer
    staff = staff_token(client)
    seen = client.get(f"/staff/tickets/{number}", token=staff)
    assert seen.status == 200 and seen.header("Content-Type") == "application/json"
    assert question["message"] in _strings(seen.json())
    assert (
        client.post(f"/staff/tickets/{number}/messages", {"message": "hi"}, token=staff).status
        == 201
    )
    # THEN the answer carries neither the name nor the subject (the message's first
    # line): the address was only typed, so nothing typed goes to it, markup or not
    (mail,) = client.mails_about(email, number)
    _assert_absent(mail)
    _assert_no_injected_header(mail)


def test_encoded_newlines_and_markup_in_an_inbound_mail_reach_no_header_and_no_html(client):
    import base64

    from tests.integration.test_inbound_mail import deliver

    # GIVEN a mail to sales whose encoded subject and sender name decode to header
    # lines and a script (RFC 2047 lets any byte through an encoded word)
    asker = fresh_email("asker")

    def encoded(text: str) -> str:
        return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="

    def mail(name: str) -> bytes:
        return (
            f"From: {encoded(name)} <{asker}>\r\n"
            "To: sales@clientarea.test\r\n"
            f"Subject: {encoded(f'Price{chr(13)}{chr(10)}{INJECTED}{chr(13)}{chr(10)}{SCRIPT}')}\r\n"
            f"Message-ID: <{uuid.uuid4().hex}@mail.example.net>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nHow much?\r\n"
        ).encode()

    # (a From whose name decodes to header lines is no well-formed From: nothing at all)
    forged = deliver(client, mail(f"Eve{chr(13)}{chr(10)}{INJECTED}"), to="sales", dmarc="GRAY")
    assert forged["result"] == "ignored_malformed", forged
    outcome = deliver(client, mail(f"Eve {SCRIPT}"), to="sales", dmarc="GRAY", dkim="GRAY")
    assert outcome["result"] == "ticket_opened", outcome
    number = outcome["number"]
    # WHEN staff answer it
    staff = staff_token(client)
    seen = client.get(f"/staff/tickets/{number}", token=staff)
    assert seen.status == 200 and seen.header("Content-Type") == "application/json"
    reply = client.post(f"/staff/tickets/{number}/messages", {"message": "10 EUR"}, token=staff)
    assert reply.status == 201, reply.body
    # THEN the ticket's subject is one line, its header lines only text
    ticket = seen.json()
    assert ticket["subject"].splitlines() == [ticket["subject"]]
    assert INJECTED not in json.dumps(ticket["messages"])
    # and the answer carries no injected header and its HTML shows the text escaped
    (answer,) = client.mails_about(asker, number)
    _assert_no_injected_header(answer)
    assert answer["to"] == asker
    _assert_absent(answer)  # an unattached sender's name and subject are not echoed


def test_markup_and_header_lines_in_a_profile_are_literal_and_escaped_in_mail(client):
    # GIVEN an account whose profile is edited to markup and header lines
    account = new_account(client)
    profile = {
        "full_name": f"{SCRIPT}\r\n{INJECTED}",
        "address": f"{SCRIPT}\r\nX-Injected: yes",
        "phone": "<img src=x>",
    }
    reply = client.patch("/account", profile, token=account["token"])
    if reply.status == 422:
        _error(reply, 422, "validation_error")
        return
    # THEN the account reads back as JSON with the text as typed
    assert reply.status == 200, reply.body
    assert reply.header("Content-Type") == "application/json"
    seen = client.get("/account", token=account["token"]).json()
    assert {key: seen[key] for key in profile} == profile
    # WHEN the password is changed (a notice addressed by that name)
    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert client.put("/account/password", change, token=account["token"]).status == 204
    # THEN the notice escapes the name and carries no injected header
    (notice,) = client.mails_about(account["email"], "password was changed")
    _assert_escaped(notice["html"])
    _assert_no_injected_header(notice)


# --- control characters and markup in everything rendered: no bad input ever gives 5xx ----
#
# Issue 12: a control character in full_name made the recovery application (DOCX) answer
# 500. Every field that reaches a rendered document or mail gets each of these, alone;
# each request answers a 4xx or succeeds, and whatever was accepted renders: the DOCX
# downloads, the staff views load, the mail arrives.

BAD_TEXTS = {
    "c0": "A\x00\x01\x07\x08\x0b\x0c\x1b[31mB",
    "c1-del": "A\x7f\x85\x9fB",
    "separators": "A\u2028B\u2029C",
    "bidi": "A\u202eB\u2066C\u200f",
    "nonchars": "A\ufffe\uffffB",
    "surrogate": "A\ud800B",  # a lone surrogate, sent as the JSON escape \ud800
    "markup": "<script>alert(1)</script>]]><w:p/>&amp;{{ 7*7 }}{% if x %}",
}


def _not_5xx(reply: Reply, what: str) -> Reply:
    assert reply.status < 500, (what, reply.status, reply.body[:300])
    if reply.status >= 400:
        assert reply.json()["code"], (what, reply.body[:300])
    return reply


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _docx_ok(reply: Reply, what: str) -> None:
    assert reply.status == 200, (what, reply.status, reply.body[:300])
    assert reply.body.startswith(b"PK"), what  # a zip, i.e. a DOCX


def test_the_recovery_application_of_a_name_with_a_control_character_is_never_a_500(client):
    """The attack as reported: a name with a control character, then its DOCX."""
    body = {
        "account_hint": "someone",
        "applicant_type": "individual",
        "full_name": "Olena\x01Kovalenko",
        "new_email": fresh_email("recover"),
        "phone": "+380 44 000 00 00",
        "channel": "e_signature",
    }
    created = _not_5xx(client.post("/recovery/requests", body), "create")
    if created.status == 201:
        case = created.json()
        path = f"/recovery/requests/{case['reference']}/application"
        headers = {"X-Recovery-Key": case["access_key"], "Accept": DOCX}
        application = client.get(path, headers=headers)
        _docx_ok(application, "application")
    else:
        _error(created, 422, "validation_error")


def _sweep(client: ApiClient, act) -> None:
    for name, value in BAD_TEXTS.items():
        act(name, value)


REGISTRATION_FIELDS = ["full_name"]


@pytest.mark.parametrize("field", REGISTRATION_FIELDS)
def test_registration_with_bad_text_is_4xx_or_mails(client, field):
    def act(name: str, value: str) -> None:
        email = fresh_email(f"reg-{name}")
        body = {"email": email, "password": PASSWORD, "full_name": "Ok", "locale": "en"}
        reply = _not_5xx(client.post("/auth/register", {**body, field: value}), name)
        if reply.status != 202:
            return
        token = client.mail_link_token(email)
        _not_5xx(client.post("/auth/verify-email", {"token": token}), name)
        assert len(client.mails_about(email, "", count=2)) == 2, name  # and the welcome

    _sweep(client, act)


@pytest.mark.parametrize("field", ["full_name", "address", "phone"])
def test_a_profile_with_bad_text_is_4xx_or_renders(client, field):
    account = new_account(client)

    def act(name: str, value: str) -> None:
        reply = _not_5xx(client.patch("/account", {field: value}, token=account["token"]), name)
        assert client.get("/account", token=account["token"]).status == 200, name
        if reply.status != 200:
            return
        # the reset mail greets the owner by name: it must render (an hour later each
        # time: at most five reset mails an hour per account)
        client.advance_clock(3601)
        before = sum("reset" in m["subject"] for m in client.settled_mails(account["email"]))
        assert client.post("/password/forgot", {"login": account["email"]}).status == 202
        assert len(client.mails_about(account["email"], "reset", count=before + 1)) > before
        # an idle hour ended the session (the idle timeout): sign in again for the next
        account["token"] = log_in(client, account["email"])

    _sweep(client, act)


RECOVERY_FIELDS = ["full_name", "account_hint", "phone", "company_name", "company_code"]


@pytest.mark.parametrize("field", RECOVERY_FIELDS)
def test_a_recovery_case_with_bad_text_is_4xx_or_renders_everywhere(client, field):
    staff = staff_token(client)

    def act(name: str, value: str) -> None:
        body = {
            "account_hint": "someone",
            "applicant_type": "legal_entity",
            "full_name": "Olena Kovalenko",
            "company_name": "Firma",
            "company_code": "12345678",
            "new_email": fresh_email("recover"),
            "phone": "+380 44 000 00 00",
            "channel": "post",
            field: value,
        }
        reply = _not_5xx(client.post("/recovery/requests", body), name)
        if reply.status != 201:
            return
        case = reply.json()
        key = {"X-Recovery-Key": case["access_key"]}
        path = f"/recovery/requests/{case['reference']}"
        _docx_ok(client.get(f"{path}/application", headers={**key, "Accept": DOCX}), name)
        assert client.get(path, headers=key).status == 200, name
        assert client.post(f"{path}/submit", headers=key).status == 202, name
        staff_path = f"/staff/recovery-requests/{case['reference']}"
        assert client.get(staff_path, token=staff).status == 200, name
        decision = {"decision": "reject", "reason": "Unsigned."}
        assert client.post(f"{staff_path}/decision", decision, token=staff).status == 200
        assert client.mails_about(body["new_email"], "rejected"), name

    _sweep(client, act)


def test_a_recovery_decision_with_a_bad_reason_is_4xx_or_mailed(client):
    staff = staff_token(client)

    def act(name: str, value: str) -> None:
        body, case = _recovery_case(client, full_name="Olena", company_name="Firma")
        key = {"X-Recovery-Key": case["access_key"]}
        assert (
            client.post(f"/recovery/requests/{case['reference']}/submit", headers=key).status == 202
        )
        path = f"/staff/recovery-requests/{case['reference']}/decision"
        reply = _not_5xx(
            client.post(path, {"decision": "reject", "reason": value}, token=staff), name
        )
        if reply.status == 200:
            assert client.mails_about(body["new_email"], "rejected"), name
            seen = client.get(f"/recovery/requests/{case['reference']}", headers=key)
            assert seen.status == 200, name

    _sweep(client, act)


ACCESS_FIELDS = ["full_name", "address", "phone", "login_or_email", "message"]


@pytest.mark.parametrize("field", ACCESS_FIELDS)
def test_an_access_request_with_bad_text_is_4xx_or_answered(client, field):
    def act(name: str, value: str) -> None:
        contact = fresh_email(f"access-{name}")
        form = {
            "full_name": "Jane",
            "address": "1 Street",
            "phone": "+380 44 000 00 00",
            "login_or_email": "somebody",
            "message": "I lost access",
            "email": contact,
            field: value,
        }
        reply = _not_5xx(client.post("/support/access-requests", form), name)
        if reply.status == 201:
            _staff_answer(client, reply.json()["number"], contact)

    _sweep(client, act)


@pytest.mark.parametrize("field", ["full_name", "message"])
def test_a_sales_question_with_bad_text_is_4xx_or_answered(client, field):
    def act(name: str, value: str) -> None:
        email = fresh_email(f"sales-{name}")
        question = {"email": email, "full_name": "Jane", "message": "Price?", field: value}
        reply = _not_5xx(client.post("/support/sales-questions", question), name)
        if reply.status == 201:
            _staff_answer(client, reply.json()["number"], email)

    _sweep(client, act)


@pytest.mark.parametrize("field", ["subject", "message"])
def test_a_ticket_with_bad_text_is_4xx_or_answered(client, field):
    account = new_account(client)

    def act(name: str, value: str) -> None:
        ticket = {"department": "technical", "subject": "Help", "message": "Down", field: value}
        reply = _not_5xx(client.post("/tickets", ticket, token=account["token"]), name)
        if reply.status == 201:
            number = reply.json()["number"]
            assert client.get(f"/tickets/{number}", token=account["token"]).status == 200
            _staff_answer(client, number, account["email"])

    _sweep(client, act)


def test_a_staff_reply_with_bad_text_is_4xx_or_mailed(client):
    account = new_account(client)
    staff = staff_token(client)

    def act(name: str, value: str) -> None:
        ticket = {"department": "technical", "subject": f"Help {name}", "message": "Down"}
        number = client.post("/tickets", ticket, token=account["token"]).json()["number"]
        path = f"/staff/tickets/{number}/messages"
        reply = _not_5xx(client.post(path, {"message": value}, token=staff), name)
        if reply.status == 201:
            assert client.mails_about(account["email"], number), name
            assert client.get(f"/tickets/{number}", token=account["token"]).status == 200

    _sweep(client, act)


@pytest.mark.parametrize("part", ["subject", "body", "name"])
def test_inbound_mail_with_bad_text_is_a_ticket_staff_can_answer(client, part):
    import base64

    from tests.integration.test_inbound_mail import deliver

    def encoded(text: str) -> str:
        return f"=?utf-8?b?{base64.b64encode(text.encode('utf-8', 'surrogatepass')).decode()}?="

    def act(name: str, value: str) -> None:
        asker = fresh_email(f"inbound-{name}")
        fields = {"subject": "Price", "body": "How much?", "name": "Jane"} | {part: value}
        raw = (
            f"From: {encoded(fields['name'])} <{asker}>\r\nTo: sales@clientarea.test\r\n"
            f"Subject: {encoded(fields['subject'])}\r\n"
            f"Message-ID: <{uuid.uuid4().hex}@mail.example.net>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.b64encode(fields["body"].encode("utf-8", "surrogatepass")).decode()
            + "\r\n"
        ).encode()
        outcome = deliver(client, raw, to="sales", dmarc="GRAY", dkim="GRAY")
        assert outcome["result"] in {"ticket_opened", "ignored_malformed"}, (name, outcome)
        if outcome["result"] == "ticket_opened":
            _staff_answer(client, outcome["number"], asker)

    _sweep(client, act)
