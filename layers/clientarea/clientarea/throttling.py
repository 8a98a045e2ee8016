"""Fixed-window rate limits stored as DynamoDB counters (one UpdateItem per hit).

Keys (client IPs, login strings) are hashed before they are stored: a rate-limit
table should not become a log of who tried which address. Counters expire by TTL.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from pynamodb.attributes import NumberAttribute

from clientarea import clock
from clientarea.errors import RateLimited
from clientarea.tables import RateLimitModel


@dataclass(frozen=True)
class Limit:
    name: str
    max_hits: int
    window_seconds: int


def _window(limit: Limit) -> tuple[int, int]:
    """`(window index, seconds until it ends)` for now."""
    now = clock.epoch(clock.now())
    index = now // limit.window_seconds
    return index, (index + 1) * limit.window_seconds - now


def _key(limit: Limit, key: str, index: int) -> str:
    hashed = hashlib.sha256(f"{limit.name}:{key}".encode()).hexdigest()[:32]
    return f"{limit.name}#{hashed}#{index}"


def counter_key(limit: Limit, key: str) -> tuple[str, int]:
    """`(item key, seconds left in the window)`, for reading a counter inside a
    caller's own transaction instead of spending a call on it."""
    index, remaining = _window(limit)
    return _key(limit, key, index), remaining


def hit(limit: Limit, key: str, *, raise_over_limit: bool = True) -> None:
    """Count one attempt; raise RateLimited once the window's allowance is spent
    (unless the caller only records, having checked the counter itself)."""
    index, remaining = _window(limit)
    counter = RateLimitModel(_key(limit, key, index))
    hits_attr: NumberAttribute = RateLimitModel.hits  # type: ignore[assignment]
    counter.update(
        actions=[
            hits_attr.add(1),
            # Kept a minute past the window, then DynamoDB may drop it.
            RateLimitModel.ttl.set(clock.now() + timedelta(seconds=remaining + 60)),
        ]
    )
    if raise_over_limit and counter.hits > limit.max_hits:
        raise RateLimited(retry_after=remaining)
