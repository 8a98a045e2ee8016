"""Build the MIME message and send it through SES (v2, raw content).

Raw MIME rather than SES "simple" content so that both bodies travel exactly as
rendered and the headers that stop mail loops (Auto-Submitted) are set.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cache
from typing import TYPE_CHECKING, cast

from clientarea import aws, clock, config
from clientarea.mail.message import OutgoingMail
from clientarea.mail.rendering import render

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client


@cache
def _ses() -> SESV2Client:
    return aws.boto3_session().client("sesv2")


# Headers a producer may set (anything else is dropped): threading, where replies go,
# and the RFC 3834 kind of automatic mail.
EXTRA_HEADERS = ("Reply-To", "In-Reply-To", "References", "Auto-Submitted")
AUTO_SUBMITTED = frozenset({"auto-generated", "auto-replied"})


def _extra_headers(mail: OutgoingMail) -> dict[str, str]:
    given = {name.lower(): value for name, value in mail.headers.items()}
    extra = {}
    for name in EXTRA_HEADERS:
        value = " ".join(str(given.get(name.lower(), "")).split())  # one line, no CR/LF
        if value:
            extra[name] = value
    if extra.get("Auto-Submitted") not in AUTO_SUBMITTED:
        extra["Auto-Submitted"] = "auto-generated"  # never "no": we are a machine
    return extra


def build_message(mail: OutgoingMail) -> EmailMessage:
    rendered = render(mail.kind, mail.locale, mail.params)
    message = EmailMessage()
    sender = config.sender_address()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(clock.now().timestamp(), usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    # RFC 3834: auto-responders must not answer either kind.
    for name, value in _extra_headers(mail).items():
        message[name] = value
    message["Content-Language"] = mail.locale
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def deliver(mail: OutgoingMail) -> str:
    """Send one mail; returns the SES message id. SES errors propagate so the queue retries.

    Through the configuration set, so that SES reports its bounces and complaints."""
    message = build_message(mail)
    response = _ses().send_email(
        FromEmailAddress=config.sender_address(),
        Destination={"ToAddresses": [mail.to]},
        Content={"Raw": {"Data": message.as_bytes()}},
        ConfigurationSetName=config.mail_configuration_set(),
    )
    return cast(str, response["MessageId"])
