"""Each flow that writes through a unit of work learns which condition failed from the
refusal itself (`ConditionsFailed.failed`), never from a re-read: a request whose read
went stale (another request changed the item between its read and its write) is
refused with the name of the condition that no longer held, and answers what that
means. In-process: the stale read is the request's own read, served from before the
other change."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.integration.test_cession import activated, mails_about, new_party, outcome_mails
from tests.integration.test_inbound_mail import PASS, eml, simple_mail
from tests.integration.test_recovery import decide, new_owner, under_review
from tests.integration.test_support import new_client, open_ticket
from tests.support.accounts import admin_token, staff_token


@pytest.fixture
def refusals(deployment: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[set[str]]]:
    """The names each refused unit of work reported, in order."""
    from clientarea.errors import ConditionsFailed
    from clientarea.storage.unit_of_work import UnitOfWork

    seen: list[set[str]] = []
    original = UnitOfWork._failure

    def recording(self: UnitOfWork, exc: Exception) -> Exception:
        failure = original(self, exc)  # type: ignore[arg-type]
        if isinstance(failure, ConditionsFailed):
            seen.append(set(failure.failed))
        return failure

    monkeypatch.setattr(UnitOfWork, "_failure", recording)
    yield seen


# --- tickets ------------------------------------------------------------------------------


def test_a_client_reply_to_a_ticket_closed_meanwhile_is_409_ticket_closed(
    handler_client, refusals, monkeypatch
):
    from clientarea.storage import tickets

    owner = new_client(handler_client)
    number = open_ticket(handler_client, owner)
    stale = tickets.get(number)  # the reply's read: still open
    assert handler_client.post(f"/tickets/{number}/close", token=owner["token"]).status == 200
    with monkeypatch.context() as patch:
        patch.setattr(tickets, "get", lambda _number: stale)
        reply = handler_client.post(
            f"/tickets/{number}/messages", {"message": "Still there?"}, token=owner["token"]
        )
    assert (reply.status, reply.json()["code"]) == (409, "ticket_closed")
    assert refusals == [{tickets.OPEN_TICKET}]
    ticket = handler_client.get(f"/tickets/{number}", token=owner["token"]).json()
    assert ticket["status"] == "closed" and len(ticket["messages"]) == 1


def test_a_staff_reply_to_a_ticket_closed_meanwhile_is_409_and_mails_nobody(
    handler_client, refusals, monkeypatch
):
    from clientarea.storage import tickets

    owner = new_client(handler_client)
    number = open_ticket(handler_client, owner)
    staff = staff_token(handler_client)
    mails_before = len(handler_client.settled_mails(owner["email"]))
    stale = tickets.get(number)
    assert handler_client.post(f"/tickets/{number}/close", token=owner["token"]).status == 200
    with monkeypatch.context() as patch:
        patch.setattr(tickets, "get", lambda _number: stale)
        reply = handler_client.post(
            f"/staff/tickets/{number}/messages", {"message": "Fixed it."}, token=staff
        )
    assert (reply.status, reply.json()["code"]) == (409, "ticket_closed")
    assert refusals == [{tickets.OPEN_TICKET}]
    assert len(handler_client.settled_mails(owner["email"])) == mails_before


# --- inbound mail ---------------------------------------------------------------------------


def _redelivered(handler_client, raw: bytes, monkeypatch) -> tuple[dict, dict]:
    """One SES mail delivered twice, the second time racing past the early "already
    handled?" read (it reads what was there before the first was recorded)."""
    from clientarea.storage import inbound

    from infra.local import inbound as local_inbound
    from infra.local import stack as stack_module
    from infra.local.lambdas import invoke

    message_id = uuid.uuid4().hex
    boto3.client("s3").put_object(
        Bucket=os.environ["MAIL_BUCKET"], Key=f"inbound/{message_id}", Body=raw
    )
    event = local_inbound.ses_event(
        raw, message_id=message_id, recipients=["support@clientarea.test"], verdicts=PASS
    )
    intake = stack_module.load().functions()["IntakeFunction"]
    first = invoke(intake, event)["outcomes"][0]
    with monkeypatch.context() as patch:
        patch.setattr(inbound, "already_handled", lambda _message_id: False)
        second = invoke(intake, event)["outcomes"][0]
    return first, second


def test_a_mail_redelivered_during_its_handling_opens_one_ticket(
    handler_client, refusals, monkeypatch
):
    from clientarea.storage import inbound

    owner = new_client(handler_client)
    mails_before = len(handler_client.settled_mails(owner["email"]))
    raw = eml("uk_multipart_attachment.eml", owner["email"])
    first, second = _redelivered(handler_client, raw, monkeypatch)
    assert first["result"] == "ticket_opened" and second["result"] == "duplicate"
    assert refusals == [{inbound.MESSAGE_CLAIM}]
    assert len(handler_client.get("/tickets", token=owner["token"]).json()) == 1
    assert len(handler_client.settled_mails(owner["email"])) == mails_before


def test_a_reply_redelivered_during_its_handling_adds_one_message(
    handler_client, refusals, monkeypatch
):
    from clientarea.storage import inbound

    owner = new_client(handler_client)
    number = open_ticket(handler_client, owner)
    raw = simple_mail(owner["email"], subject=f"Re: [{number}] Site down", body="Still down.")
    first, second = _redelivered(handler_client, raw, monkeypatch)
    assert (first["result"], first["number"]) == ("message_added", number)
    assert second["result"] == "duplicate"
    assert refusals == [{inbound.MESSAGE_CLAIM}]
    ticket = handler_client.get(f"/tickets/{number}", token=owner["token"]).json()
    assert [m["body"] for m in ticket["messages"]] == ["It is down.", "Still down."]
    assert len(handler_client.get("/tickets", token=owner["token"]).json()) == 1


# --- cession --------------------------------------------------------------------------------


def test_an_order_cancelled_twice_at_once_is_409_and_each_party_is_told_once(
    handler_client, refusals, monkeypatch
):
    from clientarea.storage import orders, services

    client = handler_client
    owner, recipient = new_party(client), new_party(client, locale="pl")
    service, order, _owner_link, _recipient_link = activated(client, owner, recipient)
    stale = orders.get_order(order["order_id"])  # the second cancel's read: still open
    first = client.post(f"/orders/{order['order_id']}/cancel", token=owner.token)
    assert first.status == 200, first.body
    assert outcome_mails(client, owner, service["domain"], "cancelled")
    with monkeypatch.context() as patch:
        patch.setattr(orders, "get_order", lambda _order_id: stale)
        second = client.post(f"/orders/{order['order_id']}/cancel", token=owner.token)
    assert (second.status, second.json()["code"]) == (409, "invalid_order_state")
    # The order had moved on, and the service it no longer held was not released twice.
    assert refusals == [{orders.ORDER_STATE, services.RELEASE}]
    told = [m for m in mails_about(client, owner, service["domain"]) if "cancelled" in m["subject"]]
    assert len(told) == 1
    told = [
        m for m in mails_about(client, recipient, service["domain"]) if "anulowana" in m["subject"]
    ]
    assert len(told) == 1


# --- manual recovery ------------------------------------------------------------------------


def test_a_case_decided_by_two_staff_at_once_is_decided_once(handler_client, refusals, monkeypatch):
    """A support agent rejects while an admin approves the case both read under review:
    the approval is refused for the case's state (no re-read to find that out), and
    nothing of it happens: no approval mail, the account keeps its address."""
    from clientarea.storage import recovery

    client = handler_client
    owner = new_owner(client)
    body, case = under_review(client, owner["login"])
    stale = recovery.get_case(case["reference"])  # the admin's read: under review
    agent, admin = staff_token(client), admin_token(client)
    rejected = decide(client, agent, case["reference"], "reject", "Unreadable scan.")
    assert rejected.status == 200, rejected.body
    with monkeypatch.context() as patch:
        patch.setattr(recovery, "get_case", lambda _reference: stale)
        approved = decide(client, admin, case["reference"], "approve", "Looks right.")
    assert (approved.status, approved.json()["code"]) == (409, "invalid_recovery_state")
    assert refusals == [{recovery.CASE_STATE}]
    subjects = [m["subject"] for m in client.settled_mails(body["new_email"])]
    assert any("rejected" in s for s in subjects)
    assert not any("approved" in s for s in subjects)
    assert client.get("/account", token=owner["token"]).json()["email"] == owner["email"]
