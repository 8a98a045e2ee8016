"""The ticket views the client's and the staff's support functions share."""

from typing import Literal

from clientarea.schema.base import Answer
from clientarea.schema.fields import Timestamp
from clientarea.statuses import TicketStatus


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
