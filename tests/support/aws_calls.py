"""The AWS API calls a block of code makes, recorded where the bench counts them
(botocore's `BaseClient._make_api_call`, bench/routes.py): for tests of what a path
costs, or of two paths that must not be told apart by their calls."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple
from unittest import mock

from botocore.client import BaseClient


class AwsCall(NamedTuple):
    operation: str
    params: dict[str, Any]

    @property
    def table(self) -> str:
        return str(self.params.get("TableName", ""))


@contextmanager
def recorded_aws_calls() -> Iterator[list[AwsCall]]:
    """Every call made inside the block, in order (a caller may clear the list)."""
    calls: list[AwsCall] = []
    original = BaseClient._make_api_call

    def recording(client: Any, operation: str, params: dict[str, Any]) -> Any:
        calls.append(AwsCall(operation, params))
        return original(client, operation, params)

    with mock.patch.object(BaseClient, "_make_api_call", recording):
        yield calls


def operations(calls: list[AwsCall]) -> list[str]:
    return [call.operation for call in calls]
