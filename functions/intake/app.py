"""Inbound mail: the SES receipt rule stored the raw mail in the bucket and invokes
this function with the receipt (verdicts, recipients, message id). What the mail
becomes is decided in `clientarea.intake.decisions`. The inbound SES message id is the
correlation id of everything it causes (the ticket, an auto-reply)."""

from clientarea import startup  # first: pauses the garbage collector during init

# isort: split
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext
from clientarea import telemetry
from clientarea.intake import authentication, decisions

logger = Logger()
metrics = Metrics()  # what the decisions count (a withheld auto-reply)


@logger.inject_lambda_context(correlation_id_path="Records[0].ses.mail.messageId")
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcomes = []
    for record in event.get("Records", []):
        envelope = authentication.Envelope.from_ses(record["ses"])
        telemetry.set_correlation_id(envelope.message_id)
        outcome = decisions.receive(envelope)
        # Ids and results only: never an address, a subject or a body.
        logger.info(
            "inbound mail",
            extra={
                "ses_message_id": envelope.message_id,
                "result": outcome.result,
                "ticket": outcome.number,
            },
        )
        telemetry.count_by(telemetry.Metric.INBOUND_MAIL, outcome.result)
        outcomes.append(outcome.as_dict())
    return {"outcomes": outcomes}


startup.done()  # last: the initialisation is over (clientarea/startup.py)
