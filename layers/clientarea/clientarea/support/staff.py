"""What staff do with tickets: the queue, a ticket with its messages, a reply (mailed
to the client), and the one view of a client they get: its product list.

Staff views carry the ticket and its messages, never the client's profile. The
account's contact address and language are read only to mail a staff reply, with a
projection that the staff function's IAM policy also enforces.
"""

from __future__ import annotations

from typing import Any

from clientarea import config, locales, services
from clientarea.accounts import identity
from clientarea.errors import NotFound, TicketClosed
from clientarea.mail import outbox
from clientarea.statuses import TicketStatus
from clientarea.storage import tickets as stored
from clientarea.support.opening import new_message
from clientarea.support.views import Author, Channel, Department, Message, Ticket

# What of an account a staff reply needs (template.yaml allows the staff function no more).
_CONTACT = ("email", "locale", "full_name")


def queue(status: TicketStatus) -> list[Ticket]:
    """The staff queue for one status, oldest activity first (who waited longest)."""
    return stored.in_status(status)


def get_for_staff(number: str) -> Ticket:
    ticket = stored.get(number)
    return ticket._replace(messages=stored.messages(ticket.number))


def staff_reply(number: str, body: str) -> Message:
    """Add a staff message and mail it to the client's contact address in the client's
    language (or to the sender of an unattached ticket, in the language of the mail)."""
    ticket = stored.get(number)
    if ticket.status == TicketStatus.CLOSED:
        raise TicketClosed
    message = new_message(Author.STAFF, Channel.WEB, body, [])
    stored.append(ticket.number, message, status=TicketStatus.ANSWERED)
    _mail_reply(ticket, body)
    return message


def _mail_reply(ticket: Ticket, body: str) -> None:
    if ticket.client_number is not None:
        contact = _contact_of_account(ticket.client_number)
        if contact is None:
            return
        to, locale, name = contact
        link = outbox.page(f"/tickets/{ticket.number}")
        reply_to = config.support_address()
    else:
        if not ticket.contact_email:
            return
        # An unattached ticket's address was typed into a form, or is a From that may be
        # forged: nothing its author typed (name, subject) goes to it, only the staff's
        # own answer, greeted neutrally (issue 12, item 2).
        to, locale, name = ticket.contact_email, ticket.locale or locales.DEFAULT, None
        link = outbox.page("/")
        reply_to = (
            config.sales_address()
            if ticket.department == Department.SALES
            else config.support_address()
        )
    outbox.send(
        "ticket_reply",
        to,
        locale,
        headers={"Reply-To": reply_to},
        full_name=name,
        number=ticket.number,
        ticket_subject=ticket.subject if ticket.client_number is not None else None,
        message=body,
        link=link,
    )


def _contact_of_account(client_number: int) -> tuple[str, str, str] | None:
    """Contact address, language and name of an account, and nothing else of it."""
    try:
        account = identity.get_account(client_number, _CONTACT)
    except NotFound:
        return None
    return account.email, account.locale or locales.DEFAULT, account.full_name


def products_of(client_number: int) -> list[dict[str, Any]]:
    """The only view of a client that staff get: its product list."""
    return [service.as_dict() for service in services.list_for_owner(int(client_number))]
