"""SQS event source mappings, locally: receive, invoke the consumer with an SQS event,
delete what it did not report as failed (ReportBatchItemFailures)."""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from typing import TYPE_CHECKING, Any

import boto3

from infra.local.lambdas import SERVICE
from infra.local.roles import acting_as
from infra.local.stack import REGION, STACK_NAME

if TYPE_CHECKING:
    from infra.local.resources import Physical
    from infra.local.stack import Stack

logger = logging.getLogger("infra.local")  # not under "clientarea": Powertools owns that logger


class QueueConsumers:
    def __init__(self, stack: Stack, physical: Physical) -> None:
        functions = stack.functions()
        self._sqs = boto3.client("sqs", region_name=REGION)
        self._consumers = [
            (
                physical.refs[c.queue],
                physical.attributes[(c.queue, "Arn")],
                functions[c.function],
                c.batch_size,
            )
            for c in stack.queue_consumers()
        ]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def poll_once(self, wait_seconds: int = 0) -> int:
        """One receive per queue; returns how many messages were handed to consumers."""
        delivered = 0
        with self._lock:
            for url, arn, function, batch_size in self._consumers:
                delivered += self._deliver(url, arn, function, batch_size, wait_seconds)
        return delivered

    def drain(self, rounds: int = 20) -> None:
        """Deliver until every queue is empty (a consumer may feed another queue)."""
        for _ in range(rounds):
            if self.poll_once() == 0:
                return

    def _deliver(self, url: str, arn: str, function: Any, batch_size: int, wait: int) -> int:
        # Lambda's event source mapping polls and deletes with the function's role.
        with acting_as(function.logical_id):
            return self._deliver_as_function(url, arn, function, batch_size, wait)

    def _deliver_as_function(
        self, url: str, arn: str, function: Any, batch_size: int, wait: int
    ) -> int:
        received = self._sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=batch_size,
            WaitTimeSeconds=wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return 0
        event = {"Records": [_record(m, arn) for m in received]}
        invocation = SERVICE.invoke(function, event)
        try:
            result = invocation.outcome() or {}
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except Exception:  # a crashed (or timed-out) batch is retried whole, as on AWS
            logger.exception("consumer %s failed", function.logical_id)
            failed = {m["MessageId"] for m in received}
        state = f"cold (init {invocation.init_ms:.0f} ms)" if invocation.cold else "warm"
        logger.info(
            "%s: %d message(s) from %s, %d failed, %.0f ms  %s aws=%d",
            function.logical_id,
            len(received),
            arn.rpartition(":")[2].removeprefix(f"{STACK_NAME}-"),
            len(failed),
            invocation.duration_ms,
            state,
            invocation.aws_calls,
        )
        done = [m for m in received if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        return len(received)

    def start(self, interval: float = 0.2) -> None:
        def run() -> None:
            while not self._stop.is_set():
                try:
                    if self.poll_once() == 0:
                        self._stop.wait(interval)
                except Exception:
                    logger.exception("queue polling failed")
                    self._stop.wait(1)

        thread = threading.Thread(target=run, name="sqs-consumers", daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)


def _record(message: dict[str, Any], arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: _lambda_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        # SQS's own body checksum, not a security use.
        "md5OfBody": hashlib.md5(message["Body"].encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": REGION,
    }


def _lambda_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """A message attribute as Lambda's SQS event spells it (camelCase, both lists),
    not as ReceiveMessage answers it."""
    attribute: dict[str, Any] = {
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute
