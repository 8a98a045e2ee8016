"""Inbound mail to the support and sales addresses (SES receipt rule → S3 → intake).

What a mail becomes:

- **a From that is not exactly one well-formed address** (no From, two From headers,
  two addresses or a group in one, any defect the parser finds in it, a name that
  decodes to a line break) or that differs from the From SES reports in
  `commonHeaders.from` (what its DMARC verdict is about): nothing at all, never a
  ticket, never a reply (`ignored_malformed`). Which of two From headers counts is
  exactly what a forger would like to choose.
- **automatic mail** (Auto-Submitted other than `no`, Precedence bulk/junk/list,
  List-Id, an empty Return-Path, mailer-daemon and friends, our own addresses):
  nothing at all. Never a ticket, never a reply, so no mail loop can start.
- **to the support address, from an address authorised on an account, with SES
  SPF, DKIM and DMARC verdicts all PASS**: a message on that account's ticket named
  in the subject (`TKT-100-001`), if it is the account's and open; else a new ticket.
  DMARC PASS is what proves the From header: without it a spoofed From of an
  authorised address must not reach the account.
- **to the sales address**: a sales ticket from anyone (threaded on the sender's own
  sales ticket when its number is in the subject and the verdicts pass).
- **anything else**: attached to no account. One polite auto-reply (`Auto-Submitted:
  auto-replied`) pointing to the client area, as RFC 3834 says: to the envelope sender
  (SES `mail.source`, the Return-Path) only, never to the header From, and only when
  SPF or DMARC passes (and DMARC did not fail, and no spam or virus verdict): else the
  sender is probably forged and the reply would be backscatter. At most once per 24
  hours per envelope sender and within that address's unasked-mail budget, in the
  language the mail seems to be written in, greeting nobody by name: nothing the
  sender typed (display name, subject, body) is echoed, and their Message-ID only when
  it is a plain `<id@host>`.

A redelivered mail (same SES message id) changes nothing twice: the ticket write
carries a conditional put of `inbound#<message id>`, and attachments are stored
under that id.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from functools import cache
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, cast

import boto3  # every inbound mail is read from S3: not deferred
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError

from clientarea import clock, config, locales, throttling, tickets
from clientarea.accounts import identity
from clientarea.accounts import senders as sender_rules
from clientarea.errors import Conflict, InvalidEmail, NotFound, TicketClosed
from clientarea.mail import outbox
from clientarea.tables import InboundMailModel, RateLimitModel

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from pynamodb.transactions import TransactWrite

RAW_PREFIX = "inbound/"
ATTACHMENT_PREFIX = "attachments/"
MAX_ATTACHMENTS = 20
MAX_ATTACHMENT_BYTES = 15 * 1024 * 1024
AUTO_REPLY_INTERVAL = timedelta(hours=24)
DEDUPE_KEPT = timedelta(days=30)

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
_UKRAINIAN_ONLY = set("іїєґ")
_RUSSIAN_ONLY = set("ыэъё")
_POLISH = set("ąćęłńśźż")
_PORTUGUESE = set("ãõç")


@dataclass(frozen=True)
class Verdicts:
    """SES's receipt verdicts: PASS, FAIL, GRAY or PROCESSING_FAILED each."""

    spf: str = "GRAY"
    dkim: str = "GRAY"
    dmarc: str = "GRAY"
    spam: str = "PASS"
    virus: str = "PASS"

    def authenticated(self) -> bool:
        """The sender is who the From header says (SPF, DKIM and DMARC all pass)."""
        clean = self.spam != "FAIL" and self.virus != "FAIL"
        return clean and self.spf == self.dkim == self.dmarc == "PASS"

    def probably_forged(self) -> bool:
        return "FAIL" in (self.dmarc, self.spam, self.virus)

    def envelope_answerable(self) -> bool:
        """An auto-reply may go to the envelope sender (RFC 3834 §3.1.5 with §2's
        care not to answer forgeries): SPF or DMARC passed, nothing says forged."""
        return "PASS" in (self.spf, self.dmarc) and not self.probably_forged()


@dataclass(frozen=True)
class Envelope:
    """What SES tells about a mail besides its bytes."""

    message_id: str
    recipients: tuple[str, ...]
    mail_from: str  # the SMTP envelope sender; "" for bounces
    verdicts: Verdicts
    # The From addresses SES parsed (commonHeaders.from): its verdicts are about these.
    header_from: tuple[str, ...] = ()

    @classmethod
    def from_ses(cls, record: dict[str, Any]) -> Envelope:
        """From `Records[n].ses` of an SES receipt event."""
        mail, receipt = record["mail"], record["receipt"]

        def status(name: str) -> str:
            return str((receipt.get(name) or {}).get("status") or "GRAY").upper()

        common = mail.get("commonHeaders") or {}
        return cls(
            message_id=str(mail["messageId"]),
            recipients=tuple(str(r) for r in receipt.get("recipients") or mail["destination"]),
            mail_from=str(mail.get("source") or ""),
            header_from=tuple(
                address for _, address in getaddresses([str(v) for v in common.get("from") or []])
            ),
            verdicts=Verdicts(
                spf=status("spfVerdict"),
                dkim=status("dkimVerdict"),
                dmarc=status("dmarcVerdict"),
                spam=status("spamVerdict") if receipt.get("spamVerdict") else "PASS",
                virus=status("virusVerdict") if receipt.get("virusVerdict") else "PASS",
            ),
        )


@dataclass(frozen=True)
class RawAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ParsedMail:
    sender: str  # the From address, "" when there is not exactly one well-formed one
    sender_name: str
    subject: str
    body: str
    message_id: str
    language: str
    automatic: bool
    attachments: list[RawAttachment] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    result: str  # ticket_opened, message_added, auto_replied, ignored_*, duplicate
    number: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"result": self.result, "number": self.number}


# --- parsing ------------------------------------------------------------------------------


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
    return content.strip()[: tickets.MAX_BODY]


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
    local = sender.rpartition("@")[0].lower()
    return (
        not sender
        or local in _AUTOMATIC_LOCALS
        or local.startswith("owner-")
        or local.endswith("-request")
        or _is_ours(sender)
    )


def _is_ours(address: str) -> bool:
    ours = {config.sender_address(), config.support_address(), config.sales_address()}
    return address.casefold() in {a.casefold() for a in ours}


def language_of_text(text: str) -> str:
    """A guess among our locales from the letters used (_UKRAINIAN_ONLY against
    _RUSSIAN_ONLY in Cyrillic text, then _POLISH, then _PORTUGUESE); else English."""
    letters = set(text.lower())
    if any("\u0400" <= ch <= "\u04ff" for ch in letters):
        uk, ru = len(letters & _UKRAINIAN_ONLY), len(letters & _RUSSIAN_ONLY)
        return "uk" if uk > ru or (uk and not ru) else "ru"
    if letters & _POLISH:
        return "pl"
    if letters & _PORTUGUESE:
        return "pt"
    return locales.DEFAULT


def guess_language(message: EmailMessage, text: str) -> str:
    """Content-Language or Accept-Language when the mail says it, else the letters."""
    for header in ("Content-Language", "Accept-Language"):
        value = message.get(header)
        if value:
            declared = locales.negotiate(None, str(value))
            if declared != locales.DEFAULT or str(value).strip().lower().startswith("en"):
                return declared
    return language_of_text(text)


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


# --- storage ------------------------------------------------------------------------------


@cache
def _s3() -> S3Client:
    return boto3.client("s3")


def raw_key(message_id: str) -> str:
    return f"{RAW_PREFIX}{message_id}"


def _read_raw(message_id: str) -> bytes:
    obj = _s3().get_object(Bucket=config.mail_bucket(), Key=raw_key(message_id))
    return obj["Body"].read()


def _safe_name(filename: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name).strip("-.")
    return slug[-100:] or "attachment"


def _store_attachments(message_id: str, found: list[RawAttachment]) -> list[tickets.Attachment]:
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
            tickets.Attachment(
                filename=attachment.filename,
                content_type=attachment.content_type,
                size=len(attachment.data),
                key=key,
            )
        )
    return stored


def _already_handled(message_id: str) -> bool:
    try:
        InboundMailModel.get(f"inbound#{message_id}", "inbound", consistent_read=True)
    except DoesNotExist:
        return False
    return True


def _claim(message_id: str, result: str) -> Any:
    """The transaction step that records the mail as handled (fails if it was)."""

    def add(tx: TransactWrite) -> None:
        now = clock.now()
        tx.save(
            InboundMailModel(
                f"inbound#{message_id}",
                "inbound",
                outcome=result,
                received_at=now,
                ttl=now + DEDUPE_KEPT,
            ),
            condition=InboundMailModel.pk.does_not_exist(),
        )

    return add


# --- deciding -----------------------------------------------------------------------------


def receive(envelope: Envelope, raw: bytes | None = None) -> Outcome:
    """Handle one inbound mail (its raw bytes are read from the bucket if not given)."""
    if _already_handled(envelope.message_id):
        return Outcome("duplicate")
    mail = parse(raw if raw is not None else _read_raw(envelope.message_id), envelope.mail_from)
    refused = _refusal(envelope, mail)
    if refused is not None:
        return Outcome(refused)
    try:
        if _is_for_sales(envelope):
            return _sales(envelope, mail)
        account = (
            sender_rules.account_for_sender(mail.sender)
            if envelope.verdicts.authenticated()
            else None
        )
        if account is not None:
            return _support(envelope, mail, int(account.client_number))
    except (TransactWriteError, Conflict):
        if _already_handled(envelope.message_id):
            return Outcome("duplicate")
        raise
    return _auto_reply(envelope, mail)


def _refusal(envelope: Envelope, mail: ParsedMail) -> str | None:
    """Why a mail becomes nothing at all (no ticket, no reply), if it does."""
    if not _one_from_as_ses_saw_it(envelope, mail):
        return "ignored_malformed"
    if mail.automatic:
        return "ignored_automatic"
    return None


def _one_from_as_ses_saw_it(envelope: Envelope, mail: ParsedMail) -> bool:
    """Exactly one well-formed From, the very address SES reports: SES computed its
    DMARC verdict on its reading of From, and a mail read two ways is not trusted."""
    return bool(mail.sender) and [a.casefold() for a in envelope.header_from] == [
        mail.sender.casefold()
    ]


def _is_for_sales(envelope: Envelope) -> bool:
    sales = config.sales_address().casefold()
    return any(r.casefold() == sales for r in envelope.recipients)


def _support(envelope: Envelope, mail: ParsedMail, client_number: int) -> Outcome:
    stored = _store_attachments(envelope.message_id, mail.attachments)
    number = tickets.parse_number(mail.subject)
    if number is not None:
        try:
            tickets.add_client_message(
                client_number,
                number,
                mail.body or mail.subject,
                channel=tickets.Channel.EMAIL,
                attachments=stored,
                also=_claim(envelope.message_id, "message_added"),
            )
            return Outcome("message_added", number)
        except TicketClosed:
            if _already_handled(envelope.message_id):
                return Outcome("duplicate")
        except NotFound:
            pass  # not this account's ticket: a new one, never someone else's
    ticket = tickets.open_ticket(
        department=tickets.Department.TECHNICAL,
        subject=mail.subject,
        body=mail.body or mail.subject,
        origin=tickets.Origin.EMAIL,
        channel=tickets.Channel.EMAIL,
        client_number=client_number,
        attachments=stored,
        also=_claim(envelope.message_id, "ticket_opened"),
    )
    return Outcome("ticket_opened", ticket.number)


def _sales(envelope: Envelope, mail: ParsedMail) -> Outcome:
    trusted = envelope.verdicts.authenticated()
    account = sender_rules.account_for_sender(mail.sender) if trusted else None
    stored = _store_attachments(envelope.message_id, mail.attachments)
    number = tickets.parse_number(mail.subject)
    if number is not None and trusted:
        try:
            claim = _claim(envelope.message_id, "message_added")
            if account is not None:
                tickets.add_client_message(
                    int(account.client_number),
                    number,
                    mail.body or mail.subject,
                    channel=tickets.Channel.EMAIL,
                    attachments=stored,
                    also=claim,
                )
            else:
                tickets.add_sender_message(
                    number, mail.sender, mail.body or mail.subject, stored, also=claim
                )
            return Outcome("message_added", number)
        except (NotFound, TicketClosed):
            if _already_handled(envelope.message_id):
                return Outcome("duplicate")
    ticket = tickets.open_ticket(
        department=tickets.Department.SALES,
        subject=mail.subject,
        body=mail.body or mail.subject,
        origin=tickets.Origin.EMAIL,
        channel=tickets.Channel.EMAIL,
        client_number=None if account is None else int(account.client_number),
        contact_email=None if account is not None else mail.sender,
        contact_name=None if account is not None else (mail.sender_name or None),
        locale=None if account is not None else mail.language,
        attachments=stored,
        also=_claim(envelope.message_id, "ticket_opened"),
    )
    return Outcome("ticket_opened", ticket.number)


def _auto_reply(envelope: Envelope, mail: ParsedMail) -> Outcome:
    """One polite pointer to the client area per envelope sender and 24 hours, to the
    envelope sender only (RFC 3834), never when it is probably forged."""
    to = _reply_address(envelope)
    if to is None or not _envelope_sender_proven(envelope, mail, to):
        return Outcome("ignored_unattached")
    if not _first_reply_today(to):
        return Outcome("ignored_unattached")
    if not throttling.may_mail_unasked(to, client_ip=None):
        return Outcome("ignored_unattached")
    headers = {"Auto-Submitted": "auto-replied"}
    if _MESSAGE_ID.fullmatch(mail.message_id):
        headers |= {"In-Reply-To": mail.message_id, "References": mail.message_id}
    outbox.send(
        "support_auto_reply",
        to,
        mail.language,
        headers=headers,
        client_area_link=outbox.page("/login"),
        access_link=outbox.page("/support/access-request"),
        sales_address=config.sales_address(),
    )
    return Outcome("auto_replied")


def _envelope_sender_proven(envelope: Envelope, mail: ParsedMail, to: str) -> bool:
    """SPF proves the envelope sender itself; DMARC proves only the From header's
    domain, so it vouches for the envelope sender only when that is the From address
    (else an attacker's own signed domain would send our reply to any address)."""
    verdicts = envelope.verdicts
    if not verdicts.envelope_answerable():
        return False
    return verdicts.spf == "PASS" or (mail.sender or "").casefold() == to.casefold()


# A plain msg-id (RFC 5322 §3.6.4, no comments or folding): anything else is not echoed.
_MESSAGE_ID = re.compile(r"<[!#-;=?-~]{1,250}@[!#-;=?-Z^-~]{1,250}>")


def _reply_address(envelope: Envelope) -> str | None:
    """The envelope sender, if it is an address an auto-responder may write to."""
    try:
        address = identity.normalise_email(envelope.mail_from)
    except InvalidEmail:
        return None
    local = address.rpartition("@")[0].lower()
    if (
        local in _AUTOMATIC_LOCALS
        or local.startswith("owner-")
        or local.endswith("-request")
        or _is_ours(address)
    ):
        return None
    return address


def _first_reply_today(sender: str) -> bool:
    """A conditional put on `support_auto_reply#<hashed sender>`: true for the first
    caller in AUTO_REPLY_INTERVAL, however many intakes run at once."""
    digest = hashlib.sha256(sender.casefold().encode()).hexdigest()[:32]
    now = clock.now()
    marker = RateLimitModel(f"support_auto_reply#{digest}", hits=1, ttl=now + AUTO_REPLY_INTERVAL)
    try:
        marker.save(condition=RateLimitModel.pk.does_not_exist() | (RateLimitModel.ttl < now))
    except PutError as exc:
        if _is_conditional_failure(exc):
            return False
        raise
    return True


def _is_conditional_failure(exc: PutError) -> bool:
    cause = getattr(exc, "cause_response_code", None)
    return cause == "ConditionalCheckFailedException"
