"""The statuses the API answers, declared once: the domain modules keep them on their
items, and the HTTP shapes (clientarea.schema) document them as the enums the OpenAPI
document lists. No imports beyond the standard library: every function may load it."""

from __future__ import annotations

from enum import StrEnum


class ServiceStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class OrderStatus(StrEnum):
    """A cession order's status (clientarea.cession)."""

    AWAITING_ACTIVATION = "awaiting_activation"
    AWAITING_CONFIRMATIONS = "awaiting_confirmations"
    COMPLETED = "completed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class TicketStatus(StrEnum):
    OPEN = "open"  # waiting for staff
    ANSWERED = "answered"  # staff replied; waiting for the client
    CLOSED = "closed"


class RecoveryStatus(StrEnum):
    AWAITING_DOCUMENTS = "awaiting_documents"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"
