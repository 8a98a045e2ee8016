"""What every storage module shares: the PynamoDB `Meta` defaults (region from the
function's environment, retries) and the type of a step a caller adds to another
aggregate's write transaction."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pynamodb.transactions import TransactWrite

REGION = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-central-1"


class Meta:
    region = REGION
    # Lambda's own retries are enough; a throttled write surfaces as a clear error.
    max_retry_attempts = 2


# One more write in a transaction another storage module commits (e.g. the inbound mail's
# dedup item with the ticket it opens). Built by a storage module; domain code only
# passes it on.
TransactionStep = Callable[["TransactWrite"], None]
