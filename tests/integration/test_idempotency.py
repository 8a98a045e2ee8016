"""Idempotency-Key (API.md "Conventions"): same key and body within an hour replays."""

from __future__ import annotations

import uuid

from tests.conftest import PASSWORD


def test_same_key_and_body_replays_instead_of_acting_twice(client, unique_email):
    # GIVEN a registration sent twice with one Idempotency-Key (a retried request)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"email": unique_email, "password": PASSWORD, "full_name": "Retry Ann"}
    first = client.post("/auth/register", body, headers=key)
    second = client.post("/auth/register", body, headers=key)
    # THEN both answers are the same and only one verification mail went out
    assert (first.status, first.body) == (second.status, second.body) == (202, b"{}")
    assert len(client.mails(unique_email, count=2, timeout=2)) == 1


def test_replayed_reset_answers_204_again_rather_than_410(client, account):
    client.post("/password/forgot", {"login": account["email"]})
    token = client.mail_link_token(account["email"], subject_contains="password")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"token": token, "new_password": "retried new passphrase ok"}
    assert client.post("/password/reset", body, headers=key).status == 204
    assert client.post("/password/reset", body, headers=key).status == 204
    # without the key the link is spent, as always
    assert client.post("/password/reset", body).status == 410


def test_same_key_with_another_body_is_refused(client, account):
    key = {"Idempotency-Key": str(uuid.uuid4())}
    assert (
        client.patch(
            "/account", {"phone": "+380441234567"}, token=account["token"], headers=key
        ).status
        == 200
    )
    reply = client.patch(
        "/account", {"phone": "+351211234567"}, token=account["token"], headers=key
    )
    assert (reply.status, reply.json()["code"]) == (422, "idempotency_key_reused")
    assert client.get("/account", token=account["token"]).json()["phone"] == "+380441234567"


def test_login_is_never_replayed_because_its_answer_is_a_secret(client, account):
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"login": account["email"], "password": PASSWORD}
    first = client.post("/auth/login", body, headers=key).json()["session_token"]
    second = client.post("/auth/login", body, headers=key).json()["session_token"]
    assert first != second
