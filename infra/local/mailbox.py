"""The dev mailbox: every mail SES (moto) accepted, parsed back from its raw MIME."""

from __future__ import annotations

import re
import threading
from email import message_from_string, policy
from email.utils import parsedate_to_datetime
from typing import Any

from moto.ses.models import RawMessage, ses_backends

from infra.local.stack import ACCOUNT_ID, REGION

_LINK = re.compile(r"https?://[^\s<>\"']+")


class _ParsedMails:
    """Parsed mails, in the order SES accepted them. moto's list only grows, so each raw
    mail is parsed once: re-parsing thousands of mails on every poll made a long test
    session slower and slower. A new list (a fresh moto backend) starts over."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._source: list[Any] | None = None
        self._parsed: list[dict[str, Any] | None] = []

    def all(self) -> list[dict[str, Any]]:
        sent = ses_backends[ACCOUNT_ID][REGION].sent_messages
        with self._lock:
            if sent is not self._source or len(sent) < len(self._parsed):
                self._source, self._parsed = sent, []
            for item in list(sent[len(self._parsed) :]):
                raw = item.raw_data if isinstance(item, RawMessage) else None
                self._parsed.append(_parse(raw) if raw is not None else None)
            return [mail for mail in self._parsed if mail is not None]


_mails = _ParsedMails()


def messages(to: str | None = None) -> list[dict[str, Any]]:
    """`[{to, subject, text, html, sent_at, links, auto_submitted, reply_to,
    in_reply_to, headers}]`, oldest first; only those to `to` (any case) when it is given."""
    parsed = _mails.all()
    if to is None:
        return parsed
    return [mail for mail in parsed if mail["to"].lower() == to.lower()]


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
        # Every top-level header as sent, so that tests can prove nothing a user typed
        # became a header of its own (header injection).
        "headers": [[name, str(value)] for name, value in mail.items()],
    }
