"""Services: the items, their keys, and every write and read of them
(`clientarea.services` and, for the hold an order puts on a service,
`clientarea.storage.orders`).

A service has exactly one owner, an attribute of its one item, which only the cession
workflow's transfer transaction changes (infra/statemachines/cession.asl.json); an open
order holds its service (`open_order_id`), set in the transaction that creates the order
and removed in the one that closes it.
"""

from __future__ import annotations

import secrets
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from clientarea import config
from clientarea.availability import translated
from clientarea.storage.base import Model, TableMeta, get_or_not_found
from clientarea.storage.unit_of_work import UnitOfWork

# Condition names (unit of work).
HOLD = "service hold"  # the owner still holds the service, and no other order does
RELEASE = "service release"  # the order still holds the service


class ServicesByOwner(GlobalSecondaryIndex["ServiceModel"]):
    """A client's services (GET /services, the staff product view)."""

    class Meta:
        index_name = "by-owner"
        projection = AllProjection()

    owner_client_number = NumberAttribute(hash_key=True)


class ServicesByDomain(GlobalSecondaryIndex["ServiceModel"]):
    """Whose service a domain is (account hints in manual recovery)."""

    class Meta:
        index_name = "by-domain"
        projection = AllProjection()

    domain = UnicodeAttribute(hash_key=True)


class ServiceModel(Model):
    """A service a client holds (a hosting plan with its domain), keyed by `service_id`.

    It has exactly one owner, an attribute of this one item, which only the cession
    workflow's transfer transaction changes (infra/statemachines/cession.asl.json).
    """

    class Meta(TableMeta):
        table_name = config.services_table()

    service_id = UnicodeAttribute(hash_key=True)
    owner_client_number = NumberAttribute()
    product = UnicodeAttribute()
    domain = UnicodeAttribute()  # lowercased, IDNA-encoded
    status = UnicodeAttribute()  # ServiceStatus
    # The open cession order holding this service: set in the transaction that creates
    # the order, removed in the one that closes it. At most one open cession per service.
    open_order_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    by_owner = ServicesByOwner()
    by_domain = ServicesByDomain()


# --- services ---------------------------------------------------------------------------


@translated
def get_service(service_id: str) -> ServiceModel:
    """The service as it is now (a consistent read); NotFound if there is none."""
    return get_or_not_found(ServiceModel, service_id)


@translated
def services_of(client_number: int) -> list[ServiceModel]:
    """The services `client_number` holds (from the index)."""
    return list(ServiceModel.by_owner.query(int(client_number)))


@translated
def owners_of_domain(domain: str) -> set[int]:
    """Every client number holding a service on `domain` (normalised; from the index)."""
    return {int(item.owner_client_number) for item in ServiceModel.by_domain.query(domain)}


@translated
def create_service(**attributes: Any) -> ServiceModel:
    """Store a new service under a new id."""
    item = ServiceModel(f"svc-{secrets.token_hex(8)}", **attributes)
    item.save(condition=ServiceModel.service_id.does_not_exist())
    return item


def hold(uow: UnitOfWork, service_id: str, order_id: str, *, owner: int) -> None:
    """Hold the service for an order (in the order's unit of work), only if `owner`
    still holds it and no other order does (HOLD)."""
    uow.update(
        ServiceModel(service_id),
        actions=[ServiceModel.open_order_id.set(order_id)],
        condition=(ServiceModel.owner_client_number == owner)
        & ServiceModel.open_order_id.does_not_exist(),
        name=HOLD,
    )


def release(uow: UnitOfWork, service_id: str, order_id: str) -> None:
    """Release the service from the order (in the unit of work that closes it; RELEASE)."""
    uow.update(
        ServiceModel(service_id),
        actions=[ServiceModel.open_order_id.remove()],
        condition=ServiceModel.open_order_id == order_id,
        name=RELEASE,
    )
