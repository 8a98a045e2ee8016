"""`availability.translated`, the one translation of AWS failures every module that calls
AWS uses (storage, S3, Step Functions, SQS): what each kind of failure leaves as."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from clientarea import availability
from clientarea.errors import AWSRefused, NotFound, ServiceUnavailable
from pynamodb.exceptions import (
    CancellationReason,
    QueryError,
    TransactGetError,
    VerboseClientError,
)


def client_error(code: str, operation: str = "Query") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)


def cancelled(reason: str) -> TransactGetError:
    """A transaction cancelled for one item's `reason`, as PynamoDB raises it."""
    error = VerboseClientError(
        {"Error": {"Code": "TransactionCanceledException", "Message": "injected"}},
        "TransactGetItems",
        cancellation_reasons=[None, CancellationReason(code=reason)],
    )
    return TransactGetError("cancelled", cause=error)


def raising(exc: BaseException) -> Any:
    @availability.translated
    def call() -> None:
        raise exc

    return call


@pytest.mark.parametrize(
    "failure",
    [
        client_error("ThrottlingException"),  # Step Functions, DynamoDB
        client_error("RequestThrottled", "SendMessage"),  # SQS
        client_error("ServiceUnavailable", "ListObjectVersions"),  # S3 down
        QueryError("throttled", cause=client_error("ProvisionedThroughputExceededException")),
        cancelled("ThrottlingError"),
        EndpointConnectionError(endpoint_url="https://s3.eu-central-1.amazonaws.com"),
    ],
    ids=["throttled", "sqs-throttled", "s3-down", "pynamodb-throttled", "cancelled", "network"],
)
def test_throttled_or_down_is_a_retry_later(failure: BaseException) -> None:
    with pytest.raises(ServiceUnavailable) as raised:
        raising(failure)()
    assert raised.value.retry_after == availability.RETRY_AFTER_SECONDS
    assert raised.value.__cause__ is failure


@pytest.mark.parametrize("code", ["AccessDenied", "AccessDeniedException"])
def test_iams_refusal_is_refused_for_good_and_still_told_apart(code: str) -> None:
    failure = QueryError("refused", cause=client_error(code))
    with pytest.raises(AWSRefused) as raised:
        raising(failure)()
    assert raised.value.__cause__ is failure
    assert availability.is_access_denied(raised.value)


def test_any_other_refusal_is_refused_for_good_and_not_an_access_denial() -> None:
    with pytest.raises(AWSRefused) as raised:
        raising(client_error("ValidationException"))()
    assert not availability.is_access_denied(raised.value)


@pytest.mark.parametrize("failure", [NotFound(), ValueError("a bug")], ids=["domain", "other"])
def test_what_is_not_aws_s_passes_unchanged(failure: BaseException) -> None:
    with pytest.raises(type(failure)) as raised:
        raising(failure)()
    assert raised.value is failure


def test_a_call_that_succeeds_returns_its_value() -> None:
    assert availability.translated(lambda x: x + 1)(1) == 2
