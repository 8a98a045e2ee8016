"""Idempotency-Key (API.md "Conventions"): same key and body within an hour replays."""

from __future__ import annotations

import uuid
from typing import Any

from tests.clients import ApiClient
from tests.support.accounts import PASSWORD, log_in, new_account


def test_same_key_and_body_replays_instead_of_acting_twice(client, unique_email):
    # GIVEN a registration sent twice with one Idempotency-Key (a retried request)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"email": unique_email, "password": PASSWORD, "full_name": "Retry Ann"}
    first = client.post("/auth/register", body, headers=key)
    second = client.post("/auth/register", body, headers=key)
    # THEN both answers are the same and only one verification mail went out
    assert (first.status, first.body) == (second.status, second.body) == (202, b"{}")
    assert len(client.settled_mails(unique_email)) == 1


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


# --- the scope: method, concrete path, caller (session or recovery key), body ----------


def test_the_same_key_and_body_on_two_tickets_acts_on_each(client, account):
    from tests.integration.test_support import open_ticket

    # GIVEN two tickets of one client, and one key reused for a message to each
    first, second = open_ticket(client, account), open_ticket(client, account)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"message": "Any news?"}
    to_first = client.post(f"/tickets/{first}/messages", body, token=account["token"], headers=key)
    to_second = client.post(
        f"/tickets/{second}/messages", body, token=account["token"], headers=key
    )
    # THEN each ticket got its message: the second was not answered with the first's reply
    assert to_first.status == to_second.status == 201
    assert to_first.json()["message_id"] != to_second.json()["message_id"]
    for number in (first, second):
        ticket = client.get(f"/tickets/{number}", token=account["token"]).json()
        assert [m["body"] for m in ticket["messages"]][-1] == "Any news?", number
    # AND the same request on the same ticket is still replayed, not sent twice
    again = client.post(f"/tickets/{first}/messages", body, token=account["token"], headers=key)
    assert (again.status, again.body) == (to_first.status, to_first.body)
    ticket = client.get(f"/tickets/{first}", token=account["token"]).json()
    assert [m["body"] for m in ticket["messages"]].count("Any news?") == 1


def test_another_session_with_the_same_key_acts_afresh(client, account):
    # GIVEN two sessions of one account (say a phone and a laptop) sending the same
    # request with the same key: not a retry of one request, two requests
    other = log_in(client, account["email"])
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"department": "technical", "subject": "Mail bounces", "message": "Since today."}
    first = client.post("/tickets", body, token=account["token"], headers=key)
    second = client.post("/tickets", body, token=other, headers=key)
    # THEN each opened its own ticket
    assert first.status == second.status == 201
    assert first.json()["number"] != second.json()["number"]


def _posted_company_case(client: ApiClient) -> dict[str, Any]:
    """A recovery case a company opened, its papers to come by post."""
    from tests.integration.test_recovery import open_case

    _, case = open_case(
        client,
        "anyone",
        applicant_type="legal_entity",
        channel="post",
        company_name="Romashka LLC",
        company_code="12345678",
    )
    return case


def test_a_reused_key_without_the_recovery_key_is_not_replayed(client):
    from tests.integration.test_recovery import KEY

    # GIVEN a case the applicant submitted with an Idempotency-Key
    case = _posted_company_case(client)
    path = f"/recovery/requests/{case['reference']}/submit"
    key = {"Idempotency-Key": str(uuid.uuid4())}
    submitted = client.post(path, headers={**key, KEY: case["access_key"]})
    assert submitted.status == 202
    # WHEN someone without the access key (or with a wrong one) sends the same key
    anonymous = client.post(path, headers=key)
    wrong = client.post(path, headers={**key, KEY: "A" * 43})
    # THEN they get the 404 everyone without the key gets, never the applicant's answer
    for reply in (anonymous, wrong):
        assert (reply.status, reply.json()["code"]) == (404, "not_found"), reply.body
    # AND the applicant's own retry is still replayed
    retried = client.post(path, headers={**key, KEY: case["access_key"]})
    assert (retried.status, retried.body) == (submitted.status, submitted.body)


def test_the_idempotency_table_keeps_no_secret_in_clear(handler_client, unique_email):
    import boto3

    from tests.integration.test_recovery import KEY

    client = handler_client
    account = new_account(client, unique_email)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    client.patch("/account", {"phone": "+380441234567"}, token=account["token"], headers=key)
    case = _posted_company_case(client)
    client.post(
        f"/recovery/requests/{case['reference']}/submit",
        headers={**key, KEY: case["access_key"]},
    )
    table = client.deployment.table("IdempotencyTable")
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    assert len(items) == 2
    stored = repr(items)
    session_secret = account["token"].split(".", 1)[1]
    for secret in (session_secret, case["access_key"]):
        assert secret not in stored
