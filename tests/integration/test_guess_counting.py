"""Secrets are counted before they are checked (issue 12): link tokens and recovery
access keys count against the caller's address first, so an address that has spent its
guesses learns nothing more, not even that a guess was right.

Were guesses counted only when wrong (after being checked), a guesser over the limit
would still have every guess checked: a wrong one answers 429, a right one works, and
the limit would be no limit at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.clients import ApiClient, Reply
from tests.support.accounts import PASSWORD, fresh_email, log_in, register_and_verify

ATTACKER = "198.51.100.66"
ELSEWHERE = "198.51.100.67"
ALLOWANCE = 3  # guesses per address and hour in these tests (IpRequestsPerHour)
NEW_PASSWORD = "a guessed-at new passphrase 5"


@dataclass(frozen=True)
class Secret:
    """A route that takes a secret: `send(secret, ip)`; the right secret and a wrong one."""

    send: Callable[[str, str], Reply]
    right: str
    wrong: str
    works: int  # the success status
    refused: int  # the status of a wrong secret


def _wrong_token(token: str) -> str:
    """The same subject (so the same item is looked up), another 256-bit secret."""
    subject, _, secret = token.rpartition(".")
    return f"{subject}.{'A' * len(secret)}"


def _token_route(client: ApiClient, path: str, token: str, **extra: Any) -> Secret:
    def send(secret: str, ip: str) -> Reply:
        return client.post(path, {"token": secret, **extra}, ip=ip)

    works = 204 if path == "/password/reset" else 200
    return Secret(send, token, _wrong_token(token), works, 410)


def _reset_link(client: ApiClient) -> str:
    email = fresh_email("guess")
    register_and_verify(client, email)
    assert client.post("/password/forgot", {"login": email}).status == 202
    return client.mail_link_token(email, subject_contains="password")


def _reset_verify(client: ApiClient) -> Secret:
    return _token_route(client, "/password/reset/verify", _reset_link(client))


def _reset(client: ApiClient) -> Secret:
    return _token_route(client, "/password/reset", _reset_link(client), new_password=NEW_PASSWORD)


def _verify_email(client: ApiClient) -> Secret:
    email = fresh_email("guess")
    body = {"email": email, "password": PASSWORD, "full_name": "Guess Target"}
    assert client.post("/auth/register", body).status == 202
    return _token_route(client, "/auth/verify-email", client.mail_link_token(email))


def _email_change(client: ApiClient) -> Secret:
    email, new = fresh_email("guess"), fresh_email("guess")
    register_and_verify(client, email)
    token = log_in(client, email)
    body = {"new_email": new, "current_password": PASSWORD}
    assert client.post("/account/email-change", body, token=token).status == 202
    link = client.mail_link_token(new, subject_contains="confirm your new")
    return _token_route(client, "/account/email-change/confirm", link)


def _cession(path: str) -> Callable[[ApiClient], Secret]:
    def arrange(client: ApiClient) -> Secret:
        from tests.integration.test_cession import activated, new_party

        owner, recipient = new_party(client), new_party(client)
        _, _, owner_link, _ = activated(client, owner, recipient)
        return _token_route(client, path, owner_link)

    return arrange


def _recovery(method: str, suffix: str, works: int) -> Callable[[ApiClient], Secret]:
    def arrange(client: ApiClient) -> Secret:
        from tests.integration.test_recovery import DOCX, KEY, open_case, upload_required

        _, case = open_case(client, "somebody")
        if suffix == "/submit":
            upload_required(case)
        path = f"/recovery/requests/{case['reference']}{suffix}"

        def send(key: str, ip: str) -> Reply:
            return client.request(method, path, headers={KEY: key, "Accept": DOCX}, ip=ip)

        return Secret(send, case["access_key"], "A" * len(case["access_key"]), works, 404)

    return arrange


SECRETS = {
    "reset-verify": _reset_verify,
    "reset": _reset,
    "verify-email": _verify_email,
    "email-change-confirm": _email_change,
    "cession-confirm": _cession("/cession/confirm"),
    "cession-decline": _cession("/cession/decline"),
    "recovery-view": _recovery("GET", "", 200),
    "recovery-application": _recovery("GET", "/application", 200),
    "recovery-submit": _recovery("POST", "/submit", 202),
}


@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_an_address_that_spent_its_guesses_gets_even_the_right_secret_refused(
    handler_client, monkeypatch, kind
):
    # GIVEN a live secret (made with the usual allowance), then an allowance of 3 guesses
    secret = SECRETS[kind](handler_client)
    monkeypatch.setenv("IP_REQUESTS_PER_HOUR", str(ALLOWANCE))
    with handler_client.frozen_clock():  # one hourly window
        # WHEN one address sends 3 wrong guesses, then the right secret
        wrong = [secret.send(secret.wrong, ATTACKER) for _ in range(ALLOWANCE)]
        right = secret.send(secret.right, ATTACKER)
        # THEN the wrong ones were refused as wrong, and the right one unchecked: 429
        assert [r.status for r in wrong] == [secret.refused] * ALLOWANCE
        assert right.status == 429, (right.status, right.body[:200])
        assert right.json()["code"] == "rate_limited"
        assert 0 < int(right.header("Retry-After")) <= 3600
        # AND from another address the same secret still works: nothing was locked
        elsewhere = secret.send(secret.right, ELSEWHERE)
    assert elsewhere.status == secret.works, elsewhere.body[:200]
