"""What SES does after a send through a configuration set, locally: its mailbox
simulator's bounces and complaints, published to the set's SNS event destination.

moto accepts `ConfigurationSetName` on an SESv2 send and forgets it. SES instead
refuses an unknown set, and for mail to its mailbox simulator
(`bounce@`, `complaint@`, `suppressionlist@simulator.amazonses.com`, with or without
a `+label`) publishes a Bounce or Complaint event record to each event destination of
the set whose event types match. `enforce()` makes moto do the same (in-process and
in server mode), with event records shaped as SES documents them ("Examples of event
data that Amazon SES publishes to Amazon SNS"). `POST /_dev/ses-feedback` publishes
one for any address, to try the client area's side without the simulator.
"""

from __future__ import annotations

import functools
import json
import uuid
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any

from infra.local.stack import ACCOUNT_ID, REGION

SIMULATOR_DOMAIN = "simulator.amazonses.com"
# Scenario → (event type, bounce type, bounce subtype) of SES's mailbox simulator.
SCENARIOS: dict[str, tuple[str, str | None, str | None]] = {
    "bounce": ("Bounce", "Permanent", "General"),
    "suppressionlist": ("Bounce", "Permanent", "Suppressed"),
    "complaint": ("Complaint", None, None),
    # Not a simulator address: a mailbox that is full today (for /_dev/ses-feedback).
    "transient": ("Bounce", "Transient", "MailboxFull"),
}


def simulated_scenario(address: str) -> str | None:
    """`bounce+x@simulator.amazonses.com` → "bounce"; None for any other address."""
    local, _, domain = parseaddr(address)[1].partition("@")
    scenario = local.split("+", 1)[0].lower()
    if domain.lower() != SIMULATOR_DOMAIN or scenario not in SCENARIOS:
        return None
    return scenario if scenario != "transient" else None


def _iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def event_record(
    scenario: str,
    recipient: str,
    *,
    source: str,
    configuration_set: str,
    message_id: str | None = None,
    subject: str = "",
) -> dict[str, Any]:
    """One SES event record, as SES publishes it to SNS for a configuration set."""
    event_type, bounce_type, bounce_subtype = SCENARIOS[scenario]
    now = datetime.now(UTC)
    message_id = message_id or f"{uuid.uuid4().hex}-000000"
    feedback_id = f"{uuid.uuid4().hex}-000000"
    domain = parseaddr(source)[1].rpartition("@")[2]
    mail = {
        "timestamp": _iso(now),
        "source": source,
        "sourceArn": f"arn:aws:ses:{REGION}:{ACCOUNT_ID}:identity/{domain}",
        "sendingAccountId": ACCOUNT_ID,
        "messageId": message_id,
        "destination": [recipient],
        "headersTruncated": False,
        "headers": [
            {"name": "From", "value": source},
            {"name": "To", "value": recipient},
            {"name": "Subject", "value": subject},
            {"name": "MIME-Version", "value": "1.0"},
        ],
        "commonHeaders": {
            "from": [source],
            "to": [recipient],
            "messageId": message_id,
            "subject": subject,
        },
        "tags": {
            "ses:configuration-set": [configuration_set],
            "ses:from-domain": [domain],
            "ses:caller-identity": ["MailerFunction"],
        },
    }
    if event_type == "Complaint":
        detail: dict[str, Any] = {
            "complaint": {
                "complainedRecipients": [{"emailAddress": recipient}],
                "timestamp": _iso(now),
                "feedbackId": feedback_id,
                "userAgent": "Amazon SES Mailbox Simulator",
                "complaintFeedbackType": "abuse",
                "arrivalDate": _iso(now),
            }
        }
    else:
        permanent = bounce_type == "Permanent"
        detail = {
            "bounce": {
                "bounceType": bounce_type,
                "bounceSubType": bounce_subtype,
                "bouncedRecipients": [
                    {
                        "emailAddress": recipient,
                        "action": "failed",
                        "status": "5.1.1" if permanent else "4.2.2",
                        "diagnosticCode": "smtp; 550 5.1.1 user unknown"
                        if permanent
                        else "smtp; 452 4.2.2 mailbox full",
                    }
                ],
                "timestamp": _iso(now),
                "feedbackId": feedback_id,
                "reportingMTA": "dsn; a1-2.smtp-out.eu-central-1.amazonses.com",
            }
        }
    return {"eventType": event_type, **detail, "mail": mail}


def publish(configuration_set: str, record: dict[str, Any]) -> int:
    """Publish `record` to the set's SNS event destination if its types match; how many
    destinations got it."""
    from moto.ses.models import ses_backends  # noqa: PLC0415
    from moto.sns.models import sns_backends  # noqa: PLC0415

    destination = ses_backends[ACCOUNT_ID][REGION].config_set_event_destination.get(
        configuration_set
    )
    if not destination or not destination.get("Enabled", True):
        return 0
    types = {t.lower() for t in destination.get("MatchingEventTypes", [])}
    topic = (destination.get("SNSDestination") or {}).get("TopicARN")
    if record["eventType"].lower() not in types or not topic:
        return 0
    sns_backends[ACCOUNT_ID][REGION].publish(json.dumps(record), arn=topic)
    return 1


def enforce() -> None:
    """Make moto's SESv2 send honour the configuration set (idempotent)."""
    from moto.ses.exceptions import NotFoundException  # noqa: PLC0415
    from moto.ses.models import ses_backends  # noqa: PLC0415
    from moto.sesv2.responses import SESV2Response  # noqa: PLC0415

    if getattr(SESV2Response.send_email, "publishes_events", False):
        return
    original = SESV2Response.send_email

    @functools.wraps(original)
    def send_email(self: SESV2Response) -> str:
        params = json.loads(self.body)
        configuration_set = params.get("ConfigurationSetName")
        if configuration_set and configuration_set not in (
            ses_backends[self.current_account][self.region].config_sets
        ):
            raise NotFoundException(f"Configuration set <{configuration_set}> does not exist.")
        answer = original(self)
        if configuration_set:
            destination = params.get("Destination", {})
            recipients = [
                *destination.get("ToAddresses", []),
                *destination.get("CcAddresses", []),
                *destination.get("BccAddresses", []),
            ]
            for recipient in recipients:
                scenario = simulated_scenario(recipient)
                if scenario is not None:
                    record = event_record(
                        scenario,
                        recipient,
                        source=params.get("FromEmailAddress", ""),
                        configuration_set=configuration_set,
                        message_id=json.loads(answer)["MessageId"],
                    )
                    publish(configuration_set, record)
        return answer

    send_email.publishes_events = True  # type: ignore[attr-defined]
    SESV2Response.send_email = send_email  # type: ignore[method-assign]
