"""The response models more than one route family answers, each declared once."""

from __future__ import annotations

from typing import Literal

from clientarea.schema.base import Answer
from clientarea.schema.fields import ServiceStatus, TicketStatus, Timestamp


class Account(Answer):
    """GET/PATCH /account, and POST /account/email-change/confirm."""

    client_number: int
    login: str
    email: str
    full_name: str
    phone: str | None
    address: str | None
    locale: str
    authorised_emails: list[str]
    # True once mail to `email` hard-bounced or drew a complaint: nothing is mailed there
    # until the client changes it (a confirmed change clears it).
    email_undeliverable: bool


class Session(Answer):
    """One of the caller's live sessions (clientarea.sessions.list_own builds it)."""

    session_id: str
    created_at: Timestamp
    last_seen_at: Timestamp
    user_agent: str | None
    ip: str | None
    current: bool


class Service(Answer):
    """A product as its owner sees it, and as staff see a client's products."""

    service_id: str
    product: str
    domain: str
    status: ServiceStatus


class TicketSummary(Answer):
    """A ticket in a list, the client's and the staff queue alike."""

    number: str
    subject: str
    department: str
    status: TicketStatus
    service_id: str | None
    created_at: Timestamp
    updated_at: Timestamp


class TicketAttachment(Answer):
    filename: str
    content_type: str
    size: int


class TicketMessage(Answer):
    message_id: str
    author: Literal["client", "staff"]
    channel: Literal["web", "email"]
    body: str
    created_at: Timestamp
    attachments: list[TicketAttachment]


class RecoveryDocument(Answer):
    """A document of a recovery case as its applicant sees it."""

    document: str
    required: bool
    uploaded: bool
    size: int | None
    uploaded_at: Timestamp | None
