"""The handler of a function fed by an SQS queue, with Powertools' partial batch failures:
only the records whose handler raised go back to the queue (and to its dead-letter
queue after the redrive limit), their neighbours are done. Each record is handled under
the correlation id it was queued with (clientarea.telemetry)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)

from clientarea import telemetry

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext


def handler(
    record_handler: Callable[[SQSRecord], None], logger: Logger, metrics: Metrics
) -> Callable[[dict[str, Any], LambdaContext], PartialItemFailureResponse]:
    """The function's `lambda_handler`, calling `record_handler` once per record."""
    processor = BatchProcessor(event_type=EventType.SQS)

    def each(record: SQSRecord) -> None:
        telemetry.set_correlation_id(telemetry.correlation_of(record))
        record_handler(record)

    @logger.inject_lambda_context
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        return process_partial_response(
            event=event, record_handler=each, processor=processor, context=context
        )

    return lambda_handler
