"""A client's services and orders, as the client and staff see them."""

from __future__ import annotations

from enum import StrEnum

from clientarea.schema.base import Answer


# The values of clientarea.services.ServiceStatus (tests/unit/test_schema.py compares them).
class ServiceStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


# The values of clientarea.cession.OrderStatus (tests/unit/test_schema.py compares them).
class OrderStatus(StrEnum):
    AWAITING_ACTIVATION = "awaiting_activation"
    AWAITING_CONFIRMATIONS = "awaiting_confirmations"
    COMPLETED = "completed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Service(Answer):
    """A product as its owner sees it, and as staff see a client's products."""

    service_id: str
    product: str
    domain: str
    status: ServiceStatus
