"""Build the MIME message and send it through SES (v2, raw content).

Raw MIME rather than SES "simple" content so that both bodies travel exactly as
rendered and the headers that stop mail loops (Auto-Submitted) are set.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cache
from typing import TYPE_CHECKING

import boto3

from clientarea import clock, config
from clientarea.mail.outbox import OutgoingMail
from clientarea.mail.rendering import render

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client


@cache
def _ses() -> SESV2Client:
    return boto3.client("sesv2")


def build_message(mail: OutgoingMail) -> EmailMessage:
    rendered = render(mail.kind, mail.locale, mail.params)
    message = EmailMessage()
    sender = config.sender_address()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(clock.now().timestamp(), usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders must not answer
    message["Content-Language"] = mail.locale
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def deliver(mail: OutgoingMail) -> str:
    """Send one mail; returns the SES message id. SES errors propagate so the queue retries."""
    message = build_message(mail)
    response = _ses().send_email(
        FromEmailAddress=config.sender_address(),
        Destination={"ToAddresses": [mail.to]},
        Content={"Raw": {"Data": message.as_bytes()}},
    )
    return response["MessageId"]
