"""Cession of a service (API.md "Services, orders and cession"): real executions of
infra/statemachines/cession.asl.json on moto, through the handlers and over HTTP."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any
from unittest import mock

import pytest
from moto import mock_aws

from infra.local.deployment import DEV_FRONTEND_URL, MOTO_CONFIG, LocalDeployment
from infra.local.server import dev_route
from tests.clients import ApiClient, InProcessClient
from tests.support.accounts import log_in, register_and_verify
from tests.support.waiting import wait_until

WORKFLOW_SECONDS = 20  # how long a test waits for the workflow to act


@dataclass(frozen=True)
class Party:
    client_number: int
    login: str
    email: str
    token: str


def new_party(client: ApiClient, locale: str = "en") -> Party:
    email = f"cession-{uuid.uuid4().hex[:12]}@example.com"
    created = register_and_verify(client, email, locale=locale)
    return Party(created["client_number"], created["login"], email, log_in(client, email))


def give_service(client: ApiClient, party: Party) -> dict:
    """A new service for `party`, as billing would create it (dev route)."""
    body = {
        "client_number": party.client_number,
        "product": "Hosting Pro",
        "domain": f"site-{uuid.uuid4().hex[:10]}.example",
    }
    if isinstance(client, InProcessClient):
        reply = dev_route("POST", "/_dev/services", json.dumps(body).encode())
        assert reply is not None and reply.status == 201
        return reply.json()
    reply = client.post("/_dev/services", body)
    assert reply.status == 201, reply.body
    return reply.json()


def order_cession(client: ApiClient, owner: Party, recipient: Party, service: dict):
    return client.post(
        f"/services/{service['service_id']}/cession",
        {"recipient_login": recipient.login, "recipient_client_number": recipient.client_number},
        token=owner.token,
    )


def cession_links(client: ApiClient, party: Party, domain: str, *, count: int = 1) -> list[str]:
    """The tokens of the confirmation mails `party` got for `domain`, oldest first."""

    def links() -> list[str] | None:
        found = [
            link.split("#token=", 1)[1]
            for mail in client.mails(party.email, timeout=0)
            if domain in mail["subject"]
            for link in mail["links"]
            if "/cession#token=" in link
        ]
        return found if len(found) >= count else None

    return wait_until(links, message=f"fewer than {count} cession links for {party.email}")


def outcome_mails(client: ApiClient, party: Party, domain: str, word: str) -> list[dict]:
    """The mails to `party` about `domain` whose subject has `word`, once there is one."""
    return wait_until(
        lambda: [m for m in mails_about(client, party, domain) if word in m["subject"]],
        message=f"no {word!r} mail to {party.email} about {domain}",
    )


def mails_about(client: ApiClient, party: Party, domain: str) -> list[dict]:
    """The mails `party` got about `domain`, once the queues are empty."""
    return [m for m in client.settled_mails(party.email) if domain in m["subject"]]


def wait_for_status(client: ApiClient, party: Party, order_id: str, status: str) -> dict:
    def order() -> dict | None:
        found = client.get(f"/orders/{order_id}", token=party.token).json()
        return found if found["status"] == status else None

    return wait_until(order, timeout=WORKFLOW_SECONDS, message=f"order not {status}")


def service_ids(client: ApiClient, party: Party) -> set[str]:
    reply = client.get("/services", token=party.token)
    assert reply.status == 200, reply.body
    return {s["service_id"] for s in reply.json()}


def activated(client: ApiClient, owner: Party, recipient: Party) -> tuple[dict, dict, str, str]:
    """A service of `owner`, a cession of it to `recipient`, activated:
    (service, order, owner's link token, recipient's link token)."""
    service = give_service(client, owner)
    created = order_cession(client, owner, recipient, service)
    assert created.status == 201, created.body
    order = created.json()
    reply = client.post(f"/orders/{order['order_id']}/activate", token=owner.token)
    assert reply.status == 202, reply.body
    (owner_link,) = cession_links(client, owner, service["domain"])
    (recipient_link,) = cession_links(client, recipient, service["domain"])
    return service, order, owner_link, recipient_link


@pytest.fixture
def owner(client: ApiClient) -> Party:
    return new_party(client)


@pytest.fixture
def recipient(client: ApiClient) -> Party:
    return new_party(client, locale="pl")


# --- the happy path ---------------------------------------------------------------------


def test_an_order_waits_for_activation_and_both_parties_see_it(client, owner, recipient):
    # GIVEN a service of the owner
    service = give_service(client, owner)
    assert service["service_id"] in service_ids(client, owner)
    # WHEN the owner orders its cession to the recipient
    created = order_cession(client, owner, recipient, service)
    # THEN the order awaits activation, in the contract's shape, for both parties
    assert created.status == 201, created.body
    order = created.json()
    assert order["type"] == "cession"
    assert order["status"] == "awaiting_activation"
    assert order["service_id"] == service["service_id"]
    assert order["owner"] == {"client_number": owner.client_number, "confirmed_at": None}
    assert order["recipient"] == {"client_number": recipient.client_number, "confirmed_at": None}
    assert order["created_at"].endswith("Z")
    assert order["expires_at"] is None  # the window opens at activation
    for party in (owner, recipient):
        listed = client.get("/orders", token=party.token).json()
        assert [o["order_id"] for o in listed] == [order["order_id"]]
        assert client.get(f"/orders/{order['order_id']}", token=party.token).json() == order
    # and nothing was mailed yet
    assert mails_about(client, recipient, service["domain"]) == []


def test_both_confirm_the_service_moves_and_both_are_told(client, owner, recipient):
    service, order, owner_link, recipient_link = activated(client, owner, recipient)
    order_id = order["order_id"]
    # WHEN the owner confirms, then the recipient
    first = client.post("/cession/confirm", {"token": owner_link})
    assert first.status == 200, first.body
    assert first.json() == {
        "order_id": order_id,
        "party": "owner",
        "status": "awaiting_confirmations",
    }
    halfway = client.get(f"/orders/{order_id}", token=recipient.token).json()
    assert halfway["owner"]["confirmed_at"] is not None
    assert halfway["recipient"]["confirmed_at"] is None
    second = client.post("/cession/confirm", {"token": recipient_link})
    assert second.status == 200, second.body
    assert second.json()["party"] == "recipient"
    # THEN the workflow completes the order by itself and the service changes hands
    done = wait_for_status(client, owner, order_id, "completed")
    assert done["owner"]["confirmed_at"] and done["recipient"]["confirmed_at"]
    assert service["service_id"] not in service_ids(client, owner)
    assert service["service_id"] in service_ids(client, recipient)
    # and each party is told, in its own language
    assert outcome_mails(client, owner, service["domain"], "has been transferred")
    assert outcome_mails(client, recipient, service["domain"], "jest już na Twoim koncie")


def test_confirmation_mails_name_the_service_and_the_other_party(handler_client):
    client = handler_client
    owner, recipient = new_party(client), new_party(client, locale="pl")
    service, order, _, _ = activated(client, owner, recipient)
    (to_owner,) = mails_about(client, owner, service["domain"])
    (to_recipient,) = mails_about(client, recipient, service["domain"])
    assert "confirm the cession of" in to_owner["subject"]
    assert str(recipient.client_number) in to_owner["text"]
    assert "potwierdź przejęcie hostingu" in to_recipient["subject"]  # recipient's locale
    assert str(owner.client_number) in to_recipient["text"]
    assert "Kiedy obydwie strony potwierdzą cesję" in to_recipient["text"]
    for mail in (to_owner, to_recipient):
        links = [link for link in mail["links"] if "#token=" in link]
        assert len(links) == 1 and links[0].startswith(f"{DEV_FRONTEND_URL}/cession#token=")
        assert f"{DEV_FRONTEND_URL}/orders/{order['order_id']}" in mail["links"]


# --- decline, cancel, resend, expiry ----------------------------------------------------------


def test_a_decline_ends_the_order_and_both_are_told(client, owner, recipient):
    service, order, owner_link, recipient_link = activated(client, owner, recipient)
    # WHEN the owner has confirmed and the recipient declines
    assert client.post("/cession/confirm", {"token": owner_link}).status == 200
    reply = client.post("/cession/decline", {"token": recipient_link})
    # THEN the order is declined at once, the service stays, both are told
    assert reply.status == 200, reply.body
    assert reply.json() == {
        "order_id": order["order_id"],
        "party": "recipient",
        "status": "declined",
    }
    assert client.get(f"/orders/{order['order_id']}", token=owner.token).json()["status"] == (
        "declined"
    )
    assert service["service_id"] in service_ids(client, owner)
    assert service["service_id"] not in service_ids(client, recipient)
    assert outcome_mails(client, owner, service["domain"], "refused")
    assert outcome_mails(client, recipient, service["domain"], "odrzucona")
    # and the service is free for a new cession
    assert order_cession(client, owner, recipient, service).status == 201


def test_the_owner_cancels_and_every_link_dies(client, owner, recipient):
    service, order, owner_link, recipient_link = activated(client, owner, recipient)
    reply = client.post(f"/orders/{order['order_id']}/cancel", token=owner.token)
    assert reply.status == 200, reply.body
    assert reply.json()["status"] == "cancelled"
    for link in (owner_link, recipient_link):
        late = client.post("/cession/confirm", {"token": link})
        assert (late.status, late.json()["code"]) == (410, "token_invalid")
    assert outcome_mails(client, owner, service["domain"], "cancelled")
    assert outcome_mails(client, recipient, service["domain"], "anulowana")
    assert service["service_id"] in service_ids(client, owner)
    # cancelling twice, or anything after, is refused
    again = client.post(f"/orders/{order['order_id']}/cancel", token=owner.token)
    assert (again.status, again.json()["code"]) == (409, "invalid_order_state")


def test_an_order_can_be_cancelled_before_activation_without_mails(handler_client):
    client = handler_client
    owner, recipient = new_party(client), new_party(client, locale="pl")
    service = give_service(client, owner)
    order = order_cession(client, owner, recipient, service).json()
    reply = client.post(f"/orders/{order['order_id']}/cancel", token=owner.token)
    assert (reply.status, reply.json()["status"]) == (200, "cancelled")
    assert mails_about(client, recipient, service["domain"]) == []
    activate = client.post(f"/orders/{order['order_id']}/activate", token=owner.token)
    assert (activate.status, activate.json()["code"]) == (409, "invalid_order_state")


def test_confirm_after_cancel_is_410_and_nothing_moves(handler_client):
    owner, recipient = new_party(handler_client), new_party(handler_client)
    service, order, owner_link, recipient_link = activated(handler_client, owner, recipient)
    assert handler_client.post("/cession/confirm", {"token": owner_link}).status == 200
    assert handler_client.post(f"/orders/{order['order_id']}/cancel", token=owner.token).status == (
        200
    )
    late = handler_client.post("/cession/confirm", {"token": recipient_link})
    assert (late.status, late.json()["code"]) == (410, "token_invalid")
    time.sleep(0.5)  # whatever the woken workflow does, it must not move the service
    assert service["service_id"] in service_ids(handler_client, owner)
    final = handler_client.get(f"/orders/{order['order_id']}", token=owner.token).json()
    assert final["status"] == "cancelled"


def test_resend_kills_the_old_link_and_the_new_one_works(client, owner, recipient):
    service, order, _, old_link = activated(client, owner, recipient)
    # WHEN the owner has the recipient's link sent again
    reply = client.post(
        f"/orders/{order['order_id']}/resend", {"party": "recipient"}, token=owner.token
    )
    assert (reply.status, reply.json()) == (202, {})
    links = cession_links(client, recipient, service["domain"], count=2)
    new_link = links[-1]
    assert new_link != old_link
    # THEN the old link is dead and the new one confirms
    stale = client.post("/cession/confirm", {"token": old_link})
    assert (stale.status, stale.json()["code"]) == (410, "token_invalid")
    assert client.post("/cession/confirm", {"token": new_link}).status == 200


def test_resend_rules(handler_client):
    client = handler_client
    owner, recipient = new_party(client), new_party(client, locale="pl")
    _, order, owner_link, _ = activated(client, owner, recipient)
    path = f"/orders/{order['order_id']}/resend"
    # the recipient may have its own link sent again, not the owner's
    assert client.post(path, {"party": "recipient"}, token=recipient.token).status == 202
    refused = client.post(path, {"party": "owner"}, token=recipient.token)
    assert (refused.status, refused.json()["code"]) == (403, "forbidden")
    # a party that has confirmed has nothing left to confirm
    assert client.post("/cession/confirm", {"token": owner_link}).status == 200
    done = client.post(path, {"party": "owner"}, token=owner.token)
    assert (done.status, done.json()["code"]) == (409, "invalid_order_state")
    bad = client.post(path, {"party": "someone"}, token=owner.token)
    assert (bad.status, bad.json()["code"]) == (422, "validation_error")


def test_resends_are_capped_per_party_and_hour(handler_client):
    client = handler_client
    owner, recipient = new_party(client), new_party(client)
    _, order, _, _ = activated(client, owner, recipient)
    path = f"/orders/{order['order_id']}/resend"
    for _ in range(5):
        assert client.post(path, {"party": "recipient"}, token=owner.token).status == 202
    capped = client.post(path, {"party": "recipient"}, token=owner.token)
    assert (capped.status, capped.json()["code"]) == (429, "rate_limited")
    assert int(capped.header("Retry-After")) > 0
    # the other party's link is counted apart
    assert client.post(path, {"party": "owner"}, token=owner.token).status == 202


@pytest.fixture
def short_window() -> Iterator[InProcessClient]:
    """The stack with a 2-second confirmation window (CessionTimeoutSeconds), as
    `make dev ARGS=--cession-timeout 2` runs it."""
    with mock.patch.dict(os.environ), mock_aws(config=MOTO_CONFIG):
        deployed = LocalDeployment({"CessionTimeoutSeconds": "2"}, enforce_iam=True).start()
        try:
            yield InProcessClient(deployed)
        finally:
            deployed.stop()


def test_an_unconfirmed_order_expires_and_both_are_told(short_window):
    client = short_window
    owner, recipient = new_party(client), new_party(client, locale="uk")
    service, order, owner_link, recipient_link = activated(client, owner, recipient)
    assert order["status"] == "awaiting_activation"
    window = client.get(f"/orders/{order['order_id']}", token=owner.token).json()
    assert window["expires_at"] is not None
    # WHEN only the owner confirms within the window
    assert client.post("/cession/confirm", {"token": owner_link}).status == 200
    # THEN the workflow expires the order when the window ends, and nothing moves
    expired = wait_for_status(client, owner, order["order_id"], "expired")
    assert expired["recipient"]["confirmed_at"] is None
    assert service["service_id"] in service_ids(client, owner)
    assert outcome_mails(client, owner, service["domain"], "expired")
    assert outcome_mails(client, recipient, service["domain"], "минув")
    late = client.post("/cession/confirm", {"token": recipient_link})
    assert (late.status, late.json()["code"]) == (410, "token_invalid")
    # and the service can be ordered again
    assert order_cession(client, owner, recipient, service).status == 201


# --- refusals -----------------------------------------------------------------------------


def test_confirming_twice_is_410_the_second_time(handler_client):
    client = handler_client
    owner, recipient = new_party(client), new_party(client, locale="pl")
    _, order, owner_link, _ = activated(client, owner, recipient)
    assert client.post("/cession/confirm", {"token": owner_link}).status == 200
    again = client.post("/cession/confirm", {"token": owner_link})
    assert (again.status, again.json()["code"]) == (410, "token_invalid")
    decline = client.post("/cession/decline", {"token": owner_link})
    assert (decline.status, decline.json()["code"]) == (410, "token_invalid")
    still = client.get(f"/orders/{order['order_id']}", token=owner.token).json()
    assert still["status"] == "awaiting_confirmations"


def test_recipient_must_be_named_by_both_login_and_number(client, owner, recipient):
    service = give_service(client, owner)
    other = new_party(client)
    wrong = [
        {"recipient_login": recipient.login, "recipient_client_number": other.client_number},
        {"recipient_login": "no-such-login", "recipient_client_number": recipient.client_number},
        {"recipient_login": recipient.email, "recipient_client_number": recipient.client_number},
    ]
    for body in wrong:
        reply = client.post(f"/services/{service['service_id']}/cession", body, token=owner.token)
        assert (reply.status, reply.json()["code"]) == (422, "recipient_mismatch"), body
    assert client.get("/orders", token=owner.token).json() == []


RECIPIENT_GUESSES = 10  # recipient mismatches per account and hour


def test_recipient_guesses_are_throttled_per_account(client, owner, recipient):
    # GIVEN an owner probing which client number goes with a login (an oracle of pairs)
    service = give_service(client, owner)
    path = f"/services/{service['service_id']}/cession"
    guesses = [
        {
            "recipient_login": recipient.login,
            "recipient_client_number": recipient.client_number + 1 + i,
        }
        for i in range(RECIPIENT_GUESSES + 1)
    ]
    with client.frozen_clock():  # one hourly window
        replies = [client.post(path, body, token=owner.token) for body in guesses]
        # and then the right pair
        right = client.post(
            path,
            {
                "recipient_login": recipient.login,
                "recipient_client_number": recipient.client_number,
            },
            token=owner.token,
        )
    # THEN 10 mismatches are answered, the 11th guess and even the right pair are 429
    assert [r.status for r in replies] == [422] * RECIPIENT_GUESSES + [429]
    assert replies[-1].json()["code"] == "rate_limited"
    assert 0 < int(replies[-1].header("Retry-After")) <= 3600
    assert (right.status, right.json()["code"]) == (429, "rate_limited")
    assert client.get("/orders", token=owner.token).json() == []
    # AND an hour later (signed in afresh) the owner can order the cession
    client.advance_clock(3600)
    again = replace(owner, token=log_in(client, owner.email))
    assert order_cession(client, again, recipient, service).status == 201


def test_recipient_guesses_are_throttled_per_address(handler_client, monkeypatch):
    client = handler_client
    # GIVEN two owners behind one address, with an allowance of 3 guesses per address
    owners = [new_party(client), new_party(client)]
    recipient = new_party(client)
    services = [give_service(client, owner) for owner in owners]
    monkeypatch.setenv("IP_REQUESTS_PER_HOUR", "3")
    guess = {"recipient_login": recipient.login, "recipient_client_number": 1}

    def order(i: int, body: dict, ip: str = "198.51.100.80"):
        path = f"/services/{services[i]['service_id']}/cession"
        return client.post(path, body, token=owners[i].token, ip=ip)

    with client.frozen_clock():
        # WHEN the first owner spends the address's guesses
        assert [order(0, guess).status for _ in range(3)] == [422, 422, 422]
        # THEN the second owner, from that address, is refused unchecked, even for the right pair
        right = {
            "recipient_login": recipient.login,
            "recipient_client_number": recipient.client_number,
        }
        refused = order(1, right)
        assert (refused.status, refused.json()["code"]) == (429, "rate_limited")
        assert int(refused.header("Retry-After")) > 0
        # AND from another address it works
        assert order(1, right, ip="198.51.100.81").status == 201


def test_a_service_cannot_be_ceded_to_its_own_account(handler_client):
    client = handler_client
    owner = new_party(client)
    service = give_service(client, owner)
    reply = order_cession(client, owner, owner, service)
    assert (reply.status, reply.json()["code"]) == (422, "recipient_mismatch")


def test_a_second_cession_of_the_same_service_is_409(handler_client):
    client = handler_client
    owner, recipient = new_party(client), new_party(client, locale="pl")
    service = give_service(client, owner)
    assert order_cession(client, owner, recipient, service).status == 201
    third = new_party(client)
    again = order_cession(client, owner, third, service)
    assert (again.status, again.json()["code"]) == (409, "cession_pending")


def test_only_the_owner_activates_or_cancels(handler_client):
    client = handler_client
    owner, recipient = new_party(client), new_party(client, locale="pl")
    service = give_service(client, owner)
    order = order_cession(client, owner, recipient, service).json()
    for action in ("activate", "cancel"):
        reply = client.post(f"/orders/{order['order_id']}/{action}", token=recipient.token)
        assert (reply.status, reply.json()["code"]) == (403, "forbidden"), action


def test_another_client_sees_neither_the_order_nor_the_service(client, owner, recipient):
    service = give_service(client, owner)
    order = order_cession(client, owner, recipient, service).json()
    stranger = new_party(client)
    for method, path in (
        ("GET", f"/orders/{order['order_id']}"),
        ("POST", f"/orders/{order['order_id']}/activate"),
        ("POST", f"/orders/{order['order_id']}/cancel"),
        ("GET", "/orders/ces-0000000000000000"),
        ("GET", "/orders/not-an-order-id"),
    ):
        reply = client.request(method, path, token=stranger.token)
        assert (reply.status, reply.json()["code"]) == (404, "not_found"), path
    assert client.get("/orders", token=stranger.token).json() == []
    # and a service that is not the caller's cannot be ordered either
    stolen = order_cession(client, stranger, recipient, service)
    assert (stolen.status, stolen.json()["code"]) == (404, "not_found")


def test_links_and_routes_need_what_they_need(client, owner):
    for path in ("/services", "/orders"):
        assert client.get(path).status == 401
    for path in ("/cession/confirm", "/cession/decline"):
        for token in ("", "garbage", "ces-0000000000000000-owner." + "A" * 43):
            reply = client.post(path, {"token": token})
            expected = (422, "validation_error") if not token else (410, "token_invalid")
            assert (reply.status, reply.json()["code"]) == expected, (path, token)


# --- the workflow's guarantees ----------------------------------------------------------------


def test_confirmations_recorded_before_the_workflow_runs_are_not_lost(handler_client):
    client = handler_client
    owner, recipient = new_party(client), new_party(client)
    service = give_service(client, owner)
    order = order_cession(client, owner, recipient, service).json()
    order_id = order["order_id"]
    # GIVEN an activation whose workflow did not start (a crash right after the commit)
    with mock.patch("clientarea.cession.workflow.start"):
        assert client.post(f"/orders/{order_id}/activate", token=owner.token).status == 202
    (owner_link,) = cession_links(client, owner, service["domain"])
    (recipient_link,) = cession_links(client, recipient, service["domain"])
    # WHEN both confirm while no workflow waits, and the owner retries the activation
    assert client.post("/cession/confirm", {"token": owner_link}).status == 200
    assert client.post("/cession/confirm", {"token": recipient_link}).status == 200
    retry = client.post(f"/orders/{order_id}/activate", token=owner.token)
    assert retry.status == 202
    # THEN the workflow finds both confirmations on the order and completes it
    wait_for_status(client, owner, order_id, "completed")
    assert service["service_id"] in service_ids(client, recipient)
    # and the retry sent no second round of links
    assert len(cession_links(client, owner, service["domain"])) == 1


def test_activation_is_idempotent_one_execution_per_order(handler_client):
    client = handler_client
    owner, recipient = new_party(client), new_party(client)
    service, order, owner_link, _ = activated(client, owner, recipient)
    again = client.post(f"/orders/{order['order_id']}/activate", token=owner.token)
    assert (again.status, again.json()["status"]) == (202, "awaiting_confirmations")
    import boto3

    sfn = boto3.client("stepfunctions", region_name="eu-central-1")
    machine = client.deployment.physical.refs["CessionStateMachine"]
    executions = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert [e["name"] for e in executions] == [order["order_id"]]
    assert len(cession_links(client, owner, service["domain"])) == 1
    assert owner_link


def _tokens_stored(order_id: str) -> Any:
    """The order's item once the workflow stored both branches' task tokens in it."""
    from clientarea.storage.orders import OrderModel

    def stored() -> Any:
        item = OrderModel.get(order_id, consistent_read=True)
        return item if item.owner_task_token and item.recipient_task_token else None

    return wait_until(
        stored, timeout=WORKFLOW_SECONDS, interval=0.05, message="the workflow stored no tokens"
    )


def test_task_tokens_never_leave_the_order_item(handler_client):
    client = handler_client
    owner, recipient = new_party(client), new_party(client)
    _, order, owner_link, recipient_link = activated(client, owner, recipient)

    item = _tokens_stored(order["order_id"])  # shortly after the activation
    secrets = {item.owner_task_token, item.recipient_task_token}
    seen = json.dumps(
        [
            client.get(f"/orders/{order['order_id']}", token=owner.token).json(),
            client.get("/orders", token=recipient.token).json(),
            client.all_mails(),
        ]
    )
    assert not any(secret in seen for secret in secrets)
    assert not any(secret in link for secret in secrets for link in (owner_link, recipient_link))


def test_a_complete_cession_takes_at_most_12_state_transitions(handler_client):
    # Standard workflows bill per state transition (issue 6's budget: 12 per cession).
    import boto3

    # People click their links minutes after activation, when both branches wait with
    # their tokens stored. (A confirmation that beats the workflow costs each branch one
    # more Pass state: 13, the rare path, not the one the budget is about.)

    client = handler_client
    owner, recipient = new_party(client), new_party(client)
    _service, order, owner_link, recipient_link = activated(client, owner, recipient)
    _tokens_stored(order["order_id"])
    assert client.post("/cession/confirm", {"token": owner_link}).status == 200
    assert client.post("/cession/confirm", {"token": recipient_link}).status == 200
    wait_for_status(client, owner, order["order_id"], "completed")
    sfn = boto3.client("stepfunctions", region_name="eu-central-1")
    machine = client.deployment.physical.refs["CessionStateMachine"]
    (execution,) = sfn.list_executions(stateMachineArn=machine)["executions"]
    wait_until(
        lambda: (
            sfn.describe_execution(executionArn=execution["executionArn"])["status"] != "RUNNING"
        ),
        timeout=WORKFLOW_SECONDS,
        message="the execution did not finish",
    )
    events = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    entered = [e["type"] for e in events if e["type"].endswith("StateEntered")]
    assert sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "SUCCEEDED"
    assert 10 <= len(entered) <= 12, entered
