"""Reset-request worker: looks the login up and mails a link, behind the queue so the
forgot route answers identically for known and unknown accounts. Each request is
handled under the correlation id of the forgot request that queued it, and the mail it
queues carries that id on to the mailer."""

from __future__ import annotations

from typing import Any

from clientarea import startup  # first: pauses the garbage collector during init

# isort: split
import json

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from clientarea import password_reset, telemetry

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def handle_request(record: SQSRecord) -> None:
    telemetry.set_correlation_id(telemetry.correlation_of(record))
    request = json.loads(record.body)
    sent = password_reset.send_reset_link(str(request["login"]))
    telemetry.count(
        telemetry.Metric.RESET_LINK_SENT if sent else telemetry.Metric.RESET_REQUEST_IGNORED
    )


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=handle_request, processor=processor, context=context
    )


startup.done()  # last: the initialisation is over (clientarea/startup.py)
