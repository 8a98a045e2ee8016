"""Property (hypothesis): whatever sequence of cession actions several orders receive,
every service keeps exactly one owner and moves only after both parties confirmed.

Random sequences of order, activate, confirm, confirm with a superseded link,
decline, cancel and resend go through the real handlers; the real state machine
runs on moto in the background and transfers services while the sequence goes on.
After every step the services are read back; at the end of each sequence the
workflows are given time to settle and the order/service bookkeeping is checked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.clients import InProcessClient
from tests.support.waiting import wait_until

PASSWORD = "correct horse battery staple 9"
PARTIES = ("owner", "recipient")
# "advance" takes the service's latest order one step further (order, activate, then
# a confirmation by the drawn party), so that many sequences get as far as a transfer;
# the others are drawn as they come, out of turn, twice, late or racing the workflow.
ACTIONS = (
    *["advance"] * 8,
    "order",
    "activate",
    "confirm",
    "confirm_stale",
    "decline",
    "cancel",
    "resend",
)
SETTLE_SECONDS = 20


@dataclass
class Order:
    order_id: str
    service_id: str
    owner: int
    recipient: int
    links: dict[str, list[str]] = field(default_factory=lambda: {p: [] for p in PARTIES})
    confirmed: set[str] = field(default_factory=set)  # parties whose confirm got a 200
    activated: bool = False
    closed: bool = False  # declined, cancelled, or both confirmed (as far as we know)
    moved: bool = False


class World:
    """Three accounts, and per sequence three fresh services with their orders."""

    def __init__(self, client: InProcessClient) -> None:
        from clientarea.accounts import registration

        self.client = client
        self.tokens: dict[int, str] = {}
        for name in ("propa", "propb", "propc"):
            view = registration.provision(
                email=f"{name}@example.com", password=PASSWORD, full_name=name, login=name
            )
            login = client.post("/auth/login", {"login": name, "password": PASSWORD})
            self.tokens[view.client_number] = login.json()["session_token"]
        self.accounts = sorted(self.tokens)
        self.mails_seen = 0
        self.orders: dict[str, Order] = {}

    # --- one sequence ------------------------------------------------------------------

    def play(self, steps: list[tuple[str, int, int, int]]) -> None:
        from clientarea import services

        owners = [self.accounts[0], self.accounts[0], self.accounts[1]]
        self.services = [
            services.provision(
                owner_client_number=owner, product="Hosting", domain=f"p{time.time_ns()}.example"
            ).service_id
            for owner in owners
        ]
        self.owner_of = dict(zip(self.services, owners, strict=True))
        self.latest: dict[str, Order] = {}
        self.orders = {}
        for action, slot, party, choice in steps:
            getattr(self, f"_{action}")(self.services[slot], PARTIES[party], choice)
            self._collect_links()
            self.check_owners()
        self.settle()

    def call(self, method: str, path: str, body: Any = None, party: int | None = None):
        token = self.tokens[party] if party is not None else None
        reply = self.client.request(method, path, json=body, token=token)
        return reply.status, reply.json()

    # --- actions -----------------------------------------------------------------------------

    def _advance(self, service_id: str, party: str, choice: int) -> None:
        order = self.latest.get(service_id)
        if order is None or order.closed:
            self._order(service_id, party, choice)
        elif not order.activated:
            self._activate(service_id, party, choice)
        else:  # the drawn party, unless it has confirmed already
            missing = [p for p in (party, *PARTIES) if p not in order.confirmed]
            self._confirm(service_id, missing[0] if missing else party, choice)

    def _order(self, service_id: str, _party: str, choice: int) -> None:
        from clientarea import services

        owner = services.get(service_id).owner_client_number
        recipient = [a for a in self.accounts if a != owner][choice % 2]
        login = {a: n for a, n in zip(self.accounts, ("propa", "propb", "propc"), strict=True)}
        status, body = self.call(
            "POST",
            f"/services/{service_id}/cession",
            {"recipient_login": login[recipient], "recipient_client_number": recipient},
            owner,
        )
        if status == 404:  # the workflow moved it away since we looked
            assert services.get(service_id).owner_client_number != owner
            return
        assert (status, body.get("code")) in {(201, None), (409, "cession_pending")}, body
        if status == 201:
            order = Order(body["order_id"], service_id, owner, recipient)
            self.orders[order.order_id] = self.latest[service_id] = order

    def _activate(self, service_id: str, _party: str, _choice: int) -> None:
        if (order := self.latest.get(service_id)) is None:
            return
        status, body = self.call("POST", f"/orders/{order.order_id}/activate", party=order.owner)
        assert (status, body.get("code")) in {(202, None), (409, "invalid_order_state")}, body
        order.activated = order.activated or status == 202

    def _confirm(self, service_id: str, party: str, _choice: int) -> None:
        order = self.latest.get(service_id)
        if order is None or not order.links[party]:
            return
        status, body = self.call("POST", "/cession/confirm", {"token": order.links[party][-1]})
        assert (status, body.get("code")) in {(200, None), (410, "token_invalid")}, body
        if status == 200:
            assert body["party"] == party
            order.confirmed.add(party)
            order.closed = order.confirmed == set(PARTIES)

    def _confirm_stale(self, service_id: str, party: str, _choice: int) -> None:
        order = self.latest.get(service_id)
        if order is None or len(order.links[party]) < 2:
            return
        status, body = self.call("POST", "/cession/confirm", {"token": order.links[party][-2]})
        assert (status, body["code"]) == (410, "token_invalid")  # superseded by a resend

    def _decline(self, service_id: str, party: str, _choice: int) -> None:
        order = self.latest.get(service_id)
        if order is None or not order.links[party]:
            return
        status, body = self.call("POST", "/cession/decline", {"token": order.links[party][-1]})
        assert (status, body.get("code")) in {(200, None), (410, "token_invalid")}, body
        order.closed = order.closed or status == 200

    def _cancel(self, service_id: str, _party: str, _choice: int) -> None:
        if (order := self.latest.get(service_id)) is None:
            return
        status, body = self.call("POST", f"/orders/{order.order_id}/cancel", party=order.owner)
        assert (status, body.get("code")) in {(200, None), (409, "invalid_order_state")}, body
        order.closed = order.closed or status == 200

    def _resend(self, service_id: str, party: str, _choice: int) -> None:
        if (order := self.latest.get(service_id)) is None:
            return
        status, body = self.call(
            "POST", f"/orders/{order.order_id}/resend", {"party": party}, order.owner
        )
        assert (status, body.get("code")) in {(202, None), (409, "invalid_order_state")}, body

    def _collect_links(self) -> None:
        """File every new confirmation link under its order and party (the token's
        subject names both), in the order they were mailed."""
        from moto.ses.models import RawMessage, ses_backends

        from infra.local.mailbox import _parse
        from infra.local.stack import ACCOUNT_ID, REGION

        self.client.deployment.queues.drain()
        sent = ses_backends[ACCOUNT_ID][REGION].sent_messages
        for message in list(sent)[self.mails_seen :]:
            if isinstance(message, RawMessage):
                for link in _parse(message.raw_data)["links"]:
                    if "/cession#token=" in link:
                        token = link.split("#token=", 1)[1]
                        order_id, _, party = token.split(".", 1)[0].rpartition("-")
                        if order_id in self.orders:
                            self.orders[order_id].links[party].append(token)
        self.mails_seen = len(sent)

    # --- invariants ------------------------------------------------------------------------

    def check_owners(self) -> None:
        """Exactly one owner per service, and a change of owner only through an order
        whose both parties had their confirmation accepted."""
        owners, listed = self._owners_and_listings()
        for service_id, owner in owners.items():
            assert listed.get(service_id) == [owner], (service_id, listed.get(service_id))
            before = self.owner_of[service_id]
            if owner == before:
                continue
            movers = [
                o
                for o in self.orders.values()
                if o.service_id == service_id
                and (o.owner, o.recipient) == (before, owner)
                and o.confirmed == set(PARTIES)
                and not o.moved
            ]
            assert movers, f"{service_id} moved {before}->{owner} without both confirmations"
            movers[0].moved = True
            self.owner_of[service_id] = owner

    def _owners_and_listings(self) -> tuple[dict[str, int], dict[str, list[int]]]:
        """Each service's owner (its item) and the accounts listing it (the index), from
        reads that no transfer fell between (the workflow keeps running meanwhile)."""
        from clientarea import services

        while True:
            owners = {s: services.get(s).owner_client_number for s in self.services}
            listed: dict[str, list[int]] = {}
            for account in self.accounts:
                for service in services.list_for_owner(account):
                    listed.setdefault(service.service_id, []).append(account)
            if owners == {s: services.get(s).owner_client_number for s in self.services}:
                return owners, listed

    def _history(self, order_id: str) -> list[str]:
        """What the order's execution did (for a failure message)."""
        import boto3

        sfn = boto3.client("stepfunctions", region_name="eu-central-1")
        machine = self.client.deployment.physical.refs["CessionStateMachine"]
        arn = machine.replace(":stateMachine:", ":execution:") + ":" + order_id
        events = sfn.get_execution_history(executionArn=arn)["events"]
        return [order_id] + [
            e["type"] + " " + str(e.get("taskFailedEventDetails", {}).get("cause", ""))[:200]
            for e in events
        ]

    def settle(self) -> None:
        """Let the workflows finish, then check orders against services, and close
        what is still open so that no execution keeps waiting."""
        from clientarea.storage.orders import OrderModel
        from clientarea.storage.services import ServiceModel

        def pending() -> list[Any]:
            items = [OrderModel.get(o, consistent_read=True) for o in self.orders]
            return [
                i
                for i in items
                if i.status == "awaiting_confirmations"
                and i.owner_confirmed_at
                and i.recipient_confirmed_at
            ]

        wait_until(
            lambda: not pending(),
            timeout=SETTLE_SECONDS,
            message=lambda: str([self._history(i.order_id) for i in pending()]),
        )
        items = {o: OrderModel.get(o, consistent_read=True) for o in self.orders}
        self.check_owners()
        for order_id, item in items.items():
            order = self.orders[order_id]
            # completed exactly when it moved its service, and only with both confirmations
            assert (item.status == "completed") == order.moved, (item.status, order)
            if item.status == "completed":
                assert item.owner_confirmed_at and item.recipient_confirmed_at
        for service_id in self.services:
            hold = ServiceModel.get(service_id, consistent_read=True).open_order_id
            open_orders = [
                o
                for o, i in items.items()
                if i.service_id == service_id
                and i.status in {"awaiting_activation", "awaiting_confirmations"}
            ]
            assert open_orders == ([hold] if hold else []), (service_id, hold, open_orders)
            for order_id in open_orders:
                self.call(
                    "POST", f"/orders/{order_id}/cancel", party=items[order_id].owner_client_number
                )


steps = st.lists(
    st.tuples(
        st.sampled_from(ACTIONS),
        st.integers(0, 1),  # which of the first two services
        st.integers(0, 1),  # which party acts (confirm, decline, resend)
        st.integers(0, 1),  # which of the other two accounts receives (order)
    ),
    min_size=4,
    max_size=16,
)


def test_random_action_sequences_never_lose_double_or_move_a_service_unconfirmed(
    handler_client,
):
    world = World(handler_client)

    @settings(max_examples=25, deadline=None)
    @given(steps)
    def run(sequence: list[tuple[str, int, int, int]]) -> None:
        world.play(sequence)

    run()
