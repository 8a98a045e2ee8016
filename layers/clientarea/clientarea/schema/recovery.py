"""The recovery case views the applicant's and the staff's functions share."""

from clientarea.schema.base import Answer
from clientarea.schema.fields import Timestamp


class RecoveryDocument(Answer):
    """A document of a recovery case as its applicant sees it."""

    document: str
    required: bool
    uploaded: bool
    size: int | None
    uploaded_at: Timestamp | None
