"""What operations sees of the flows: business metrics and the correlation id.

**Metrics.** Every business metric is a member of `Metric`, in one CloudWatch
namespace (`POWERTOOLS_METRICS_NAMESPACE`, the stack's name: two stacks in one account
never mix). The domain counts where the thing happens (`count`); Powertools' `Metrics`
instances share one metric set per process, so the handler's `@metrics.log_metrics`
publishes the invocation's counts as one EMF line on stdout when it returns, which
CloudWatch turns into metrics (no API call, no latency). A count with a dimension
(`count_by`) is published at once as a line of its own. The template's dashboard,
`docs/cost.md` and the tests read `Metric`; a new metric goes here first.

**Correlation id.** API functions log with API Gateway's request id as
`correlation_id` (Powertools' `inject_lambda_context(correlation_id_path=...)`); a
message this function puts on a queue carries it as the `correlation_id` message
attribute, and a queue consumer logs each record under the id it arrived with and
passes it on. So "my reset mail never came" is one CloudWatch Logs Insights query
from the forgot request to the mailer's `ses_message_id` (docs/operations.md).
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

CORRELATION_ATTRIBUTE = "correlation_id"


class Metric(StrEnum):
    """Every business metric (a count per event)."""

    REGISTRATION_REQUESTED = "RegistrationRequested"
    REGISTRATION_COMPLETED = "RegistrationCompleted"  # the link was followed: an account
    LOGIN_SUCCEEDED = "LoginSucceeded"
    LOGIN_FAILED = "LoginFailed"  # unknown login, wrong password or disabled account
    LOGIN_THROTTLED = "LoginThrottled"  # refused (429) before the password was checked
    RESET_REQUESTED = "ResetRequested"  # forgot route, known login or not
    RESET_LINK_SENT = "ResetLinksSent"  # the worker found the account and mailed a link
    RESET_REQUEST_IGNORED = "ResetRequestsIgnored"  # unknown login, staff, or mail limit
    RESET_COMPLETED = "ResetCompleted"
    EMAIL_CHANGE_REQUESTED = "EmailChangeRequested"
    EMAIL_CHANGE_COMPLETED = "EmailChangeCompleted"
    RECOVERY_CASE_OPENED = "RecoveryCaseOpened"
    RECOVERY_CASE_APPROVED = "RecoveryCaseApproved"
    RECOVERY_CASE_REJECTED = "RecoveryCaseRejected"
    TICKET_OPENED = "TicketOpened"  # by dimension `origin` (support.views.Origin)
    CESSION_COMPLETED = "CessionCompleted"  # counted by the mailer, see cession_outcome
    CESSION_DECLINED = "CessionDeclined"
    CESSION_EXPIRED = "CessionExpired"  # counted by the mailer, see cession_outcome
    MAIL_SENT = "MailSent"
    MAIL_SUPPRESSED = "MailSuppressed"  # not sent: the address is undeliverable (bounces)
    MAIL_BOUNCED = "MailBounced"  # SES reported a hard bounce (per recipient)
    MAIL_COMPLAINED = "MailComplained"  # SES reported a complaint (per recipient)
    CONTACT_EMAIL_UNDELIVERABLE = "ContactEmailsUndeliverable"  # an account's, marked so
    # Operations, not business: a call IAM refused (the role lacks a permission). Alarmed.
    ACCESS_DENIED = "AccessDenied"
    # Unasked mail (registration, recovery and access acknowledgements, sender and
    # contact-change links, auto-replies) not sent: the target address or the client IP
    # had spent its allowance (throttling.may_mail_unasked). A rise is someone's flood.
    UNASKED_MAIL_WITHHELD = "UnaskedMailWithheld"
    INBOUND_MAIL = "InboundMail"  # by dimension `result` (intake.decisions.Outcome.result)


# Dimensioned metrics: the dimension's name and its values (each value is a metric of
# its own to CloudWatch, billed as such: the set is closed, anything else is "other").
DIMENSIONS: dict[Metric, tuple[str, tuple[str, ...]]] = {
    # support.views.Origin (a test holds them equal)
    Metric.TICKET_OPENED: ("origin", ("client_area", "email", "access_request", "sales_question")),
    # intake.decisions.Outcome.result
    Metric.INBOUND_MAIL: (
        "result",
        (
            "ticket_opened",
            "message_added",
            "auto_replied",
            "ignored_automatic",
            "ignored_unattached",
            "ignored_malformed",
            "duplicate",
        ),
    ),
}
OTHER = "other"

# The workflow ends a cession without running any of our code; its outcome mail to the
# owner is the one place code sees it (one such mail per cession, sent by the mailer).
_CESSION_OUTCOME_MAILS = {
    "cession_completed": Metric.CESSION_COMPLETED,
    "cession_expired": Metric.CESSION_EXPIRED,
}

_metrics = Metrics()


@cache
def _logger_of(service: str) -> Logger:
    return Logger(service=service)


def _logger() -> Logger:
    """The functions' logger: Powertools keeps one per service name, so this one shares
    the handler's keys. Looked up when used, not at import: a process that imported this
    module before its environment named the service (tests, the dev server) would
    otherwise hold another logger."""
    return _logger_of(os.environ.get("POWERTOOLS_SERVICE_NAME", "service_undefined"))


def count(metric: Metric, value: int = 1) -> None:
    """Count an event; published when the handler returns."""
    _metrics.add_metric(name=metric, unit=MetricUnit.Count, value=value)


def count_by(metric: Metric, value: str) -> None:
    """Count an event under its dimension's value (DIMENSIONS); published at once."""
    dimension, values = DIMENSIONS[metric]
    with single_metric(name=metric, unit=MetricUnit.Count, value=1) as one:
        one.add_dimension(dimension, value if value in values else OTHER)


def cession_outcome(kind: str, params: dict[str, Any]) -> Metric | None:
    """The cession outcome a sent mail stands for, counted once per cession (the
    owner's copy), or None."""
    if params.get("party") != "owner":
        return None
    return _CESSION_OUTCOME_MAILS.get(kind)


# --- correlation ----------------------------------------------------------------------


def correlation_id() -> str | None:
    return _logger().get_correlation_id()


def set_correlation_id(value: str | None) -> None:
    _logger().set_correlation_id(value)


def message_attributes() -> dict[str, Any]:
    """SQS message attributes carrying the current correlation id (none without one)."""
    value = correlation_id()
    if not value:
        return {}
    return {CORRELATION_ATTRIBUTE: {"DataType": "String", "StringValue": str(value)}}


def correlation_of(record: SQSRecord) -> str | None:
    """The correlation id a queued message arrived with."""
    attribute = record.message_attributes[CORRELATION_ATTRIBUTE]
    return attribute.string_value if attribute is not None else None
