"""What a support ticket is and shows: its statuses and origins, its messages and
attachments, and the views of it that clients and staff get.

Access control is by owner, never by secrecy of the number: ticket numbers are
sequential and human-friendly (`TKT-100-001`, `clientarea.support.numbering`), and a
client reaches a ticket only if its `client_number` is the caller's (another client's
ticket is 404, exactly as a nonexistent one).

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
`clientarea.intake`). Closing a closed ticket again answers the ticket (idempotent).

Staff views carry the ticket and its messages, never the client's profile: no
name, email, phone or address of the account (API.md, "Support").
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any, NamedTuple, cast

from clientarea import aws, clock, config

DOWNLOAD_URL_TTL = timedelta(minutes=5)
MAX_SUBJECT = 200
MAX_BODY = 20_000


class Department(StrEnum):
    TECHNICAL = "technical"
    BILLING = "billing"
    SALES = "sales"


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


class Attachment(NamedTuple):
    filename: str
    content_type: str
    size: int
    key: str

    def as_dict(self) -> dict[str, Any]:
        """Without the bucket key: views give names and sizes, never storage paths."""
        return {"filename": self.filename, "content_type": self.content_type, "size": self.size}


class Message(NamedTuple):
    message_id: str
    author: str
    channel: str
    body: str
    created_at: datetime
    attachments: Sequence[Attachment] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "author": self.author,
            "channel": self.channel,
            "body": self.body,
            "created_at": clock.iso(self.created_at),
            "attachments": [a.as_dict() for a in self.attachments],
        }


class Ticket(NamedTuple):
    number: str
    client_number: int | None
    department: str
    subject: str
    status: str
    origin: str
    service_id: str | None
    created_at: datetime
    updated_at: datetime
    messages: Sequence[Message] = ()
    applicant: dict[str, str] | None = None
    claimed_client_number: int | None = None
    # Unattached tickets only: where (and in which language) a staff reply is mailed.
    # In no view: staff answer there, nobody reads it back.
    contact_email: str | None = None
    contact_name: str | None = None
    locale: str | None = None

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
    return aws.boto3_session().client("s3")
