"""The one source of "now" for every expiry decision.

Expiry is always checked in code (DynamoDB deletes TTL items lazily, moto never), so
every function asks this module. The dev server's `POST /_dev/clock` moves it forward
for all functions at once through an environment offset, and can freeze it so that a
boundary ("valid at 1:59:59") holds however long the request path takes; deployed
stacks never set either.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

OFFSET_ENV = "CLIENTAREA_CLOCK_OFFSET_SECONDS"
FROZEN_ENV = "CLIENTAREA_CLOCK_FROZEN_AT"  # epoch seconds of the real instant it stopped at


def now() -> datetime:
    """The current UTC time, shifted by the dev clock offset when one is set."""
    offset = os.environ.get(OFFSET_ENV)
    frozen_at = os.environ.get(FROZEN_ENV)
    current = datetime.fromtimestamp(float(frozen_at), UTC) if frozen_at else datetime.now(UTC)
    return current + timedelta(seconds=float(offset)) if offset else current


def epoch(moment: datetime) -> int:
    """Whole seconds since the epoch, the unit of DynamoDB TTL attributes."""
    return int(moment.timestamp())


def iso(moment: datetime) -> str:
    """The contract's time format: ISO 8601 UTC with a Z, whole seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
