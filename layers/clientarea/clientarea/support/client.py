"""A client's tickets: open one in the client area, list and read them, write on them
(from the client area or by mail) and close them.

A client reaches a ticket only if its `client_number` is the caller's: another client's
ticket is NotFound, exactly as a nonexistent one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clientarea import clock, services
from clientarea.errors import NotFound, TicketClosed
from clientarea.statuses import TicketStatus
from clientarea.storage import tickets as stored
from clientarea.support.opening import new_message, open_ticket
from clientarea.support.views import (
    Attachment,
    Author,
    Channel,
    Department,
    Message,
    Origin,
    Ticket,
)

if TYPE_CHECKING:
    from clientarea.storage.base import TransactionStep


def _owned(client_number: int, number: str) -> Ticket:
    ticket = stored.get(number)
    if ticket.client_number is None or ticket.client_number != int(client_number):
        raise NotFound  # another client's ticket looks exactly like no ticket
    return ticket


def get_for_client(client_number: int, number: str) -> Ticket:
    ticket = _owned(client_number, number)
    return ticket._replace(messages=stored.messages(ticket.number))


def list_for_client(client_number: int) -> list[Ticket]:
    """The caller's tickets, most recently active first."""
    return stored.of_client(client_number)


def open_for_client(
    client_number: int,
    *,
    department: Department,
    subject: str,
    body: str,
    service_id: str | None,
) -> Ticket:
    """A ticket from the client area; `service_id` must be one of the caller's services."""
    if service_id is not None:
        try:
            service = services.get(service_id)
        except NotFound:
            service = None
        if service is None or service.owner_client_number != int(client_number):
            raise NotFound("service")
    return open_ticket(
        department=department,
        subject=subject,
        body=body,
        origin=Origin.CLIENT_AREA,
        client_number=int(client_number),
        service_id=service_id,
    )


def add_client_message(
    client_number: int,
    number: str,
    body: str,
    *,
    channel: Channel = Channel.WEB,
    attachments: list[Attachment] | None = None,
    also: TransactionStep | None = None,
) -> Message:
    """A message from the ticket's owner; the ticket waits for staff again."""
    ticket = _owned(client_number, number)
    if ticket.status == TicketStatus.CLOSED:
        raise TicketClosed
    message = new_message(Author.CLIENT, channel, body, attachments or [])
    stored.append(
        ticket.number, message, status=TicketStatus.OPEN, owner=int(client_number), also=also
    )
    return message


def add_sender_message(
    number: str,
    sender: str,
    body: str,
    attachments: list[Attachment],
    also: TransactionStep | None = None,
) -> Message:
    """A mail from the contact address of an unattached ticket; NotFound unless the
    ticket exists, belongs to no account and `sender` is its contact address."""
    ticket = stored.get(number)
    contact = (ticket.contact_email or "").casefold()
    if ticket.client_number is not None or not contact or contact != sender.casefold():
        raise NotFound
    if ticket.status == TicketStatus.CLOSED:
        raise TicketClosed
    message = new_message(Author.CLIENT, Channel.EMAIL, body, attachments)
    stored.append(ticket.number, message, status=TicketStatus.OPEN, also=also)
    return message


def close(client_number: int, number: str) -> Ticket:
    """Closed for good (closing a closed ticket again just answers it)."""
    ticket = _owned(client_number, number)
    if ticket.status != TicketStatus.CLOSED:
        now = clock.now()
        stored.close(ticket.number, int(client_number), now)
        ticket = ticket._replace(status=str(TicketStatus.CLOSED), updated_at=now)
    return ticket._replace(messages=stored.messages(ticket.number))
