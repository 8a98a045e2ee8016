"""Password reset by emailed link (API.md "Password reset"), through the handlers and over HTTP."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from infra.local.deployment import DEV_FRONTEND_URL
from tests.support.accounts import PASSWORD, log_in, register_and_verify

NEW_PASSWORD = "a brand new passphrase 2026"
TWO_HOURS = 2 * 3600


def request_reset_token(client, email, *, count=1):
    assert client.post("/password/forgot", {"login": email}).status == 202
    return client.mail_link_token(email, subject_contains="password", count=count)


def reset_mails(client, email):
    return [m for m in client.mails(email) if "reset" in m["subject"].lower()]


# --- forgot: same answer for everyone ------------------------------------------------


def test_forgot_answers_the_same_for_known_and_unknown_logins(client, account):
    # GIVEN one real account and one address nobody registered
    unknown = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    # WHEN both ask for a reset, by email and by login, and with a malformed value
    replies = [
        client.post("/password/forgot", {"login": login})
        for login in (account["email"], unknown, account["login"], "no such login", "@@")
    ]
    # THEN every answer is 202 {} and only the real owner receives a link
    assert {(r.status, r.body) for r in replies} == {(202, b"{}")}
    assert len(client.mails(account["email"], count=3)) >= 3  # verification + 2 resets
    assert client.settled_mails(unknown) == []


def test_reset_mail_states_two_hour_validity_and_points_at_the_frontend(client, account):
    # WHEN the owner asks for a reset
    before = client.server_now()
    request_reset_token(client, account["email"])
    # THEN the mail says how long the link lives and until when, in UTC
    mail = reset_mails(client, account["email"])[-1]
    assert "2 hours" in mail["text"]
    assert "UTC" in mail["text"]
    (link,) = [link for link in mail["links"] if "#token=" in link]
    assert link.startswith(f"{DEV_FRONTEND_URL}/reset-password#token=")
    # and the token lives in the fragment, never in a query string a server would log
    assert "?" not in link
    assert mail["sent_at"] is not None
    assert before.year == int(mail["sent_at"][:4])


@pytest.mark.parametrize(
    ("locale", "validity"),
    [
        ("uk", "2 години"),
        ("ru", "2 часа"),
        ("pl", "2 godziny"),
        ("pt", "2 horas"),
        ("en", "2 hours"),
    ],
)
def test_reset_mail_is_in_the_account_language(handler_client, unique_email, locale, validity):
    # GIVEN an account registered in one of the five languages
    register_and_verify(handler_client, unique_email, locale=locale)
    # WHEN a reset is requested with a different Accept-Language
    handler_client.post(
        "/password/forgot", {"login": unique_email}, headers={"Accept-Language": "en"}
    )
    # THEN the mail follows the account's language
    mail = handler_client.mails(unique_email)[-1]
    assert validity in mail["text"]
    assert validity in mail["html"]


# --- verify ---------------------------------------------------------------------------


def test_verify_reports_expiry_two_hours_ahead_and_does_not_use_the_link(client, account):
    issued_at = client.server_now()
    token = request_reset_token(client, account["email"])
    # WHEN the page checks the link twice
    first = client.post("/password/reset/verify", {"token": token})
    second = client.post("/password/reset/verify", {"token": token})
    # THEN both succeed with the expiry, and the link still works for the reset
    assert first.status == second.status == 200
    expires_at = datetime.strptime(first.json()["expires_at"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=UTC
    )
    assert (
        timedelta(hours=2) - timedelta(seconds=1)
        <= expires_at - issued_at
        <= timedelta(hours=2, seconds=30)
    )
    assert (
        client.post("/password/reset", {"token": token, "new_password": NEW_PASSWORD}).status == 204
    )


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "100001.short", "x" * 400, "1." + "A" * 43, 12345, None, ["a"], {"a": 1}],
)
def test_malformed_or_unknown_tokens_are_410_or_422_never_5xx(client, token):
    reply = client.post("/password/reset/verify", {"token": token})
    if isinstance(token, str) and 0 < len(token) <= 512:
        assert reply.status == 410
        assert reply.json()["code"] == "token_invalid"
    else:
        assert reply.status == 422
        assert reply.json()["code"] == "validation_error"


# --- the 2-hour boundary -----------------------------------------------------------------


def test_link_still_works_at_1_59_59(client, account):
    # Frozen, so that 1:59:59 means exactly that however long mail delivery takes.
    with client.frozen_clock():
        token = request_reset_token(client, account["email"])
        client.advance_clock(TWO_HOURS - 1)
        assert client.post("/password/reset/verify", {"token": token}).status == 200
        assert (
            client.post("/password/reset", {"token": token, "new_password": NEW_PASSWORD}).status
            == 204
        )
    log_in(client, account["email"], NEW_PASSWORD)


def test_link_is_gone_at_2_00_01(client, account):
    with client.frozen_clock():
        token = request_reset_token(client, account["email"])
        client.advance_clock(TWO_HOURS + 1)
        verify = client.post("/password/reset/verify", {"token": token})
        reset = client.post("/password/reset", {"token": token, "new_password": NEW_PASSWORD})
    assert (verify.status, verify.json()["code"]) == (410, "token_invalid")
    assert (reset.status, reset.json()["code"]) == (410, "token_invalid")
    # and the old password still works: nothing changed
    log_in(client, account["email"], PASSWORD)


# --- one use, supersession, races -------------------------------------------------------------


def test_a_password_change_kills_a_pending_reset_link(client, account):
    # GIVEN a reset link waiting in the mailbox (asked for by the owner, or by whoever
    # can read that mailbox)
    token = request_reset_token(client, account["email"])
    # WHEN the owner, signed in, changes the password
    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert client.put("/account/password", change, token=account["token"]).status == 204
    # THEN the old link neither checks out nor resets
    verify = client.post("/password/reset/verify", {"token": token})
    reset = client.post("/password/reset", {"token": token, "new_password": PASSWORD + " x"})
    assert (verify.status, verify.json()["code"]) == (410, "token_invalid")
    assert (reset.status, reset.json()["code"]) == (410, "token_invalid")
    # AND the password is the one the owner chose, and their session goes on
    log_in(client, account["email"], NEW_PASSWORD)
    assert client.get("/account", token=account["token"]).status == 200


def test_link_works_once(client, account):
    token = request_reset_token(client, account["email"])
    assert (
        client.post("/password/reset", {"token": token, "new_password": NEW_PASSWORD}).status == 204
    )
    again = client.post("/password/reset", {"token": token, "new_password": NEW_PASSWORD + "x"})
    assert (again.status, again.json()["code"]) == (410, "token_invalid")
    log_in(client, account["email"], NEW_PASSWORD)


def test_newer_link_supersedes_older(client, account):
    older = request_reset_token(client, account["email"])
    newer = request_reset_token(client, account["email"], count=2)
    assert older != newer
    stale = client.post("/password/reset", {"token": older, "new_password": NEW_PASSWORD})
    assert (stale.status, stale.json()["code"]) == (410, "token_invalid")
    assert (
        client.post("/password/reset", {"token": newer, "new_password": NEW_PASSWORD}).status == 204
    )


def test_only_one_of_two_racing_resets_wins(http_client, unique_email):
    from concurrent.futures import ThreadPoolExecutor

    register_and_verify(http_client, unique_email)
    token = request_reset_token(http_client, unique_email)
    passwords = [f"racing passphrase number {i} ok" for i in range(4)]
    with ThreadPoolExecutor(4) as pool:
        replies = list(
            pool.map(
                lambda p: http_client.post("/password/reset", {"token": token, "new_password": p}),
                passwords,
            )
        )
    statuses = sorted(r.status for r in replies)
    assert statuses == [204, 410, 410, 410]
    winner = passwords[[r.status for r in replies].index(204)]
    log_in(http_client, unique_email, winner)


def test_a_new_request_after_a_completed_reset_works(client, account):
    first = request_reset_token(client, account["email"])
    assert (
        client.post("/password/reset", {"token": first, "new_password": NEW_PASSWORD}).status == 204
    )
    second = request_reset_token(client, account["email"], count=3)  # and "was changed"
    assert client.post("/password/reset/verify", {"token": second}).status == 200


# --- what a reset does ---------------------------------------------------------------------


def test_reset_revokes_every_session_and_sends_a_notice(client, account):
    # GIVEN two sessions of the account
    other_session = log_in(client, account["email"])
    token = request_reset_token(client, account["email"])
    # WHEN the password is reset by link
    assert (
        client.post("/password/reset", {"token": token, "new_password": NEW_PASSWORD}).status == 204
    )
    # THEN both sessions are dead at once, the old password fails, the new one works
    for session in (account["token"], other_session):
        reply = client.get("/account", token=session)
        assert (reply.status, reply.json()["code"]) == (401, "unauthorized")
    old = client.post("/auth/login", {"login": account["email"], "password": PASSWORD})
    assert (old.status, old.json()["code"]) == (401, "invalid_credentials")
    log_in(client, account["email"], NEW_PASSWORD)
    # and the owner is told
    notices = [
        m for m in client.mails(account["email"], count=3) if "changed" in m["subject"].lower()
    ]
    assert notices, [m["subject"] for m in client.mails(account["email"])]


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short one", "too_short"),
        ("x" * 129, "too_long"),
        ("passwordpassword", "common"),
        ("abcabcabcabcabcabc", "common"),
    ],
)
def test_weak_new_password_is_refused_and_the_link_survives(client, account, password, reason):
    token = request_reset_token(client, account["email"])
    reply = client.post("/password/reset", {"token": token, "new_password": password})
    assert reply.status == 422
    assert reply.json()["code"] == "weak_password"
    assert reply.json()["reason"] == reason
    assert client.post("/password/reset/verify", {"token": token}).status == 200


def test_new_password_may_not_contain_the_login_or_email(client, unique_email):
    created = register_and_verify(client, unique_email, login=f"ann{uuid.uuid4().hex[:6]}")
    token = request_reset_token(client, unique_email)
    with_login = client.post(
        "/password/reset",
        {"token": token, "new_password": f"my {created['login'].upper()} is great"},
    )
    with_email = client.post(
        "/password/reset", {"token": token, "new_password": f"{unique_email} forever"}
    )
    assert with_login.json()["reason"] == "contains_login"
    assert with_email.json()["reason"] == "contains_email"


def test_a_reset_lifts_the_login_pause(handler_client, unique_email):
    register_and_verify(handler_client, unique_email)
    account = {"email": unique_email}
    for _ in range(5):  # the address's allowance for one window
        handler_client.post(
            "/auth/login", {"login": account["email"], "password": "wrong password x"}
        )
    paused = handler_client.post("/auth/login", {"login": account["email"], "password": PASSWORD})
    assert paused.status == 429
    token = request_reset_token(handler_client, account["email"])
    assert (
        handler_client.post(
            "/password/reset", {"token": token, "new_password": NEW_PASSWORD}
        ).status
        == 204
    )
    log_in(handler_client, account["email"], NEW_PASSWORD)


# --- throttling --------------------------------------------------------------------------------


@pytest.fixture
def low_ip_limit(monkeypatch):
    monkeypatch.setenv("IP_REQUESTS_PER_HOUR", "3")


def test_forgot_is_throttled_per_ip_with_retry_after(handler_client, low_ip_limit):
    replies = [
        handler_client.post("/password/forgot", {"login": "someone"}, ip="198.51.100.1")
        for _ in range(4)
    ]
    assert [r.status for r in replies] == [202, 202, 202, 429]
    limited = replies[-1]
    assert limited.json()["code"] == "rate_limited"
    assert 0 < int(limited.header("Retry-After")) <= 3600
    # another address is not affected
    assert (
        handler_client.post("/password/forgot", {"login": "someone"}, ip="198.51.100.2").status
        == 202
    )


def test_token_guessing_is_throttled_per_ip_and_locks_nothing(
    handler_client, unique_email, low_ip_limit
):
    account = register_and_verify(handler_client, unique_email) | {"email": unique_email}
    token = request_reset_token(handler_client, account["email"])
    guesses = [
        handler_client.post(
            "/password/reset/verify",
            {"token": f"{account['client_number']}.{'A' * 43}"},
            ip="198.51.100.9",
        )
        for _ in range(4)
    ]
    assert [g.status for g in guesses] == [410, 410, 410, 429]
    # the owner, from their own address, is not locked out
    assert (
        handler_client.post(
            "/password/reset", {"token": token, "new_password": NEW_PASSWORD}
        ).status
        == 204
    )


def test_reset_mails_per_account_are_capped(handler_client, unique_email):
    register_and_verify(handler_client, unique_email)
    account = {"email": unique_email}
    for i in range(8):
        handler_client.post(
            "/password/forgot", {"login": account["email"]}, ip=f"198.51.100.{i + 20}"
        )
    resets = reset_mails(handler_client, account["email"])
    assert len(resets) == 5


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/password/forgot", "/password/reset/verify", "/password/reset"])
def test_bad_bodies_get_clear_4xx(client, path):
    assert client.post(path, raw=b"{not json").status == 422
    assert client.post(path, {}).json()["code"] == "validation_error"
    assert client.post(path, raw=b'{"login": "' + b"a" * 70_000 + b'"}').status == 413
    wrong_type = client.post(path, raw=b"login=x", headers={"Content-Type": "text/plain"})
    assert wrong_type.status == 415
    errors = client.post(path, {}).json()["errors"]
    assert all({"loc", "msg", "type"} <= set(e) for e in errors)


def test_no_error_leaks_internals(client):
    for reply in (
        client.post("/password/reset", {"token": "1." + "A" * 43, "new_password": NEW_PASSWORD}),
        client.post("/password/reset", raw=b"[[[[[[[[[[[[[[[["),
    ):
        text = reply.body.decode()
        assert reply.status < 500
        assert not re.search(r"Traceback|arn:aws|clientarea-local|botocore", text)
