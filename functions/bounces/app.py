"""Bounces: SES's bounce and complaint events (SNS → SQS) mark contact addresses
undeliverable (clientarea.bounces).

Partial batch failures: a message that cannot be read or recorded goes back to the
queue, and to its dead-letter queue after the redrive limit; its neighbours are done.
"""

from clientarea import startup  # first: pauses the garbage collector during init

# isort: split
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from clientarea import bounces, sqs_batch, telemetry

logger = Logger()
metrics = Metrics()

# One metric per kind of feedback that changes something (never the addresses).
_METRICS = {
    bounces.Reason.BOUNCE: telemetry.Metric.MAIL_BOUNCED,
    bounces.Reason.COMPLAINT: telemetry.Metric.MAIL_COMPLAINED,
}


def record_feedback(record: SQSRecord) -> None:
    feedback = bounces.parse(record.body)
    outcomes = bounces.record(feedback)
    logger.info(
        "SES feedback",
        extra={
            "event_type": feedback.kind,
            "permanent": feedback.permanent,
            "ses_message_id": feedback.ses_message_id,
            "outcomes": sorted(str(outcome) for outcome in outcomes.values()),
        },
    )
    if feedback.reason is not None:
        telemetry.count(_METRICS[feedback.reason], len(outcomes))
    marked = sum(outcome == bounces.Outcome.MARKED for outcome in outcomes.values())
    if marked:
        telemetry.count(telemetry.Metric.CONTACT_EMAIL_UNDELIVERABLE, marked)


lambda_handler = sqs_batch.handler(record_feedback, logger, metrics)

startup.done()  # last: the initialisation is over (clientarea/startup.py)
