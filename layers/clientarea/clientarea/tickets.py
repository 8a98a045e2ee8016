"""Support tickets: opened in the client area, by mail, by the "I can't log in" form or
as sales questions; messages; close; the staff queue and staff replies.

Access control is by owner, never by secrecy of the number: ticket numbers are
sequential and human-friendly (`TKT-100-001`), and a client reaches a ticket only if
its `client_number` is the caller's (another client's ticket is 404, exactly as a
nonexistent one). Numbers come from an atomic counter and each ticket item is written
under `attribute_not_exists`: a number can never be given out twice.

```mermaid
stateDiagram-v2
    [*] --> open: client opens (area, mail, form)
    open --> answered: staff reply
    answered --> open: client message
    open --> closed: client closes
    answered --> closed: client closes
    closed --> [*]
```

A closed ticket takes no more messages (409 `ticket_closed`, from the client area
and from staff alike): closing means "solved", and a new question gets a new number.
Mail quoting a closed ticket's number therefore opens a new ticket (see
`clientarea.inbound`). Closing a closed ticket again answers the ticket (idempotent).

Staff views carry the ticket and its messages, never the client's profile: no
name, email, phone or address of the account (API.md, "Support"). The account's
contact address and language are read only to mail a staff reply, with a projection
that the staff function's IAM policy also enforces.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any, cast

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from clientarea import (
    availability,
    clock,
    config,
    locales,
    services,
    telemetry,
    throttling,
)
from clientarea.accounts import identity
from clientarea.errors import Conflict, InvalidEmail, NotFound, ServiceUnavailable, TicketClosed
from clientarea.mail import outbox
from clientarea.storage import accounts as account_store
from clientarea.tables import (
    AccountModel,
    TicketCounterModel,
    TicketMessageModel,
    TicketModel,
    transaction,
)

logger = Logger(child=True)

FIRST_NUMBER = 100_001
DOWNLOAD_URL_TTL = timedelta(minutes=5)
MAX_SUBJECT = 200
MAX_BODY = 20_000

_NUMBER = re.compile(r"\bTKT-(\d{3,9})-(\d{3})\b", re.IGNORECASE)


class Department(StrEnum):
    TECHNICAL = "technical"
    BILLING = "billing"
    SALES = "sales"


class TicketStatus(StrEnum):
    OPEN = "open"  # waiting for staff
    ANSWERED = "answered"  # staff replied; waiting for the client
    CLOSED = "closed"


class Origin(StrEnum):
    CLIENT_AREA = "client_area"
    EMAIL = "email"
    ACCESS_REQUEST = "access_request"
    SALES_QUESTION = "sales_question"


class Author(StrEnum):
    CLIENT = "client"  # the account holder, or the sender of an unattached ticket
    STAFF = "staff"


class Channel(StrEnum):
    WEB = "web"
    EMAIL = "email"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    key: str

    def as_dict(self) -> dict[str, Any]:
        """Without the bucket key: views give names and sizes, never storage paths."""
        return {"filename": self.filename, "content_type": self.content_type, "size": self.size}


@dataclass(frozen=True)
class Message:
    message_id: str
    author: str
    channel: str
    body: str
    created_at: datetime
    attachments: list[Attachment] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "author": self.author,
            "channel": self.channel,
            "body": self.body,
            "created_at": clock.iso(self.created_at),
            "attachments": [a.as_dict() for a in self.attachments],
        }


@dataclass(frozen=True)
class Ticket:
    number: str
    client_number: int | None
    department: str
    subject: str
    status: str
    origin: str
    service_id: str | None
    created_at: datetime
    updated_at: datetime
    messages: list[Message] = field(default_factory=list)
    applicant: dict[str, str] | None = None
    claimed_client_number: int | None = None

    def summary(self) -> dict[str, Any]:
        """What a list shows (the client's and the staff queue alike)."""
        return {
            "number": self.number,
            "subject": self.subject,
            "department": self.department,
            "status": self.status,
            "service_id": self.service_id,
            "created_at": clock.iso(self.created_at),
            "updated_at": clock.iso(self.updated_at),
        }

    def client_view(self) -> dict[str, Any]:
        return {**self.summary(), "messages": [m.as_dict() for m in self.messages]}

    def staff_view(self) -> dict[str, Any]:
        """The ticket, its messages and whose it is: never the client's profile.

        `applicant` is only on access requests: what the person typed into the public
        form for staff to check against their documents, not data read from an account.
        """
        messages = [
            {
                **message.as_dict(),
                "attachments": [
                    {**a.as_dict(), "download_url": _download_url(a)} for a in message.attachments
                ],
            }
            for message in self.messages
        ]
        return {
            **self.summary(),
            "messages": messages,
            "origin": self.origin,
            "client_number": self.client_number,
            "claimed_client_number": self.claimed_client_number,
            "applicant": self.applicant,
        }


def _download_url(attachment: Attachment) -> str:
    """A short-lived link to the stored attachment (presigning is local: no AWS call)."""
    return cast(
        str,
        _s3().generate_presigned_url(
            "get_object",
            Params={
                "Bucket": config.mail_bucket(),
                "Key": attachment.key,
                "ResponseContentDisposition": "attachment",
            },
            ExpiresIn=int(DOWNLOAD_URL_TTL.total_seconds()),
        ),
    )


@cache
def _s3() -> Any:
    import boto3  # noqa: PLC0415 - only the requests that call this service pay for it

    return boto3.client("s3")


# --- numbers ----------------------------------------------------------------------------


def format_number(value: int) -> str:
    """100001 → `TKT-100-001`: the last three digits after a dash, easy to read aloud."""
    digits = f"{value:06d}"
    return f"TKT-{digits[:-3]}-{digits[-3:]}"


def parse_number(text: str) -> str | None:
    """The canonical number in `text` (`tkt-100-001` → `TKT-100-001`), else None."""
    match = _NUMBER.search(text or "")
    if match is None:
        return None
    return format_number(int(match.group(1) + match.group(2)))


def _ticket_key(number: str) -> str:
    return f"ticket#{number}"


def _allocate_number() -> str:
    counter = TicketCounterModel("counter#ticket", "counter")
    counter.update(actions=[TicketCounterModel.value.add(1)])
    return format_number(FIRST_NUMBER + int(counter.value) - 1)


# --- reading ----------------------------------------------------------------------------


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


def _ticket(item: TicketModel, messages: list[Message] | None = None) -> Ticket:
    applicant = item.applicant.as_dict() if item.applicant else None
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
        messages=messages or [],
        applicant=applicant,
        claimed_client_number=(
            None if item.claimed_client_number is None else int(item.claimed_client_number)
        ),
    )


def _get_item(number: str) -> TicketModel:
    canonical = parse_number(number)
    if canonical is None or canonical != number.strip().upper():
        raise NotFound
    try:
        return TicketModel.get(_ticket_key(canonical), "ticket", consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound from exc


def _messages(number: str) -> list[Message]:
    items = TicketMessageModel.query(
        _ticket_key(number),
        TicketMessageModel.sk.startswith("message#"),
        consistent_read=True,
    )
    return [_message(item) for item in items]


def _owned_item(client_number: int, number: str) -> TicketModel:
    item = _get_item(number)
    if item.client_number is None or int(item.client_number) != int(client_number):
        raise NotFound  # another client's ticket looks exactly like no ticket
    return item


def get_for_client(client_number: int, number: str) -> Ticket:
    item = _owned_item(client_number, number)
    return _ticket(item, _messages(item.number))


def list_for_client(client_number: int) -> list[Ticket]:
    """The caller's tickets, most recently active first."""
    items = TicketModel.by_client.query(int(client_number), scan_index_forward=False)
    return [_ticket(item) for item in items]


def get_for_staff(number: str) -> Ticket:
    item = _get_item(number)
    return _ticket(item, _messages(item.number))


def queue(status: TicketStatus) -> list[Ticket]:
    """The staff queue for one status, oldest activity first (who waited longest)."""
    return [_ticket(item) for item in TicketModel.by_status.query(str(status))]


# --- writing ----------------------------------------------------------------------------


def _new_message(
    number: str, author: Author, channel: Channel, body: str, attachments: list[Attachment]
) -> TicketMessageModel:
    now = clock.now()
    message_id = f"msg-{secrets.token_hex(6)}"
    return TicketMessageModel(
        _ticket_key(number),
        f"message#{now.strftime('%Y%m%dT%H%M%S.%f')}#{message_id}",
        message_id=message_id,
        author=str(author),
        channel=str(channel),
        body=body,
        attachments=[
            {"filename": a.filename, "content_type": a.content_type, "size": a.size, "key": a.key}
            for a in attachments
        ],
        created_at=now,
    )


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
    also: Callable[[TransactWrite], None] | None = None,
) -> Ticket:
    """Write a new ticket and its first message in one transaction, conditional on
    the number being unused. `also` adds the caller's own operation to it (inbound
    mail records that the mail was handled, so a redelivery cannot open a second
    ticket)."""
    number = _allocate_number()
    now = clock.now()
    item = TicketModel(
        _ticket_key(number),
        "ticket",
        number=number,
        client_number=client_number,
        department=str(department),
        subject=clean_subject(subject),
        status=str(TicketStatus.OPEN),
        origin=str(origin),
        service_id=service_id,
        contact_email=contact_email,
        contact_name=contact_name,
        locale=locale,
        applicant=applicant,
        claimed_client_number=claimed_client_number,
        message_count=1,
        created_at=now,
        updated_at=now,
    )
    message = _new_message(number, Author.CLIENT, channel, body, attachments or [])
    try:
        with transaction() as tx:
            tx.save(item, condition=TicketModel.pk.does_not_exist())  # a number is used once
            tx.save(message, condition=TicketMessageModel.pk.does_not_exist())
            if also is not None:
                also(tx)
    except TransactWriteError as exc:
        # The number exists (only if the counter were ever set back) or `also` failed:
        # never an overwrite.
        raise Conflict from exc
    telemetry.count_by(telemetry.Metric.TICKET_OPENED, str(origin))
    return _ticket(item, [_message(message)])


def clean_subject(raw: str) -> str:
    flat = " ".join((raw or "").split())
    return flat[:MAX_SUBJECT] or "(no subject)"


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


def _append(  # noqa: PLR0917 - private, called with keywords where it matters
    item: TicketModel,
    author: Author,
    channel: Channel,
    body: str,
    attachments: list[Attachment],
    owner_condition: Any = None,
    also: Callable[[TransactWrite], None] | None = None,
) -> Message:
    """Add a message and move the status, unless the ticket was closed meanwhile."""
    message = _new_message(item.number, author, channel, body, attachments)
    status = TicketStatus.ANSWERED if author is Author.STAFF else TicketStatus.OPEN
    condition = TicketModel.status != str(TicketStatus.CLOSED)
    if owner_condition is not None:
        condition = condition & owner_condition
    try:
        with transaction() as tx:
            tx.update(
                item,
                actions=[
                    TicketModel.status.set(str(status)),
                    TicketModel.updated_at.set(message.created_at),
                    TicketModel.message_count.add(1),
                ],
                condition=condition,
            )
            tx.save(message, condition=TicketMessageModel.pk.does_not_exist())
            if also is not None:
                also(tx)
    except TransactWriteError as exc:
        raise TicketClosed from exc
    return _message(message)


def add_client_message(
    client_number: int,
    number: str,
    body: str,
    *,
    channel: Channel = Channel.WEB,
    attachments: list[Attachment] | None = None,
    also: Callable[[TransactWrite], None] | None = None,
) -> Message:
    item = _owned_item(client_number, number)
    if item.status == TicketStatus.CLOSED:
        raise TicketClosed
    return _append(
        item,
        Author.CLIENT,
        channel,
        body,
        attachments or [],
        owner_condition=TicketModel.client_number == int(client_number),
        also=also,
    )


def add_sender_message(
    number: str,
    sender: str,
    body: str,
    attachments: list[Attachment],
    also: Callable[[TransactWrite], None] | None = None,
) -> Message:
    """A mail from the contact address of an unattached ticket; NotFound unless the
    ticket exists, belongs to no account and `sender` is its contact address."""
    item = _get_item(number)
    contact = (item.contact_email or "").casefold()
    if item.client_number is not None or not contact or contact != sender.casefold():
        raise NotFound
    if item.status == TicketStatus.CLOSED:
        raise TicketClosed
    return _append(item, Author.CLIENT, Channel.EMAIL, body, attachments, also=also)


def close(client_number: int, number: str) -> Ticket:
    item = _owned_item(client_number, number)
    if item.status != TicketStatus.CLOSED:
        item.update(
            actions=[
                TicketModel.status.set(str(TicketStatus.CLOSED)),
                TicketModel.updated_at.set(clock.now()),
            ],
            condition=TicketModel.client_number == int(client_number),
        )
    return _ticket(item, _messages(item.number))


# --- staff ------------------------------------------------------------------------------


def staff_reply(number: str, body: str) -> Message:
    """Add a staff message and mail it to the client's contact address in the client's
    language (or to the sender of an unattached ticket, in the language of the mail)."""
    item = _get_item(number)
    if item.status == TicketStatus.CLOSED:
        raise TicketClosed
    message = _append(item, Author.STAFF, Channel.WEB, body, [])
    _mail_reply(item, body)
    return message


def _mail_reply(item: TicketModel, body: str) -> None:
    if item.client_number is not None:
        contact = _contact_of_account(int(item.client_number))
        if contact is None:
            return
        to, locale, name = contact
        link = outbox.page(f"/tickets/{item.number}")
        reply_to = config.support_address()
    else:
        if not item.contact_email:
            return
        # An unattached ticket's address was typed into a form, or is a From that may be
        # forged: nothing its author typed (name, subject) goes to it, only the staff's
        # own answer, greeted neutrally (issue 12, item 2).
        to, locale, name = item.contact_email, item.locale or locales.DEFAULT, None
        link = outbox.page("/")
        reply_to = (
            config.sales_address()
            if item.department == Department.SALES
            else config.support_address()
        )
    outbox.send(
        "ticket_reply",
        to,
        locale,
        headers={"Reply-To": reply_to},
        full_name=name,
        number=item.number,
        ticket_subject=item.subject if item.client_number is not None else None,
        message=body,
        link=link,
    )


def _contact_of_account(client_number: int) -> tuple[str, str, str] | None:
    """Contact address, language and name of an account, and nothing else of it."""
    try:
        account = AccountModel.get(
            account_store.account_key(client_number),
            consistent_read=True,
            attributes_to_get=["pk", "email", "locale", "full_name"],
        )
    except DoesNotExist:
        return None
    return account.email, account.locale or locales.DEFAULT, account.full_name


def products_of(client_number: int) -> list[dict[str, Any]]:
    """The only view of a client that staff get: its product list."""
    return [service.as_dict() for service in services.list_for_owner(int(client_number))]


# --- public forms -------------------------------------------------------------------------


def request_access(
    *,
    full_name: str,
    address: str,
    phone: str,
    login_or_email: str,
    message: str,
    email: str | None,
    locale: str,
    client_ip: str,
) -> Ticket:
    """The "I can't log in" form: always a new unattached ticket with the same answer.

    An acknowledgement goes only to an account's contact address, and only when the
    address the person gave (`email`, else `login_or_email` if it is an address) IS
    that contact address: the form never mails an address someone merely typed, and
    whether anything was sent is never told (the answer is the same either way).
    """
    account = identity.find_by_login_or_email(login_or_email, identity.CONTACT)
    given = email or (login_or_email if "@" in login_or_email else None)
    ticket = open_ticket(
        department=Department.TECHNICAL,
        subject=f"Access request: {login_or_email}",
        body=message,
        origin=Origin.ACCESS_REQUEST,
        # Where a staff reply goes: a person decides to write there, nothing automatic.
        contact_email=_valid_address(given),
        contact_name=full_name,
        locale=locale,
        applicant={
            "full_name": full_name,
            "address": address,
            "phone": phone,
            "login_or_email": login_or_email,
            **({"email": email} if email else {}),
        },
        claimed_client_number=None if account is None else int(account.client_number),
    )
    if account is not None and given and _same_address(given, account.email):
        _acknowledge_access_request(account, ticket.number, client_ip)
    return ticket


def _valid_address(given: str | None) -> str | None:
    try:
        return identity.normalise_email(given) if given else None
    except InvalidEmail:
        return None


def _same_address(given: str, contact: str) -> bool:
    try:
        return identity.normalise_email(given).casefold() == contact.casefold()
    except InvalidEmail:  # a malformed address simply does not match
        return False


def _acknowledge_access_request(account: AccountModel, number: str, client_ip: str) -> None:
    """Best effort, after the ticket is stored: a throttled counter or queue skips the
    mail rather than fail a request whose ticket exists (the retry would open a second
    one, and a 503 only when an account matched would tell that it exists). Within the
    contact address's unasked-mail budget (shared with every other route), silently."""
    try:
        if not throttling.may_mail_unasked(account.email, client_ip=client_ip):
            return
        outbox.send(
            "access_request_received",
            account.email,
            account.locale,
            full_name=account.full_name,
            number=number,
            reset_link=outbox.page("/forgot-password"),
        )
    except (PynamoDBException, ClientError, BotoCoreError, ServiceUnavailable) as exc:
        # (ServiceUnavailable: the unasked-mail counter, translated by clientarea.storage)
        if not availability.is_transient(exc) and not isinstance(exc, ServiceUnavailable):
            raise
        logger.warning("access request not acknowledged", extra={"ticket": number})


def ask_sales(*, email: str, message: str, full_name: str | None, locale: str) -> Ticket:
    """A commercial question from anyone: an unattached sales ticket, answered by staff
    at the given address. Nothing is mailed now (an acknowledgement would let anyone
    make us mail any address); the number in the answer is the receipt."""
    address = identity.normalise_email(email)
    return open_ticket(
        department=Department.SALES,
        subject=_first_line(message),
        body=message,
        origin=Origin.SALES_QUESTION,
        contact_email=address,
        contact_name=full_name,
        locale=locale,
    )


def _first_line(text: str) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line[:80] or "(no subject)"
