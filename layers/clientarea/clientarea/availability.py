"""AWS answers that mean "not now": throttling and outages that outlasted the SDK's own
retries.

DynamoDB applies a refused write (or a whole transaction) not at all, so nothing is
half-written and the caller can simply try again: the API answers 503
`service_unavailable` with Retry-After instead of a bare 500, or worse, a domain error
that a throttled transaction's cancellation would otherwise be mistaken for.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from pynamodb.exceptions import PynamoDBException, TransactGetError, TransactWriteError

from clientarea.errors import AWSRefused, DomainError, ServiceUnavailable

RETRY_AFTER_SECONDS = 2

# What an AWS call raises when it failed outright, whichever client made it (boto3's or
# PynamoDB's): not a domain outcome such as a missing item, which its caller handles.
AWS_ERRORS = (PynamoDBException, ClientError, BotoCoreError)

# Error codes of a call refused as a whole: DynamoDB's, and those of SQS, SES and
# Step Functions (the mail queue and the cession workflow sit behind API answers too).
TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "InternalServerError",
        "InternalFailure",
        "InternalError",
        "ServiceUnavailable",
        "RequestThrottled",  # SQS
        "KmsThrottled",  # SQS with server-side encryption
    }
)
# Cancellation reasons of a transaction refused for capacity rather than a condition.
TRANSIENT_REASONS = frozenset({"ProvisionedThroughputExceeded", "ThrottlingError"})
# A concurrent transaction on the same item: the request may be retried at once.
CONFLICT_REASONS = frozenset({"TransactionConflict"})


def cancellation_reasons(exc: BaseException) -> frozenset[str]:
    if not isinstance(exc, TransactWriteError | TransactGetError):
        return frozenset()
    return frozenset(r.code for r in exc.cancellation_reasons or () if r and r.code)


def is_transient(exc: BaseException) -> bool:
    """Throttled, or the service (or the network to it) failed: nothing was done."""
    cause = exc.cause if isinstance(exc, PynamoDBException) else exc
    if isinstance(cause, BotocoreConnectionError | HTTPClientError):
        return True
    if (
        isinstance(cause, ClientError)
        and cause.response.get("Error", {}).get("Code") in TRANSIENT_CODES
    ):
        return True
    return bool(cancellation_reasons(exc) & TRANSIENT_REASONS)


def translate(exc: BaseException) -> DomainError:
    """The domain error an AWS failure means (raise it `from exc`): nothing was done by
    the failed call itself, so throttled or down is a retry later (ServiceUnavailable),
    anything else ours to fix (AWSRefused; an IAM refusal is reported by whoever
    answers, see `is_access_denied`)."""
    if is_transient(exc):
        return ServiceUnavailable(RETRY_AFTER_SECONDS)
    return AWSRefused(type(exc).__name__)


def translated[**P, R](fn: Callable[P, R]) -> Callable[P, R]:
    """Wrap a function that calls AWS so that a failure leaves it as the domain error it
    means (`translate`). Each storage module wraps its functions, and each module that
    owns another service's client (S3, Step Functions, SQS) its calls: the HTTP adapter
    sees domain errors only."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except AWS_ERRORS as exc:
            raise translate(exc) from exc

    return wrapper


def is_transaction_conflict(exc: BaseException) -> bool:
    return bool(cancellation_reasons(exc) & CONFLICT_REASONS)


# --- the opposite: refused for good ------------------------------------------------------

# IAM refused the call: the function's role lacks a permission (a deployment bug). Never
# transient, never the caller's doing: it must not pass for throttling, nor be retried.
ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException"})


def _aws_error(exc: BaseException) -> BaseException:
    """The AWS error behind `exc`: itself, or the one a storage module translated into
    a domain error (`raise AWSRefused(…) from exc`)."""
    while (
        not isinstance(exc, PynamoDBException | ClientError | BotoCoreError)
        and exc.__cause__ is not None
    ):
        exc = exc.__cause__
    return exc


def is_access_denied(exc: BaseException) -> bool:
    exc = _aws_error(exc)
    cause = exc.cause if isinstance(exc, PynamoDBException) else exc
    return (
        isinstance(cause, ClientError)
        and cause.response.get("Error", {}).get("Code") in ACCESS_DENIED_CODES
    )


def report_access_denied(exc: BaseException, logger: Any) -> None:
    """Log the refusal at error level, with the operation AWS refused, and count it at
    once (metric AccessDenied, alarmed in template.yaml: not every handler publishes
    metrics when it returns). Never the request's data."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric  # noqa: PLC0415

    from clientarea.telemetry import Metric  # noqa: PLC0415

    exc = _aws_error(exc)
    cause = exc.cause if isinstance(exc, PynamoDBException) else exc
    logger.error(
        "AWS refused a call this function's role should allow",
        extra={
            "error_code": cause.response.get("Error", {}).get("Code"),  # type: ignore[union-attr]
            "operation": getattr(cause, "operation_name", None),
        },
    )
    with single_metric(name=Metric.ACCESS_DENIED, unit=MetricUnit.Count, value=1):
        pass
