"""What an inbound mail to the support or sales address becomes (SES receipt rule →
S3 → the intake function).

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

A redelivered mail (same SES message id) changes nothing twice (`clientarea.storage.inbound`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, NamedTuple

from clientarea import config, throttling
from clientarea.accounts import identity, senders
from clientarea.errors import Conflict, InvalidEmail, NotFound, TicketClosed
from clientarea.intake.authentication import (
    Envelope,
    envelope_sender_proven,
    one_from_as_ses_saw_it,
)
from clientarea.intake.parsing import PLAIN_MESSAGE_ID, ParsedMail, is_automatic_address, parse
from clientarea.mail import outbox
from clientarea.storage import inbound as stored
from clientarea.support.client import add_client_message, add_sender_message
from clientarea.support.numbering import parse_number
from clientarea.support.opening import open_ticket
from clientarea.support.views import Channel, Department, Origin

AUTO_REPLY_INTERVAL = timedelta(hours=24)


class Outcome(NamedTuple):
    result: str  # ticket_opened, message_added, auto_replied, ignored_*, duplicate
    number: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"result": self.result, "number": self.number}


def receive(envelope: Envelope, raw: bytes | None = None) -> Outcome:
    """Handle one inbound mail (its raw bytes are read from the bucket if not given)."""
    if stored.already_handled(envelope.message_id):
        return Outcome("duplicate")
    mail = parse(
        raw if raw is not None else stored.read_raw(envelope.message_id), envelope.mail_from
    )
    refused = _refusal(envelope, mail)
    if refused is not None:
        return Outcome(refused)
    try:
        if _is_for_sales(envelope):
            return _sales(envelope, mail)
        account = (
            senders.account_for_sender(mail.sender) if envelope.verdicts.authenticated() else None
        )
        if account is not None:
            return _support(envelope, mail, account)
    except Conflict:
        if stored.already_handled(envelope.message_id):
            return Outcome("duplicate")
        raise
    return _auto_reply(envelope, mail)


def _refusal(envelope: Envelope, mail: ParsedMail) -> str | None:
    """Why a mail becomes nothing at all (no ticket, no reply), if it does."""
    if not one_from_as_ses_saw_it(envelope, mail):
        return "ignored_malformed"
    if mail.automatic:
        return "ignored_automatic"
    return None


def _is_for_sales(envelope: Envelope) -> bool:
    sales = config.sales_address().casefold()
    return any(r.casefold() == sales for r in envelope.recipients)


def _support(envelope: Envelope, mail: ParsedMail, account: Any) -> Outcome:
    return _thread_or_open(envelope, mail, Department.TECHNICAL, account, may_thread=True)


def _sales(envelope: Envelope, mail: ParsedMail) -> Outcome:
    trusted = envelope.verdicts.authenticated()
    account = senders.account_for_sender(mail.sender) if trusted else None
    return _thread_or_open(envelope, mail, Department.SALES, account, may_thread=trusted)


def _thread_or_open(
    envelope: Envelope, mail: ParsedMail, department: Department, account: Any, *, may_thread: bool
) -> Outcome:
    """A message on the ticket the subject names, if the sender's (the account's, or an
    unattached ticket's contact address) and open; else a new ticket of `department`."""
    attachments = stored.store_attachments(envelope.message_id, mail.attachments)
    number = parse_number(mail.subject)
    body = mail.body or mail.subject
    if number is not None and may_thread:
        claim = stored.claim(envelope.message_id, "message_added")
        try:
            if account is not None:
                add_client_message(
                    int(account.client_number),
                    number,
                    body,
                    channel=Channel.EMAIL,
                    attachments=attachments,
                    also=claim,
                )
            else:
                add_sender_message(number, mail.sender, body, attachments, also=claim)
            return Outcome("message_added", number)
        except TicketClosed:
            # Closed, or this very mail was added meanwhile (its claim failed).
            if stored.already_handled(envelope.message_id):
                return Outcome("duplicate")
        except NotFound:
            pass  # not the sender's ticket (nothing written): a new one, never someone else's
    ticket = open_ticket(
        department=department,
        subject=mail.subject,
        body=body,
        origin=Origin.EMAIL,
        channel=Channel.EMAIL,
        client_number=None if account is None else int(account.client_number),
        contact_email=None if account is not None else mail.sender,
        contact_name=None if account is not None else (mail.sender_name or None),
        locale=None if account is not None else mail.language,
        attachments=attachments,
        also=stored.claim(envelope.message_id, "ticket_opened"),
    )
    return Outcome("ticket_opened", ticket.number)


def _auto_reply(envelope: Envelope, mail: ParsedMail) -> Outcome:
    """One polite pointer to the client area per envelope sender and 24 hours, to the
    envelope sender only (RFC 3834), never when it is probably forged."""
    to = _reply_address(envelope)
    if to is None or not envelope_sender_proven(envelope, mail, to):
        return Outcome("ignored_unattached")
    if not stored.first_auto_reply(to, AUTO_REPLY_INTERVAL):
        return Outcome("ignored_unattached")
    if not throttling.may_mail_unasked(to, client_ip=None):
        return Outcome("ignored_unattached")
    headers = {"Auto-Submitted": "auto-replied"}
    if PLAIN_MESSAGE_ID.fullmatch(mail.message_id):
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


def _reply_address(envelope: Envelope) -> str | None:
    """The envelope sender, if it is an address an auto-responder may write to."""
    try:
        address = identity.normalise_email(envelope.mail_from)
    except InvalidEmail:
        return None
    return None if is_automatic_address(address) else address
