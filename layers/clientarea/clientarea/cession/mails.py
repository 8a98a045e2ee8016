"""The cession's mails: each party's confirmation link, and how an order ended."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from clientarea import clock, tokens
from clientarea.accounts import identity
from clientarea.cession.orders import Party, link_subject, party_number
from clientarea.errors import InvalidOrderState
from clientarea.mail import outbox
from clientarea.storage.orders import OrderModel

MIN_LINK_LIFETIME = timedelta(seconds=1)


def _mail_params(order: OrderModel, party: Party) -> dict[str, Any]:
    return {
        "party": str(party),
        "order_id": order.order_id,
        "product": order.product,
        "domain": order.domain,
        "other_client_number": party_number(order, party.other),
        "order_link": outbox.page(f"/orders/{order.order_id}"),
    }


def send_link(order: OrderModel, party: Party) -> None:
    expires_at = order.expires_at
    now = clock.now()
    if expires_at is None or now >= expires_at:
        raise InvalidOrderState  # the window is over; the workflow is closing the order
    lifetime = max(expires_at - now, MIN_LINK_LIFETIME)
    issued = tokens.issue(
        tokens.Purpose.CESSION_ANSWER, link_subject(order.order_id, party), lifetime
    )
    mail_link(order, party, issued)


def mail_link(order: OrderModel, party: Party, issued: tokens.IssuedToken) -> None:
    account = identity.get_account(party_number(order, party), identity.CONTACT)
    outbox.send_link(
        "cession_confirm",
        account.email,
        account.locale,
        "/cession",
        issued,
        expires_at=order.expires_at,  # the order's deadline, which the link's outlives by ms
        full_name=account.full_name,
        **_mail_params(order, party),
    )


def notify(order: OrderModel, kind: str, **extra: Any) -> None:
    """Tell both parties how the order ended (the workflow does it for completion and
    expiry, with the same parameters)."""
    for party in Party:
        account = identity.get_account(party_number(order, party), identity.CONTACT)
        outbox.send(
            kind,
            account.email,
            account.locale,
            full_name=account.full_name,
            **_mail_params(order, party),
            **extra,
        )
