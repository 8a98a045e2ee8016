"""Bounces and complaints: contact addresses the client area stops mailing.

Every mail goes out through the SES configuration set `MailConfigurationSet`
(template.yaml), whose event destination publishes each Bounce and Complaint event to
`MailFeedbackTopic` → `BouncesQueue` → `BouncesFunction`, which hands every message to
`record`:

```mermaid
stateDiagram-v2
    [*] --> deliverable: an account's contact email
    deliverable --> undeliverable: hard bounce (Permanent, suppression list included) or complaint
    deliverable --> deliverable: transient or undetermined bounce (SES retries; nothing changes)
    undeliverable --> [*]: the client changes the contact email (the new one starts deliverable)
```

- *Undeliverable* is written twice in one transaction: on the account
  (`email_undeliverable`, shown by GET /account so the client knows to change it) and
  on the address's `email#` claim, which the mailer reads (`is_undeliverable`) before
  each send, since an address is all it knows. Nothing more is mailed there, reset
  links and notices included; `POST /password/forgot` answers exactly as before.
- A confirmed contact-email change (or an approved manual recovery) deletes the old
  claim and clears the account's flag in its own transaction
  (`accounts.contact_switch`).
- Feedback about an address no account holds (an acknowledgement to a stranger, a
  reply to an authorised sender) changes nothing here: SES's account-level suppression
  list, which stays on, keeps SES from mailing it again.

The feedback arrives as SES publishes it to SNS: the event record itself (the
subscription delivers raw messages) or, should raw delivery be off, inside SNS's
notification envelope. Identity notifications (`notificationType` instead of
`eventType`) are read alike.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parseaddr
from enum import StrEnum
from typing import Any, NamedTuple

from clientarea import clock
from clientarea.storage import addresses


class Reason(StrEnum):
    BOUNCE = "bounce"
    COMPLAINT = "complaint"


class Outcome(StrEnum):
    MARKED = "marked"  # an account's contact email, now undeliverable
    NOT_AN_ACCOUNT = "not_an_account"  # no account's contact email: SES's list suffices
    IGNORED = "ignored"  # a transient bounce, or another kind of event


class Feedback(NamedTuple):
    """One SES event: what happened, to which recipients, when."""

    kind: str  # SES's eventType: Bounce, Complaint, Delivery, …
    recipients: tuple[str, ...]
    at: datetime
    ses_message_id: str
    permanent: bool = False  # bounces: bounceType Permanent

    @property
    def reason(self) -> Reason | None:
        """Why the recipients are undeliverable now, if they are."""
        if self.kind == "Complaint":
            return Reason.COMPLAINT
        if self.kind == "Bounce" and self.permanent:
            return Reason.BOUNCE
        return None


def parse(body: str) -> Feedback:
    """An SQS message body from the feedback topic. ValueError if it is not SES's."""
    data = json.loads(body)
    if data.get("Type") == "Notification" and "Message" in data:  # SNS's envelope
        data = json.loads(data["Message"])
    kind = data.get("eventType") or data.get("notificationType")
    mail = data.get("mail")
    if not isinstance(kind, str) or not isinstance(mail, dict):
        raise ValueError("not an SES event record")
    detail: dict[str, Any] = data.get(kind.lower()) or {}
    listed = detail.get("bouncedRecipients") or detail.get("complainedRecipients") or []
    recipients = tuple(
        address
        for address in (parseaddr(str(entry.get("emailAddress", "")))[1] for entry in listed)
        if address
    )
    return Feedback(
        kind=kind,
        recipients=recipients,
        at=_timestamp(detail.get("timestamp") or mail.get("timestamp")),
        ses_message_id=str(mail.get("messageId", "")),
        permanent=detail.get("bounceType") == "Permanent",
    )


def _timestamp(text: Any) -> datetime:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return clock.now()


def record(feedback: Feedback) -> dict[str, Outcome]:
    """Act on one event: each recipient's outcome (never logged with the address)."""
    reason = feedback.reason
    if reason is None:
        return dict.fromkeys(feedback.recipients, Outcome.IGNORED)
    return {
        address: mark_undeliverable(address, reason, feedback.at) for address in feedback.recipients
    }


def mark_undeliverable(address: str, reason: Reason, since: datetime) -> Outcome:
    """Mark `address` undeliverable if it is an account's contact email (idempotent:
    the same feedback twice leaves the first `since`). Its claim and its account are
    flagged in one transaction; should the address change hands between the read and
    the write (a contact-email change), the feedback was about an address that account
    no longer uses."""
    if addresses.mark_undeliverable(address.strip(), str(reason), since):
        return Outcome.MARKED
    return Outcome.NOT_AN_ACCOUNT


def is_undeliverable(address: str) -> bool:
    """Whether mail to `address` must not be sent (the mailer asks before each send)."""
    return addresses.is_undeliverable(address.strip())
