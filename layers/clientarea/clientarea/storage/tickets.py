"""Support tickets in DynamoDB (the Tickets table): a ticket, its messages (in its
partition, in order) and the counter numbers come from. A ticket is written only if its
number is unused, a message only while the ticket is not closed, each in the caller's
unit of work: a failed condition is named there (`NUMBER`, `OPEN_TICKET`, `MESSAGE`),
never an overwrite."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from clientarea import availability, config
from clientarea.errors import NotFound
from clientarea.statuses import TicketStatus
from clientarea.storage.base import Model, TableMeta, get_or_not_found
from clientarea.storage.unit_of_work import UnitOfWork
from clientarea.support.numbering import FIRST_NUMBER, canonical, format_number
from clientarea.support.views import Attachment, Message, Ticket

# Condition names (unit of work).
NUMBER = "ticket number"  # a new ticket's number is unused
OPEN_TICKET = "open ticket"  # the ticket is not closed (and still the client's)
MESSAGE = "ticket message"  # a message is new


class TicketsByClient(GlobalSecondaryIndex["TicketModel"]):
    """A client's tickets (GET /tickets); tickets attached to no account are not in it."""

    class Meta:
        index_name = "by-client"
        projection = AllProjection()

    client_number = NumberAttribute(hash_key=True)
    updated_at = UTCDateTimeAttribute(range_key=True)


class TicketsByStatus(GlobalSecondaryIndex["TicketModel"]):
    """The staff queue (GET /staff/tickets?status=)."""

    class Meta:
        index_name = "by-status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    updated_at = UTCDateTimeAttribute(range_key=True)


class TicketModel(Model):
    """A support ticket: `pk` is `ticket#<number>`, `sk` is `ticket`.

    `client_number` is set only for tickets that belong to an account (opened in the
    client area, or by mail from an address authorised on it). Sales questions and
    access requests belong to no account: staff answer them at `contact_email`.
    """

    class Meta(TableMeta):
        table_name = config.tickets_table()

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="ticket")
    number = UnicodeAttribute()
    client_number = NumberAttribute(null=True)
    department = UnicodeAttribute()  # Department
    subject = UnicodeAttribute()
    status = UnicodeAttribute()  # TicketStatus
    origin = UnicodeAttribute()  # Origin
    service_id = UnicodeAttribute(null=True)
    # Unattached tickets only: where (and in which language) a staff reply is mailed.
    contact_email = UnicodeAttribute(null=True)
    contact_name = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(null=True)
    # Access requests: what the applicant typed, and the account it named (if any).
    applicant = MapAttribute(null=True)  # type: ignore[var-annotated]
    claimed_client_number = NumberAttribute(null=True)
    message_count = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    by_client = TicketsByClient()
    by_status = TicketsByStatus()


class TicketMessageModel(Model):
    """One message of a ticket: `pk` is the ticket's, `sk` is `message#<time>#<id>`."""

    class Meta(TableMeta):
        table_name = config.tickets_table()

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    message_id = UnicodeAttribute()
    author = UnicodeAttribute()  # Author
    channel = UnicodeAttribute()  # Channel
    body = UnicodeAttribute()
    # [{filename, content_type, size, key}] with `key` in the mail bucket.
    attachments = ListAttribute(of=MapAttribute, default=list)
    created_at = UTCDateTimeAttribute()


class TicketCounterModel(Model):
    """`counter#ticket`: ticket numbers come from here, once each."""

    class Meta(TableMeta):
        table_name = config.tickets_table()

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="counter")
    value = NumberAttribute(default=0)


def ticket_key(number: str) -> str:
    return f"ticket#{number}"


def _attachment(raw: Any) -> Attachment:
    data = raw.as_dict() if hasattr(raw, "as_dict") else dict(raw)
    return Attachment(
        filename=str(data.get("filename") or "attachment"),
        content_type=str(data.get("content_type") or "application/octet-stream"),
        size=int(data.get("size") or 0),
        key=str(data.get("key") or ""),
    )


def _message(item: TicketMessageModel) -> Message:
    return Message(
        message_id=item.message_id,
        author=item.author,
        channel=item.channel,
        body=item.body,
        created_at=item.created_at,
        attachments=[_attachment(a) for a in item.attachments or []],
    )


def _ticket(item: TicketModel) -> Ticket:
    return Ticket(
        number=item.number,
        client_number=None if item.client_number is None else int(item.client_number),
        department=item.department,
        subject=item.subject,
        status=item.status,
        origin=item.origin,
        service_id=item.service_id,
        created_at=item.created_at,
        updated_at=item.updated_at,
        applicant=item.applicant.as_dict() if item.applicant else None,
        claimed_client_number=(
            None if item.claimed_client_number is None else int(item.claimed_client_number)
        ),
        contact_email=item.contact_email,
        contact_name=item.contact_name,
        locale=item.locale,
    )


@availability.translated
def get(number: str) -> Ticket:
    """The ticket `number` names (without its messages); NotFound unless `number` is
    exactly a canonical ticket number of a stored ticket."""
    if (found := canonical(number)) is None:
        raise NotFound
    return _ticket(get_or_not_found(TicketModel, ticket_key(found), "ticket"))


@availability.translated
def messages(number: str) -> list[Message]:
    """A ticket's messages, oldest first."""
    items = TicketMessageModel.query(
        ticket_key(number), TicketMessageModel.sk.startswith("message#"), consistent_read=True
    )
    return [_message(item) for item in items]


@availability.translated
def of_client(client_number: int) -> list[Ticket]:
    """A client's tickets, most recently active first."""
    items = TicketModel.by_client.query(int(client_number), scan_index_forward=False)
    return [_ticket(item) for item in items]


@availability.translated
def in_status(status: TicketStatus) -> list[Ticket]:
    """The tickets in one status, oldest activity first."""
    return [_ticket(item) for item in TicketModel.by_status.query(str(status))]


@availability.translated
def allocate_number() -> str:
    counter = TicketCounterModel("counter#ticket", "counter")
    counter.update(actions=[TicketCounterModel.value.add(1)])
    return format_number(FIRST_NUMBER + int(counter.value) - 1)


def _message_item(number: str, message: Message) -> TicketMessageModel:
    return TicketMessageModel(
        ticket_key(number),
        f"message#{message.created_at.strftime('%Y%m%dT%H%M%S.%f')}#{message.message_id}",
        message_id=message.message_id,
        author=message.author,
        channel=message.channel,
        body=message.body,
        attachments=[a._asdict() for a in message.attachments],  # with `key`: stored, not shown
        created_at=message.created_at,
    )


def _add_message(uow: UnitOfWork, number: str, message: Message) -> None:
    uow.save(
        _message_item(number, message),
        condition=TicketMessageModel.pk.does_not_exist(),
        name=MESSAGE,
    )


def create(uow: UnitOfWork, ticket: Ticket, first: Message) -> None:
    """A new ticket and its first message, in `uow`, only if the number is unused
    (NUMBER fails only if the counter were ever set back): never an overwrite."""
    item = TicketModel(
        ticket_key(ticket.number),
        "ticket",
        number=ticket.number,
        client_number=ticket.client_number,
        department=ticket.department,
        subject=ticket.subject,
        status=ticket.status,
        origin=ticket.origin,
        service_id=ticket.service_id,
        contact_email=ticket.contact_email,
        contact_name=ticket.contact_name,
        locale=ticket.locale,
        applicant=ticket.applicant,
        claimed_client_number=ticket.claimed_client_number,
        message_count=1,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
    )
    uow.save(item, condition=TicketModel.pk.does_not_exist(), name=NUMBER)
    _add_message(uow, ticket.number, first)


def append(
    uow: UnitOfWork,
    number: str,
    message: Message,
    *,
    status: TicketStatus,
    owner: int | None = None,
) -> None:
    """Add a message and set the status, in `uow`, unless the ticket was closed
    meanwhile (or, with `owner`, no longer belongs to that client): OPEN_TICKET."""
    condition = TicketModel.status != str(TicketStatus.CLOSED)
    if owner is not None:
        condition &= TicketModel.client_number == int(owner)
    uow.update(
        TicketModel(ticket_key(number), "ticket"),
        actions=[
            TicketModel.status.set(str(status)),
            TicketModel.updated_at.set(message.created_at),
            TicketModel.message_count.add(1),
        ],
        condition=condition,
        name=OPEN_TICKET,
    )
    _add_message(uow, number, message)


@availability.translated
def close(number: str, owner: int, at: datetime) -> None:
    """Mark the ticket closed, provided it is still `owner`'s (else NotFound: another
    client's ticket looks exactly like no ticket)."""
    try:
        TicketModel(ticket_key(number), "ticket").update(
            actions=[
                TicketModel.status.set(str(TicketStatus.CLOSED)),
                TicketModel.updated_at.set(at),
            ],
            condition=TicketModel.client_number == int(owner),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise NotFound from exc
        raise
