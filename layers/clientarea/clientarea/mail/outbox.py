"""Queue a mail for the mailer function: one SQS SendMessage, nothing rendered here."""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

from clientarea import availability, aws, clock, config, telemetry

if TYPE_CHECKING:
    from datetime import datetime

    from mypy_boto3_sqs import SQSClient

    from clientarea.tokens import IssuedToken


@cache
def _sqs() -> SQSClient:
    return aws.boto3_session().client("sqs")


def link(path: str, token: str) -> str:
    """A frontend link carrying a secret in the fragment: browsers never send a
    fragment to any server, so it stays out of access logs and Referer headers."""
    return f"{config.frontend_url()}{path}#token={token}"


def page(path: str) -> str:
    return f"{config.frontend_url()}{path}"


def send(
    kind: str, to: str, locale: str, *, headers: dict[str, str] | None = None, **params: Any
) -> None:
    """Queue one mail. The message holds the link secret for the minutes it takes to
    deliver it: the queue is encrypted and the mailer never logs bodies."""
    # Imported here: pydantic's first model costs a cold start that queues no mail.
    from clientarea.mail.message import OutgoingMail  # noqa: PLC0415

    message = OutgoingMail(kind=kind, to=to, locale=locale, params=params, headers=headers or {})
    _send(config.mail_queue_url(), message.model_dump_json())


def send_link(
    kind: str,
    to: str,
    locale: str,
    path: str,
    issued: IssuedToken,
    *,
    expires_at: datetime | None = None,
    **params: Any,
) -> None:
    """Queue a mail carrying a one-use link to `path`, with when it stops working (the
    token's expiry, or `expires_at` where the mail names another deadline) and for how
    long it is valid."""
    send(
        kind,
        to,
        locale,
        link=link(path, issued.token),
        expires_at=clock.iso(expires_at or issued.expires_at),
        valid_for_seconds=int(issued.lifetime.total_seconds()),
        **params,
    )


def enqueue_json(queue_url: str, body: dict[str, Any]) -> None:
    """Put a work item on another queue (e.g. a password-reset request)."""
    _send(queue_url, json.dumps(body))


@availability.translated  # a throttled queue is a 503, like any AWS call that failed
def _send(queue_url: str, body: str) -> None:
    """One message, carrying the request's correlation id (clientarea.telemetry) so the
    consumer's log lines, down to the SES message id, name the request they came from."""
    attributes = telemetry.message_attributes()
    if attributes:
        _sqs().send_message(QueueUrl=queue_url, MessageBody=body, MessageAttributes=attributes)
    else:
        _sqs().send_message(QueueUrl=queue_url, MessageBody=body)
