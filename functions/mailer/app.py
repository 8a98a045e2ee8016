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

from clientarea import startup  # first: pauses the garbage collector during init

# isort: split
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from clientarea import bounces, sqs_batch, telemetry
from clientarea.mail.delivery import deliver
from clientarea.mail.message import OutgoingMail

logger = Logger()
metrics = Metrics()


def send_one(record: SQSRecord) -> None:
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


lambda_handler = sqs_batch.handler(send_one, logger, metrics)


startup.done()  # last: the initialisation is over (clientarea/startup.py)
