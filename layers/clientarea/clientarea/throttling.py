"""Fixed-window rate limits stored as DynamoDB counters (one UpdateItem per hit).

Keys (client IPs, login strings) are hashed before they are stored: a rate-limit
table should not become a log of who tried which address. Counters expire by TTL.

Every hit is one atomic `ADD` whose returned value decides, so a burst of parallel
requests cannot slip more than the limit past a read-then-write.

Mail that anyone can make us send without proving anything (a registration's link, a
"someone tried to register" notice, a recovery or access-request acknowledgement, an
authorised sender's confirmation link, the support auto-reply) draws on one budget per
target address, shared by every route, and one per client IP: `may_mail_unasked`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from pynamodb.attributes import NumberAttribute

from clientarea import clock, config, telemetry
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
    if not take(limit, key) and raise_over_limit:
        raise RateLimited(retry_after=_window(limit)[1])


def take(limit: Limit, key: str) -> bool:
    """Count one attempt; True while it is within the window's allowance. The counter's
    value after the atomic ADD decides, so parallel callers never share one slot."""
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
    return counter.hits <= limit.max_hits


# At most this many unasked mails a day to one address, whatever route asked for them.
UNASKED_MAILS_PER_ADDRESS = Limit("unasked_mail_to", 3, 24 * 3600)


def unasked_mails_per_ip() -> Limit:
    return Limit("unasked_mail_ip", config.ip_requests_per_hour(), 3600)


def may_mail_unasked(to: str, *, client_ip: str | None) -> bool:
    """Whether one more unasked mail may go to `to` (a normalised address) on behalf of
    `client_ip` (None: no client, e.g. inbound mail). Counts both; the caller skips the
    mail when False and answers exactly as if it had been sent (nothing to enumerate).
    The address is counted only when the IP may still send: requests an IP makes past
    its own limit do not spend the target's daily allowance as well."""
    allowed = (client_ip is None or take(unasked_mails_per_ip(), client_ip)) and take(
        UNASKED_MAILS_PER_ADDRESS, to.casefold()
    )
    if not allowed:
        telemetry.count(telemetry.Metric.UNASKED_MAIL_WITHHELD)
    return allowed
