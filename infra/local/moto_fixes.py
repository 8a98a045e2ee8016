"""Make moto's DynamoDB keep the guarantees of DynamoDB that this project relies on.

moto applies a TransactWriteItems item by item without a lock, and when a condition
fails it rolls back by putting back deep copies of the *whole tables* it took when
the transaction began. As soon as a second thread writes meanwhile (the Step
Functions executor runs the cession workflow on its own thread, the dev server
serves requests on several), that thread's writes are silently undone: an order
reverted to open after its service moved, the hold on a service wiped. DynamoDB can
never do that. tests/integration/test_cession_properties.py found it.

Serialising every DynamoDB request restores what the code relies on: a transaction
is all or nothing, and nobody sees it half done. Locally the cost is nil.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from moto.dynamodb.responses import DynamoHandler

_LOCK = threading.RLock()


def serialise_dynamodb() -> None:
    """Run one DynamoDB request at a time (idempotent; in-process and server mode)."""
    if getattr(DynamoHandler.call_action, "serialised", False):
        return
    original = DynamoHandler.call_action

    @functools.wraps(original)
    def call_action(self: DynamoHandler) -> Any:
        with _LOCK:
            return original(self)

    call_action.serialised = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
