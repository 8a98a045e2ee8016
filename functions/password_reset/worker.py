"""Reset-request worker: looks the login up and mails a link, behind the queue so the
forgot route answers identically for known and unknown accounts. Each request is
handled under the correlation id of the forgot request that queued it, and the mail it
queues carries that id on to the mailer."""

from __future__ import annotations

from clientarea import startup  # first: pauses the garbage collector during init

# isort: split
import json

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from clientarea import password_reset, sqs_batch, telemetry

logger = Logger()
metrics = Metrics()


def handle_request(record: SQSRecord) -> None:
    request = json.loads(record.body)
    sent = password_reset.send_reset_link(str(request["login"]))
    telemetry.count(
        telemetry.Metric.RESET_LINK_SENT if sent else telemetry.Metric.RESET_REQUEST_IGNORED
    )


lambda_handler = sqs_batch.handler(handle_request, logger, metrics)


startup.done()  # last: the initialisation is over (clientarea/startup.py)
