"""Ordering a cession: the owner names the recipient (login and client number, which
must belong together), the order is created holding the service; and the orders a
client is a party to."""

from __future__ import annotations

from clientarea import config, services, throttling
from clientarea.accounts import identity
from clientarea.cession.orders import Order, party_order, view
from clientarea.errors import CessionPending, NotFound, RecipientMismatch
from clientarea.roles import Role
from clientarea.statuses import OrderStatus
from clientarea.storage import accounts as account_store
from clientarea.storage import orders as store
from clientarea.storage.accounts import AccountModel

# Recipient checks that did not match, per owner account and per address and hour: each
# answers whether a login and a client number belong together, which an enumerator wants.
RECIPIENT_MISMATCHES_PER_ACCOUNT_PER_HOUR = 10


def recipient_mismatches_per_account() -> throttling.Limit:
    return throttling.Limit(
        "cession_recipient_account", RECIPIENT_MISMATCHES_PER_ACCOUNT_PER_HOUR, 3600
    )


def recipient_mismatches_per_ip() -> throttling.Limit:
    return throttling.Limit("cession_recipient_ip", config.ip_requests_per_hour(), 3600)


def order_cession(
    owner: int,
    service_id: str,
    *,
    recipient_login: str,
    recipient_client_number: int,
    client_ip: str,
) -> Order:
    """Create an order to give `service_id` to another account, holding the service.

    The order and the hold on the service are one transaction: two orders racing for
    one service cannot both be created. The recipient check is counted, per address and
    per owner account, before it is made (so that no burst gets more answers than the
    limits), and a match gives its counts back in the order's transaction: only
    mismatches are limited.
    """
    service = services.get(service_id)
    if service.owner_client_number != owner:
        raise NotFound  # someone else's service looks like no service at all
    if service.open_order_id is not None:
        raise CessionPending
    counted = [
        throttling.hit(recipient_mismatches_per_ip(), client_ip),
        throttling.hit(recipient_mismatches_per_account(), str(owner)),
    ]
    recipient = _recipient(recipient_login, recipient_client_number, owner=owner)
    try:
        order = store.create_order(
            service,
            status=OrderStatus.AWAITING_ACTIVATION,
            recipient=int(recipient.client_number),
            give_back=counted,
        )
    except CessionPending as exc:
        if services.get(service_id).owner_client_number != owner:
            raise NotFound from exc
        raise
    return view(order)


def _recipient(login: str, client_number: int, *, owner: int) -> AccountModel:
    """The one active client account that both the login and the number name.

    Every failure is the same RecipientMismatch, so the form cannot be used to find
    out which logins exist or which number belongs to which login.
    """
    if client_number == owner:
        raise RecipientMismatch
    if account_store.claimant(account_store.login_claim_key(login.strip())) != client_number:
        raise RecipientMismatch
    try:
        account = identity.get_account(client_number, ("client_number", "role", "status"))
    except NotFound as exc:
        raise RecipientMismatch from exc
    if account.role != Role.CLIENT or account.status != identity.AccountStatus.ACTIVE:
        raise RecipientMismatch
    return account


def list_orders(client_number: int) -> list[Order]:
    """Orders where the caller is the owner or the recipient, newest first (from the
    indexes, which may lag a write by milliseconds; GET /orders/{id} reads the item)."""
    found = store.orders_of(client_number)
    newest_first = sorted(found, key=lambda o: o.created_at, reverse=True)
    return [view(order) for order in newest_first]


def get_order(client_number: int, order_id: str) -> Order:
    order, _ = party_order(client_number, order_id)
    return view(order)
