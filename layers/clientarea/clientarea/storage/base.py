"""What every storage module shares: the models' Meta, the connection transactions are
committed on, and the translation of AWS failures into domain errors.

One storage module per aggregate (`accounts`, `sessions`, `tokens`, `throttling`, …)
owns its PynamoDB models and key formats and is the only code that touches them;
domain modules call its functions and see only `clientarea.errors`. A storage function
that talks to AWS is wrapped in `availability.translated`: throttled or down becomes
ServiceUnavailable (503, retry), anything else AWSRefused (500; IAM's refusals are
reported as such by whoever answers, see `availability.is_access_denied`). Writes that
span aggregates go through `clientarea.storage.unit_of_work`.

Each table name comes from the function's environment (template.yaml `!Ref`s it in),
read when a model's module is first imported.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

import botocore.session
from pynamodb.connection import Connection
from pynamodb.connection.table import TableConnection
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model as _PynamoDBModel
from pynamodb.models import _ModelFuture
from pynamodb.transactions import TransactGet

from clientarea import aws
from clientarea.errors import NotFound

_M = TypeVar("_M", bound=_PynamoDBModel)
REGION = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-central-1"


class _SharedConnection(Connection):
    """PynamoDB's connection on clientarea.aws's session, with one botocore client for
    every table. PynamoDB gives each model class a connection of its own, and each
    creates its own botocore session and client: about 50 ms of CPU for every table a
    cold request touches (four tables, 250 ms), where one client serves them all."""

    _shared_client: ClassVar[Any] = None

    @property
    def session(self) -> botocore.session.Session:
        return aws.session()

    @property
    def client(self) -> Any:
        # PynamoDB's own property creates a client when there is none, or when the one
        # it has lost its credentials (see pynamodb.connection.base): keep that rule.
        self._client = _SharedConnection._shared_client or self._client
        client = super().client
        _SharedConnection._shared_client = client
        return client


class Model(_PynamoDBModel):
    """PynamoDB's Model, on the shared connection (`_SharedConnection`). Every model of
    every storage module derives from it."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table = super()._get_connection()
        if type(table.connection) is Connection:
            # PynamoDB constructs a plain Connection; the subclass only changes where
            # its session and client come from (no state of its own).
            table.connection.__class__ = _SharedConnection
        return table


def get_or_not_found[M: _PynamoDBModel](
    model_cls: type[M], hash_key: Any, range_key: Any = None
) -> M:
    """The item as it is now (a consistent read); NotFound when there is none."""
    try:
        return model_cls.get(hash_key, range_key, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound from exc


class TableMeta:
    region = REGION
    # Lambda's own retries are enough; a throttled write surfaces as a clear error.
    max_retry_attempts = 2


@functools.cache
def connection() -> Connection:
    """The low-level connection transactions are committed on, with the models' settings
    (`TableMeta`) and their one shared client: whichever asks first creates it (the
    bench measures that first client: bench/cold_start.py)."""
    return _SharedConnection(
        region=TableMeta.region, max_retry_attempts=TableMeta.max_retry_attempts
    )


class ProjectedTransactGet(TransactGet):
    """PynamoDB's TransactGet with a projection per item (`attributes_to_get`), which
    TransactGetItems takes but PynamoDB does not pass: a function allowed only some
    attributes of a table (an IAM `dynamodb:Attributes` condition) must ask for no more."""

    def get(
        self,
        model_cls: type[_M],
        hash_key: Any,
        range_key: Any = None,
        *,
        attributes_to_get: Sequence[str] | None = None,
    ) -> _ModelFuture[_M]:
        hash_key, range_key = model_cls._serialize_keys(hash_key, range_key)
        operation_kwargs = model_cls._get_connection().get_operation_kwargs(
            hash_key=hash_key,
            range_key=range_key,
            attributes_to_get=None if attributes_to_get is None else list(attributes_to_get),
        )
        future = _ModelFuture(model_cls)
        self._futures.append(future)
        self._get_items.append(operation_kwargs)
        return future
