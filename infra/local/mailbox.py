"""The dev mailbox: every mail SES (moto) accepted, parsed back from its raw MIME."""

from __future__ import annotations

import re
from email import message_from_string, policy
from email.utils import parsedate_to_datetime
from typing import Any

from moto.ses.models import RawMessage, ses_backends

from infra.local.stack import ACCOUNT_ID, REGION

_LINK = re.compile(r"https?://[^\s<>\"']+")


def messages() -> list[dict[str, Any]]:
    """`[{to, subject, text, html, sent_at, links, auto_submitted, reply_to,
    in_reply_to}]`, oldest first."""
    result = []
    for sent in list(ses_backends[ACCOUNT_ID][REGION].sent_messages):
        if isinstance(sent, RawMessage):
            result.append(_parse(sent.raw_data))
    return result


def _parse(raw: str) -> dict[str, Any]:
    mail = message_from_string(raw, policy=policy.default)
    text_part = mail.get_body(preferencelist=("plain",))
    html_part = mail.get_body(preferencelist=("html",))
    text = text_part.get_content() if text_part else ""
    html = html_part.get_content() if html_part else ""
    date = mail["Date"]
    return {
        "to": str(mail["To"]),
        "subject": str(mail["Subject"]),
        "text": text,
        "html": html,
        "sent_at": parsedate_to_datetime(date).strftime("%Y-%m-%dT%H:%M:%SZ") if date else None,
        "links": list(dict.fromkeys(_LINK.findall(text))),
        # The headers that matter for replies and mail loops (support flows test them).
        "auto_submitted": mail["Auto-Submitted"],
        "reply_to": mail["Reply-To"],
        "in_reply_to": mail["In-Reply-To"],
    }
