"""An inbound mail's bytes read as what intake needs: the one From, subject, text body,
Message-ID, language, attachments, and whether the mail is automatic (RFC 3834: never
to be answered). Pure: no AWS, no clock."""

from __future__ import annotations

import re
from collections.abc import Sequence
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser
from typing import Any, NamedTuple, cast

from clientarea import config
from clientarea.intake.language import guess_language
from clientarea.support.views import MAX_BODY

MAX_ATTACHMENTS = 20
MAX_ATTACHMENT_BYTES = 15 * 1024 * 1024

_AUTOMATIC_LOCALS = frozenset(
    {
        "mailer-daemon",
        "postmaster",
        "noreply",
        "no-reply",
        "no_reply",
        "donotreply",
        "do-not-reply",
        "bounce",
        "bounces",
        "auto-reply",
        "autoreply",
    }
)
# A plain msg-id (RFC 5322 §3.6.4, no comments or folding): anything else is not echoed.
PLAIN_MESSAGE_ID = re.compile(r"<[!#-;=?-~]{1,250}@[!#-;=?-Z^-~]{1,250}>")


class RawAttachment(NamedTuple):
    filename: str
    content_type: str
    data: bytes


class ParsedMail(NamedTuple):
    sender: str  # the From address, "" when there is not exactly one well-formed one
    sender_name: str
    subject: str
    body: str
    message_id: str
    language: str
    automatic: bool
    attachments: Sequence[RawAttachment] = ()


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in {"script", "style", "head"}:
            self._skip += 1
        elif tag in {"br", "p", "div", "li", "tr"}:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "head"} and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content: str = part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset
        # decode=True on a leaf part: its bytes, or None (typeshed types any payload).
        payload = cast("bytes | None", part.get_payload(decode=True))
        content = (payload or b"").decode("utf-8", errors="replace")
    if part.get_content_subtype() == "html":
        content = _html_to_text(content)
    return content.strip()[:MAX_BODY]


def _attachments(message: EmailMessage) -> list[RawAttachment]:
    found: list[RawAttachment] = []
    for part in message.iter_attachments():
        if part.is_multipart() or len(found) >= MAX_ATTACHMENTS:
            continue
        data = cast("bytes | None", part.get_payload(decode=True)) or b""
        if len(data) > MAX_ATTACHMENT_BYTES:
            continue
        found.append(
            RawAttachment(
                filename=str(part.get_filename() or "attachment"),
                content_type=part.get_content_type(),
                data=data,
            )
        )
    return found


def _sender(message: EmailMessage) -> tuple[str, str]:
    """`(address, display name)` of the one well-formed From, else `("", "")`: no From
    or several From headers, several addresses or a group, any defect the parser
    records (an address where the name goes, junk after it, an unclosed bracket, an
    obsolete route, non-ASCII bytes), or a display name that decodes to a line break
    (an RFC 2047 encoded word lets any byte through; the email package then refuses
    to build the header at all)."""
    if sum(1 for name, _ in message.raw_items() if name.lower() == "from") != 1:
        return "", ""
    try:
        header = message["From"]
    except ValueError:
        return "", ""
    groups: tuple[Any, ...] = getattr(header, "groups", ())
    if getattr(header, "defects", ()) or len(groups) != 1 or groups[0].display_name is not None:
        return "", ""
    (address,) = groups[0].addresses or (None,)
    if address is None or "@" not in address.addr_spec or address.addr_spec.startswith("@"):
        return "", ""
    return address.addr_spec, address.display_name or ""


def is_automatic(message: EmailMessage, sender: str, mail_from: str | None = None) -> bool:
    """Mail that no auto-responder may answer (RFC 3834 §2, and common practice)."""
    auto_submitted = str(message.get("Auto-Submitted", "")).strip().lower()
    suppress = str(message.get("X-Auto-Response-Suppress", "")).lower()
    return_path = message.get("Return-Path")
    if (
        (auto_submitted and not auto_submitted.startswith("no"))
        or str(message.get("Precedence", "")).strip().lower() in {"bulk", "junk", "list"}
        or message.get("List-Id") is not None
        or any(word in suppress for word in ("all", "autoreply", "oof"))
        or (return_path is not None and str(return_path).strip() in {"", "<>"})
        or (mail_from is not None and mail_from.strip() in {"", "<>"})
    ):
        return True
    return not sender or is_automatic_address(sender)


def is_automatic_address(address: str) -> bool:
    """A mailbox of software (mailer-daemon, no-reply, list owners) or one of ours."""
    local = address.rpartition("@")[0].lower()
    return (
        local in _AUTOMATIC_LOCALS
        or local.startswith("owner-")
        or local.endswith("-request")
        or _is_ours(address)
    )


def _is_ours(address: str) -> bool:
    ours = {config.sender_address(), config.support_address(), config.sales_address()}
    return address.casefold() in {a.casefold() for a in ours}


def parse(raw: bytes, mail_from: str | None = None) -> ParsedMail:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    sender, name = _sender(message)
    subject = " ".join(str(message.get("Subject", "")).split())
    body = _body_text(message)
    return ParsedMail(
        sender=sender,
        sender_name=name,
        subject=subject,
        body=body,
        message_id=" ".join(str(message.get("Message-ID", "")).split()),
        language=guess_language(message, f"{subject}\n{body}"),
        automatic=is_automatic(message, sender, mail_from),
        attachments=_attachments(message),
    )
