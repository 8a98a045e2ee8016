"""Opening a ticket, whichever way it comes (client area, mail, the public forms):
a new number, the ticket and its first message in one write."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from clientarea import clock, telemetry
from clientarea.statuses import TicketStatus
from clientarea.storage import tickets as stored
from clientarea.storage.unit_of_work import joining
from clientarea.support.views import (
    MAX_SUBJECT,
    Attachment,
    Author,
    Channel,
    Department,
    Message,
    Origin,
    Ticket,
)

if TYPE_CHECKING:
    from clientarea.storage.unit_of_work import UnitOfWork


def new_message(
    author: Author, channel: Channel, body: str, attachments: list[Attachment]
) -> Message:
    return Message(
        message_id=f"msg-{secrets.token_hex(6)}",
        author=str(author),
        channel=str(channel),
        body=body,
        created_at=clock.now(),
        attachments=list(attachments),
    )


def clean_subject(raw: str) -> str:
    flat = " ".join((raw or "").split())
    return flat[:MAX_SUBJECT] or "(no subject)"


def open_ticket(
    *,
    department: Department,
    subject: str,
    body: str,
    origin: Origin,
    channel: Channel = Channel.WEB,
    client_number: int | None = None,
    service_id: str | None = None,
    contact_email: str | None = None,
    contact_name: str | None = None,
    locale: str | None = None,
    applicant: dict[str, str] | None = None,
    claimed_client_number: int | None = None,
    attachments: list[Attachment] | None = None,
    uow: UnitOfWork | None = None,
) -> Ticket:
    """Write a new ticket and its first message, under a number never given out
    before: in the caller's `uow` if given (inbound mail records in it that the mail
    was handled, so a redelivery cannot open a second ticket), else at once (a failed
    condition is ConditionsFailed, a Conflict)."""
    number = stored.allocate_number()
    now = clock.now()
    message = new_message(Author.CLIENT, channel, body, attachments or [])
    ticket = Ticket(
        number=number,
        client_number=client_number,
        department=str(department),
        subject=clean_subject(subject),
        status=str(TicketStatus.OPEN),
        origin=str(origin),
        service_id=service_id,
        created_at=now,
        updated_at=now,
        messages=[message],
        applicant=applicant,
        claimed_client_number=claimed_client_number,
        contact_email=contact_email,
        contact_name=contact_name,
        locale=locale,
    )
    with joining(uow) as unit:
        stored.create(unit, ticket, message)
        unit.after_commit(lambda: telemetry.count_by(telemetry.Metric.TICKET_OPENED, str(origin)))
    return ticket
