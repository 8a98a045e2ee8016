"""The cession workflow seen from the API: its execution is started when an order is
activated, and a waiting branch is woken once its party's answer is on the order.

The state machine (`infra/statemachines/cession.asl.json`) makes the two transitions
nobody asks for (the transfer, the expiry) and reads every decision from the order
item: a branch that no longer waits is fine, and a lost wake-up only delays the outcome
to the end of the window. The task tokens never leave the order item: not in a link, a
response or a log.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from clientarea import availability, aws, config
from clientarea.cession.orders import Party, task_token
from clientarea.storage.orders import OrderModel

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

logger = Logger()


@cache
def _sfn() -> SFNClient:
    return aws.boto3_session().client("stepfunctions")


@availability.translated
def start(order_id: str) -> None:
    """Start the order's execution; its name is the order id, so a second start of the
    same order is refused by Step Functions instead of running twice."""
    try:
        _sfn().start_execution(
            stateMachineArn=config.cession_state_machine_arn(),
            name=order_id,
            input=json.dumps({"order_id": order_id}),
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
            raise


# A branch that no longer waits for this token: it moved on, nothing to wake.
_GONE = frozenset({"InvalidToken", "TaskDoesNotExist", "TaskTimedOut"})


@availability.translated
def wake(task_token: str | None) -> None:
    """Wake a waiting branch. The decision is already on the order, so a branch that
    no longer waits is fine, and a throttled call only delays the outcome to the end of
    the window (logged, without the token). Anything else raises: a refused callback
    (AccessDenied) would leave every order waiting out its window without a word, so
    the request fails instead (AWSRefused) and the refusal is counted and alarmed
    (clientarea.web)."""
    if not task_token:
        return
    try:
        _sfn().send_task_success(taskToken=task_token, output="{}")
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in _GONE:
            return
        if availability.is_transient(exc):
            logger.warning("could not wake a cession branch", extra={"error_code": code})
            return
        raise


def wake_both(order: OrderModel) -> None:
    for party in Party:
        wake(task_token(order, party))
