"""Mailer: renders queued mails and sends them through SES.

Partial batch failures: only the messages SES refused go back to the queue (and to
the dead-letter queue after the redrive limit), so a throttled send loses nothing and
a delivered mail is never sent twice because a neighbour failed.

Each record is logged under the correlation id it was queued with (the API request
that caused it, or the cession's order id), next to the SES message id: the two ends
of "my mail never came".

A mail to an address that hard-bounced or drew a complaint is not sent at all
(clientarea.bounces): logged by kind, counted as MailSuppressed, and done with.
"""

from typing import Any

from clientarea import startup  # first: pauses the garbage collector during init

# isort: split
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
from clientarea.mail.delivery import deliver
from clientarea.mail.message import OutgoingMail

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def send_one(record: SQSRecord) -> None:
    telemetry.set_correlation_id(telemetry.correlation_of(record))
    mail = OutgoingMail.model_validate_json(record.body)
    if bounces.is_undeliverable(mail.to):
        logger.info("mail not sent: the address is undeliverable", extra={"kind": mail.kind})
        telemetry.count(telemetry.Metric.MAIL_SUPPRESSED)
        return
    message_id = deliver(mail)
    # Never the body or the recipient: bodies carry link secrets.
    logger.info("mail sent", extra={"kind": mail.kind, "ses_message_id": message_id})
    telemetry.count(telemetry.Metric.MAIL_SENT)
    outcome = telemetry.cession_outcome(mail.kind, mail.params)
    if outcome is not None:
        telemetry.count(outcome)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=send_one, processor=processor, context=context
    )


startup.done()  # last: the initialisation is over (clientarea/startup.py)
