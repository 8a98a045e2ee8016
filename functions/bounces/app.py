"""Bounces: SES's bounce and complaint events (SNS → SQS) mark contact addresses
undeliverable (clientarea.bounces).

Partial batch failures: a message that cannot be read or recorded goes back to the
queue, and to its dead-letter queue after the redrive limit; its neighbours are done.
"""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from clientarea import bounces, telemetry

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)

# One metric per kind of feedback that changes something (never the addresses).
_METRICS = {
    bounces.Reason.BOUNCE: telemetry.Metric.MAIL_BOUNCED,
    bounces.Reason.COMPLAINT: telemetry.Metric.MAIL_COMPLAINED,
}


def record_feedback(record: SQSRecord) -> None:
    telemetry.set_correlation_id(telemetry.correlation_of(record))
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


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_feedback, processor=processor, context=context
    )
