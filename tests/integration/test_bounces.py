"""Bounces and complaints (clientarea.bounces): an address SES reports as hard-bouncing
or complained about stops getting mail, the client area says so, and a new contact
email starts afresh. Driven by SES's mailbox simulator addresses (the emulator
publishes their events as SES does) and by SES's documented event records
(tests/fixtures/ses/)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.clients import ApiClient
from tests.support.accounts import PASSWORD, log_in, new_account, register_and_verify

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ses"
SIMULATOR = "simulator.amazonses.com"


def simulator_address(scenario: str) -> str:
    """SES's mailbox simulator with a label, so every test has an address of its own."""
    return f"{scenario}+{uuid.uuid4().hex[:10]}@{SIMULATOR}"


def simulator_account(client: ApiClient, scenario: str) -> dict[str, Any]:
    email = simulator_address(scenario)
    created = register_and_verify(client, email)
    return {**created, "email": email, "token": log_in(client, email)}


def account_view(client: ApiClient, account: dict[str, Any]) -> dict[str, Any]:
    reply = client.get("/account", token=account["token"])
    assert reply.status == 200, reply.body
    return reply.json()


def eventually_undeliverable(client: ApiClient, account: dict[str, Any]) -> bool:
    """GET /account's flag once the queues (SES's feedback among them) are empty."""
    client.drain_queues()
    return account_view(client, account)["email_undeliverable"]


def reset_mails(client: ApiClient, email: str, count: int = 1) -> list[dict[str, Any]]:
    return [m for m in client.mails(email, count=count) if "password" in m["subject"].lower()]


def forgot(client: ApiClient, login: str) -> tuple[int, bytes]:
    reply = client.post("/password/forgot", {"login": login})
    return reply.status, reply.body


# --- end to end: SES's simulator ----------------------------------------------------------


def test_a_hard_bounce_marks_the_contact_email_and_its_mail_stops(client):
    # GIVEN a new account whose contact address hard-bounces (SES's simulator): the
    # welcome mail sent at verification bounced
    account = simulator_account(client, "bounce")
    # THEN the client area shows the address as undeliverable
    assert eventually_undeliverable(client, account) is True
    welcome = len(client.mails(account["email"], count=2))  # verification, welcome
    assert welcome == 2
    # AND a reset request answers exactly as ever but mails nothing there
    assert forgot(client, account["email"]) == (202, b"{}")
    assert forgot(client, account["login"]) == (202, b"{}")
    assert len(client.settled_mails(account["email"])) == welcome
    assert reset_mails(client, account["email"]) == []


@pytest.mark.parametrize("scenario", ["suppressionlist", "complaint"])
def test_suppression_list_bounces_and_complaints_mark_it_too(handler_client, scenario):
    account = simulator_account(handler_client, scenario)
    assert account_view(handler_client, account)["email_undeliverable"] is True
    sent = len(handler_client.mails(account["email"]))
    # and the "your password was changed" notice of a change made meanwhile is not sent
    reply = handler_client.put(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "another long passphrase 31"},
        token=account["token"],
    )
    assert reply.status == 204
    assert len(handler_client.mails(account["email"])) == sent


def test_a_delivered_mail_changes_nothing(handler_client):
    account = simulator_account(handler_client, "success")
    forgot(handler_client, account["email"])
    forgot(handler_client, account["email"])
    assert account_view(handler_client, account)["email_undeliverable"] is False
    assert len(reset_mails(handler_client, account["email"], count=2)) == 2


def test_forgot_answers_the_same_for_undeliverable_deliverable_and_unknown(handler_client):
    gone = simulator_account(handler_client, "bounce")
    assert account_view(handler_client, gone)["email_undeliverable"] is True
    fine = simulator_account(handler_client, "success")
    replies = {
        forgot(handler_client, login)
        for login in (
            gone["email"],
            gone["login"],
            fine["email"],
            f"nobody-{uuid.uuid4().hex[:8]}@example.com",
        )
    }
    assert replies == {(202, b"{}")}


def test_a_confirmed_email_change_clears_it_and_the_old_address_hears_nothing(client):
    # GIVEN an account whose contact address is undeliverable
    account = simulator_account(client, "bounce")
    assert eventually_undeliverable(client, account) is True
    before = len(client.mails(account["email"]))
    # WHEN the client changes it and confirms from the new mailbox
    new_email = f"fresh-{uuid.uuid4().hex[:10]}@example.com"
    reply = client.post(
        "/account/email-change",
        {"new_email": new_email, "current_password": PASSWORD},
        token=account["token"],
    )
    assert reply.status == 202, reply.body
    token = client.mail_link_token(new_email)
    confirmed = client.post("/account/email-change/confirm", {"token": token})
    assert confirmed.status == 200, confirmed.body
    # THEN the new address is the contact email, deliverable, and mail reaches it
    assert confirmed.json()["email_undeliverable"] is False
    view = account_view(client, account)
    assert (view["email"], view["email_undeliverable"]) == (new_email, False)
    assert forgot(client, new_email) == (202, b"{}")
    assert client.mail_link_token(new_email, subject_contains="password")
    # AND the undeliverable old address got neither the change request nor its notice
    assert len(client.settled_mails(account["email"])) == before


def test_dev_route_publishes_feedback_for_any_address(http_client, unique_email):
    account = new_account(http_client, unique_email)
    # a transient bounce: nothing changes
    reply = http_client.post("/_dev/ses-feedback", {"email": account["email"], "type": "transient"})
    assert reply.status == 202 and reply.json()["published"] == 1
    http_client.drain_queues()
    assert account_view(http_client, account)["email_undeliverable"] is False
    # a complaint: the address is undeliverable
    reply = http_client.post("/_dev/ses-feedback", {"email": account["email"], "type": "complaint"})
    assert reply.json() == {"event_type": "Complaint", "published": 1}
    assert eventually_undeliverable(http_client, account) is True
    # and nonsense is a 422, never a 500
    for body in ({}, {"email": "x"}, {"email": account["email"], "type": "meh"}):
        assert http_client.post("/_dev/ses-feedback", body).status == 422


# --- the function, with SES's documented records ---------------------------------------------


def fixture(name: str, recipient: str) -> dict[str, Any]:
    text = (FIXTURES / f"{name}.json").read_text()
    original = json.loads(text)["mail"]["destination"][0]
    return json.loads(text.replace(original, recipient))


def sns_envelope(record: dict[str, Any]) -> dict[str, Any]:
    """SNS's notification, as an SQS subscription without raw delivery receives it."""
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": "arn:aws:sns:eu-central-1:123456789012:clientarea-local-MailFeedbackTopic",
        "Message": json.dumps(record),
        "Timestamp": "2026-12-04T10:00:02.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.eu-central-1.amazonaws.com/SimpleNotificationService.pem",
        "UnsubscribeURL": "https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe",
    }


def run_bounces(deployment, *bodies: str) -> dict[str, Any]:
    from infra.local.lambdas import invoke

    function = deployment.stack.functions()["BouncesFunction"]
    records = [
        {
            "messageId": f"m{index}",
            "receiptHandle": f"r{index}",
            "body": body,
            "attributes": {},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-central-1:123456789012:clientarea-local-BouncesQueue",
            "awsRegion": "eu-central-1",
        }
        for index, body in enumerate(bodies)
    ]
    return invoke(function, {"Records": records})


@pytest.fixture
def three_accounts(handler_client) -> list[dict[str, Any]]:
    accounts = []
    for _ in range(3):
        email = f"Mixed.Case-{uuid.uuid4().hex[:8]}@Example.COM"
        created = register_and_verify(handler_client, email)
        accounts.append({**created, "email": email.split("@", maxsplit=1)[0] + "@example.com"})
    for item in accounts:
        item["token"] = log_in(handler_client, item["email"])
    return accounts


def test_documented_records_mark_hard_bounces_and_complaints_only(
    deployment, handler_client, three_accounts
):
    bounced, complained, untouched = three_accounts
    # GIVEN SES's records: a hard bounce and a complaint (one inside SNS's envelope, as
    # a subscription without raw delivery gets it), a soft bounce and a delivery
    bodies = [
        json.dumps(fixture("bounce", bounced["email"])),
        json.dumps(sns_envelope(fixture("complaint", complained["email"]))),
        json.dumps(fixture("transient", untouched["email"])),
        json.dumps(fixture("delivery", untouched["email"])),
    ]
    # WHEN the bounces function gets them in one batch
    assert run_bounces(deployment, *bodies) == {"batchItemFailures": []}
    # THEN exactly the hard bounce and the complaint made their addresses undeliverable
    flags = [account_view(handler_client, a)["email_undeliverable"] for a in three_accounts]
    assert flags == [True, True, False]
    # AND the same record again changes nothing more (SNS may deliver twice)
    assert run_bounces(deployment, bodies[0]) == {"batchItemFailures": []}
    assert account_view(handler_client, bounced)["email_undeliverable"] is True


def test_feedback_matches_the_address_however_it_is_capitalised(
    deployment, handler_client, three_accounts
):
    account = three_accounts[0]
    shouted = account["email"].upper()
    assert run_bounces(deployment, json.dumps(fixture("suppressionlist", shouted))) == {
        "batchItemFailures": []
    }
    assert account_view(handler_client, account)["email_undeliverable"] is True


def test_feedback_about_strangers_or_former_addresses_marks_nobody(
    deployment, handler_client, three_accounts
):
    account = three_accounts[0]
    former = account["email"]
    # GIVEN the client moved to a new address before SES's report on the old one came in
    new_email = f"moved-{uuid.uuid4().hex[:8]}@example.com"
    handler_client.post(
        "/account/email-change",
        {"new_email": new_email, "current_password": PASSWORD},
        token=account["token"],
    )
    token = handler_client.mail_link_token(new_email)
    assert handler_client.post("/account/email-change/confirm", {"token": token}).status == 200
    # WHEN reports arrive for the former address and for an address nobody holds
    stranger = f"stranger-{uuid.uuid4().hex[:8]}@example.com"
    result = run_bounces(
        deployment,
        json.dumps(fixture("bounce", former)),
        json.dumps(fixture("complaint", stranger)),
    )
    # THEN nothing fails, and the account's new address is deliverable
    assert result == {"batchItemFailures": []}
    assert account_view(handler_client, account)["email_undeliverable"] is False


def test_a_record_that_is_not_ses_feedback_fails_alone(deployment, handler_client, three_accounts):
    good = json.dumps(fixture("bounce", three_accounts[0]["email"]))
    result = run_bounces(deployment, "not json", good, json.dumps({"hello": "world"}))
    # only the unreadable ones go back to the queue (and to its DLQ after five tries)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m2"}]}
    assert account_view(handler_client, three_accounts[0])["email_undeliverable"] is True


def test_the_mailer_drops_mail_to_an_undeliverable_address(
    deployment, handler_client, three_accounts, capsys, caplog
):
    from clientarea.mail import outbox
    from moto.ses.models import ses_backends

    from infra.local.stack import ACCOUNT_ID, REGION

    gone, fine, _ = three_accounts
    run_bounces(deployment, json.dumps(fixture("bounce", gone["email"])))
    sent = ses_backends[ACCOUNT_ID][REGION].sent_messages
    before = len(sent)
    capsys.readouterr()
    # WHEN a notice is queued for both
    notice = {
        "full_name": "X",
        "changed_at": "2026-12-04T10:00:00Z",
        "reset_link": "https://x.test/forgot-password",
    }
    for address in (gone["email"], fine["email"]):
        outbox.send("password_changed", address, "en", **notice)
    deployment.queues.drain()
    # THEN only the deliverable address gets it, and the drop is counted
    recipients = [sorted(set(m.destinations)) for m in sent[before:]]
    assert recipients == [[fine["email"]]], recipients
    printed = capsys.readouterr().out
    assert "MailSuppressed" in printed
    dropped = [r for r in caplog.records if r.getMessage().startswith("mail not sent")]
    assert [getattr(r, "kind", None) for r in dropped] == ["password_changed"]
    # never the address in the logs
    assert gone["email"] not in printed + "".join(str(vars(r)) for r in caplog.records)


def test_an_approved_recovery_tells_only_the_new_address_when_the_old_one_bounces(
    handler_client,
):
    from tests.integration.test_recovery import decide, under_review
    from tests.support.accounts import admin_token

    # GIVEN an account whose contact address hard-bounces, and a recovery case for it
    account = simulator_account(handler_client, "bounce")
    assert account_view(handler_client, account)["email_undeliverable"] is True
    body, case = under_review(handler_client, account["login"])
    before = len(handler_client.mails(account["email"]))
    # WHEN an admin approves it
    reply = decide(handler_client, admin_token(handler_client), case["reference"], "approve", "ok")
    assert reply.status == 200, reply.body
    # THEN the new address is told, and is the account's deliverable contact email
    assert any("approved" in m["subject"] for m in handler_client.mails(body["new_email"], count=2))
    token = log_in(handler_client, body["new_email"])
    view = account_view(handler_client, {"token": token})
    assert (view["email"], view["email_undeliverable"]) == (body["new_email"], False)
    # AND the bouncing old address is not mailed (its claim, which the mailer checks, is gone)
    assert len(handler_client.mails(account["email"])) == before
