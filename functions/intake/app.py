"""Inbound mail: the SES receipt rule stored the raw mail in the bucket and invokes
this function with the receipt (verdicts, recipients, message id). What the mail
becomes is decided in `clientarea.inbound`."""

from __future__ import annotations

from clientarea import startup  # first: pauses the garbage collector during init

# isort: split
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from clientarea import inbound

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    outcomes = []
    for record in event.get("Records", []):
        envelope = inbound.Envelope.from_ses(record["ses"])
        outcome = inbound.receive(envelope)
        # Ids and results only: never an address, a subject or a body.
        logger.info(
            "inbound mail",
            extra={
                "ses_message_id": envelope.message_id,
                "result": outcome.result,
                "ticket": outcome.number,
            },
        )
        metrics.add_metric(name=f"Inbound_{outcome.result}", unit=MetricUnit.Count, value=1)
        outcomes.append(outcome.as_dict())
    return {"outcomes": outcomes}


startup.done()  # last: the initialisation is over (clientarea/startup.py)
