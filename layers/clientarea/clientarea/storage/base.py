"""What every storage module shares: the PynamoDB `Model` on one shared connection,
the `Meta` defaults (region from the function's environment, retries) and the type of
a step a caller adds to another aggregate's write transaction."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import botocore.session
from pynamodb.connection import Connection
from pynamodb.connection.table import TableConnection
from pynamodb.models import Model as _PynamoDBModel

from clientarea import aws

if TYPE_CHECKING:
    from pynamodb.transactions import TransactWrite

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


class Meta:
    region = REGION
    # Lambda's own retries are enough; a throttled write surfaces as a clear error.
    max_retry_attempts = 2


# One more write in a transaction another storage module commits (e.g. the inbound mail's
# dedup item with the ticket it opens). Built by a storage module; domain code only
# passes it on.
TransactionStep = Callable[["TransactWrite"], None]
