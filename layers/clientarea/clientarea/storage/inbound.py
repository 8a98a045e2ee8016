"""What intake keeps of inbound mail: the raw mail and its attachments in the mail
bucket, the `inbound#<SES message id>` item that makes a redelivered mail change
nothing twice, and the once-a-day marker of an auto-reply to one sender.

SES and Lambda may deliver one mail twice: the item is written in the same transaction
as the ticket or message the mail becomes (`claim`), and attachments are stored under
the message id (a redelivery overwrites, never duplicates).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PutError

from clientarea import aws, clock, config
from clientarea.availability import translated
from clientarea.storage import base
from clientarea.storage.base import Model
from clientarea.storage.throttling import RateLimitModel
from clientarea.support.views import Attachment

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mypy_boto3_s3 import S3Client
    from pynamodb.transactions import TransactWrite

    from clientarea.intake.parsing import RawAttachment
    from clientarea.storage.base import TransactionStep

RAW_PREFIX = "inbound/"
ATTACHMENT_PREFIX = "attachments/"
DEDUPE_KEPT = timedelta(days=30)


class InboundMailModel(Model):
    """`inbound#<SES message id>`: an inbound mail already handled (SES and Lambda may
    deliver one mail twice; it must open one ticket)."""

    class Meta(base.Meta):
        table_name = config.tickets_table()

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="inbound")
    outcome = UnicodeAttribute()
    number = UnicodeAttribute(null=True)
    received_at = UTCDateTimeAttribute()
    ttl = TTLAttribute()


def _key(message_id: str) -> str:
    return f"inbound#{message_id}"


@cache
def _s3() -> S3Client:
    return aws.boto3_session().client("s3")


def raw_key(message_id: str) -> str:
    return f"{RAW_PREFIX}{message_id}"


@translated
def read_raw(message_id: str) -> bytes:
    """The mail as SES stored it."""
    obj = _s3().get_object(Bucket=config.mail_bucket(), Key=raw_key(message_id))
    return obj["Body"].read()


def _safe_name(filename: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name).strip("-.")
    return slug[-100:] or "attachment"


@translated
def store_attachments(message_id: str, found: Sequence[RawAttachment]) -> list[Attachment]:
    """Keys derive from the SES message id: a redelivery overwrites, never duplicates."""
    stored = []
    for index, attachment in enumerate(found, start=1):
        key = f"{ATTACHMENT_PREFIX}{message_id}/{index}-{_safe_name(attachment.filename)}"
        _s3().put_object(
            Bucket=config.mail_bucket(),
            Key=key,
            Body=attachment.data,
            ContentType=attachment.content_type,
            ServerSideEncryption="AES256",
        )
        stored.append(
            Attachment(
                filename=attachment.filename,
                content_type=attachment.content_type,
                size=len(attachment.data),
                key=key,
            )
        )
    return stored


@translated
def already_handled(message_id: str) -> bool:
    try:
        InboundMailModel.get(_key(message_id), "inbound", consistent_read=True)
    except DoesNotExist:
        return False
    return True


def claim(message_id: str, result: str) -> TransactionStep:
    """The transaction step that records the mail as handled (fails if it was)."""

    def add(tx: TransactWrite) -> None:
        now = clock.now()
        tx.save(
            InboundMailModel(
                _key(message_id),
                "inbound",
                outcome=result,
                received_at=now,
                ttl=now + DEDUPE_KEPT,
            ),
            condition=InboundMailModel.pk.does_not_exist(),
        )

    return add


@translated
def first_auto_reply(sender: str, interval: timedelta) -> bool:
    """A conditional put on `support_auto_reply#<hashed sender>`: true for the first
    caller in `interval`, however many intakes run at once."""
    digest = hashlib.sha256(sender.casefold().encode()).hexdigest()[:32]
    now = clock.now()
    marker = RateLimitModel(f"support_auto_reply#{digest}", hits=1, ttl=now + interval)
    try:
        marker.save(condition=RateLimitModel.pk.does_not_exist() | (RateLimitModel.ttl < now))
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True
