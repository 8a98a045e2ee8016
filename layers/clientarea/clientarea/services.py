"""Services: what a client holds (a hosting plan with its domain) and who holds it.

A service is one item with exactly one `owner_client_number`. Nothing in the API
changes it: only the cession workflow's transfer transaction moves a service to
another account (see `clientarea.cession`). Services are created by provisioning
(billing in production; the dev server's seed and `POST /_dev/services` locally).

Reads by owner and by domain go through global secondary indexes, which DynamoDB
updates within milliseconds but not atomically: a service that has just moved can
still be listed under its previous owner for that long. Decisions are never taken on
an index read: `get()` reads the item itself, consistently.
"""

from typing import Any, NamedTuple

from clientarea import clock
from clientarea.statuses import ServiceStatus
from clientarea.storage import services as store

MAX_DOMAIN_LENGTH = 253


class Service(NamedTuple):
    service_id: str
    owner_client_number: int
    product: str
    domain: str
    status: str
    open_order_id: str | None

    def as_dict(self) -> dict[str, Any]:
        """What a client (and staff) see: never the internal hold."""
        return {
            "service_id": self.service_id,
            "product": self.product,
            "domain": self.domain,
            "status": self.status,
        }


def _service(item: Any) -> Service:
    return Service(
        service_id=item.service_id,
        owner_client_number=int(item.owner_client_number),
        product=item.product,
        domain=item.domain,
        status=item.status,
        open_order_id=item.open_order_id,
    )


def normalise_domain(raw: str) -> str | None:
    """`Example.COM.` → `example.com`, `zażółć.pl` → its IDNA form; None if not a domain."""
    text = raw.strip().rstrip(".").lower()
    if not text or len(text) > MAX_DOMAIN_LENGTH or any(ch.isspace() for ch in text):
        return None
    try:
        return text.encode("idna").decode("ascii")
    except UnicodeError:
        return None


def get(service_id: str) -> Service:
    """The service as it is now (a consistent read); NotFound if there is none."""
    return _service(store.get_service(service_id))


def list_for_owner(client_number: int) -> list[Service]:
    """Every service `client_number` holds, by domain."""
    items = store.services_of(client_number)
    return sorted((_service(item) for item in items), key=lambda s: (s.domain, s.service_id))


def find_by_domain(domain: str) -> int | None:
    """The client number holding a service on `domain`, if exactly one account does.

    For account hints (manual recovery): an unknown or malformed domain, or one that
    somehow appears under two accounts, gives None rather than a guess.
    """
    normalised = normalise_domain(domain)
    if normalised is None:
        return None
    owners = store.owners_of_domain(normalised)
    return owners.pop() if len(owners) == 1 else None


def provision(
    *,
    owner_client_number: int,
    product: str,
    domain: str,
    status: ServiceStatus = ServiceStatus.ACTIVE,
) -> Service:
    """Create a service for an account (provisioning and local seeding, never an API route)."""
    normalised = normalise_domain(domain)
    if normalised is None:
        raise ValueError(f"not a domain name: {domain!r}")
    item = store.create_service(
        owner_client_number=int(owner_client_number),
        product=product,
        domain=normalised,
        status=status,
        created_at=clock.now(),
    )
    return _service(item)
