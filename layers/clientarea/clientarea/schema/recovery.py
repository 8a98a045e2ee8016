"""The recovery case views the applicant's and the staff's functions share."""

from __future__ import annotations

from enum import StrEnum

from clientarea.schema.base import Answer
from clientarea.schema.fields import Timestamp


# The values of clientarea.recovery.RecoveryStatus (tests/unit/test_schema.py compares them).
class RecoveryStatus(StrEnum):
    AWAITING_DOCUMENTS = "awaiting_documents"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"


class RecoveryDocument(Answer):
    """A document of a recovery case as its applicant sees it."""

    document: str
    required: bool
    uploaded: bool
    size: int | None
    uploaded_at: Timestamp | None
