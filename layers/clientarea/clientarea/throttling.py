"""Rate limits stored as DynamoDB counters, counted *before* what they limit is evaluated.

Every limited attempt is counted by one atomic UpdateItem first, and the count that
write returns (or its condition) decides: a burst of parallel requests cannot all read
"under the limit" and then all go ahead. What is counted is never checked afterwards
against a count read earlier.

- `hit`: a fixed-window counter (`ADD hits 1`, the returned value decides).
- `admit`: consecutive failures of one login, with a per-window allowance, in one item
  and one conditional write (see `ConsecutiveLimit`).

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
from datetime import timedelta
from typing import TYPE_CHECKING, NamedTuple

from clientarea import clock, config, telemetry
from clientarea.errors import RateLimited
from clientarea.storage import throttling as store

if TYPE_CHECKING:
    from clientarea.storage.unit_of_work import Transaction


class Limit(NamedTuple):
    name: str
    max_hits: int
    window_seconds: int


def _window(window_seconds: int) -> tuple[int, int]:
    """`(window index, seconds until it ends)` for now."""
    now = clock.epoch(clock.now())
    index = now // window_seconds
    return index, (index + 1) * window_seconds - now


def _hashed(name: str, key: str) -> str:
    return hashlib.sha256(f"{name}:{key}".encode()).hexdigest()[:32]


def _key(limit: Limit, key: str, index: int) -> str:
    return f"{limit.name}#{_hashed(limit.name, key)}#{index}"


def counter_key(limit: Limit, key: str) -> tuple[str, int]:
    """`(item key, seconds left in the window)` of `key`'s counter now (to read it)."""
    index, remaining = _window(limit.window_seconds)
    return _key(limit, key, index), remaining


class Hit(NamedTuple):
    """One counted attempt: `give_back` un-counts it, in the caller's transaction, once
    the attempt turned out to be one the limit is not about (a successful login)."""

    pk: str
    ttl_seconds: int

    def give_back(self, tx: Transaction) -> None:
        # The expiry is set again: should the window's item be gone, this one must expire too.
        store.give_back(tx, self.pk, clock.now() + timedelta(seconds=self.ttl_seconds))


def hit(limit: Limit, key: str, *, raise_over_limit: bool = True) -> Hit:
    """Count one attempt; raise RateLimited once the window's allowance is spent
    (unless the caller only records)."""
    allowed, hit_ = _count(limit, key)
    if raise_over_limit and not allowed:
        raise RateLimited(retry_after=_window(limit.window_seconds)[1])
    return hit_


def take(limit: Limit, key: str) -> bool:
    """Count one attempt; True while it is within the window's allowance. The counter's
    value after the atomic ADD decides, so parallel callers never share one slot."""
    return _count(limit, key)[0]


def _count(limit: Limit, key: str) -> tuple[bool, Hit]:
    index, remaining = _window(limit.window_seconds)
    pk = _key(limit, key, index)
    keep = remaining + 60  # kept a minute past the window, then DynamoDB may drop it
    hits = store.count(pk, clock.now() + timedelta(seconds=keep))
    return hits <= limit.max_hits, Hit(pk, keep)


# --- consecutive failures (login) ------------------------------------------------------------


class ConsecutiveLimit(NamedTuple):
    """At most `per_window` attempts per fixed window of `window_seconds`, and at most
    `consecutive` in a row, until a success (or a password reset) clears the item.

    One item per key, `<name>#<hashed key>`: `consecutive` counts every attempt admitted
    since the item was last cleared, and an attribute named after the current window,
    `w<window index>`, those of that window (the previous window's is removed by the
    first attempt of the next). A refused attempt writes nothing, so attempts made
    while paused or locked never count towards the lock. Each attribute `w…` holds at
    least one of the at most `consecutive` admitted attempts, so the item stays small.
    It expires `keep_seconds` after the last admitted attempt.
    """

    name: str
    per_window: int
    window_seconds: int
    consecutive: int
    keep_seconds: int

    def item_key(self, key: str) -> str:
        return f"{self.name}#{_hashed(self.name, key)}"


def admit(limit: ConsecutiveLimit, key: str) -> None:
    """Count one attempt before it is evaluated, if both allowances have room: one
    conditional UpdateItem. Refused (RateLimited, with the seconds until the window
    ends) when the window's allowance is spent or the consecutive limit reached; the two
    cases answer alike. The caller's success deletes the item (`clear`)."""
    index, remaining = _window(limit.window_seconds)
    admitted = store.admit(
        limit.item_key(key),
        index,
        per_window=limit.per_window,
        consecutive=limit.consecutive,
        expires=clock.now() + timedelta(seconds=limit.keep_seconds),
    )
    if not admitted:
        raise RateLimited(retry_after=remaining)


def clear(tx: Transaction, limit: ConsecutiveLimit, key: str) -> None:
    """Delete `key`'s attempts (in the caller's transaction) to start the count over."""
    store.clear(tx, limit.item_key(key))


# At most this many unasked mails a day to one address, whatever route asked for them.
UNASKED_MAILS_PER_ADDRESS = Limit("unasked_mail_to", 3, 24 * 3600)


def unasked_mails_per_ip() -> Limit:
    return Limit("unasked_mail_ip", config.ip_requests_per_hour(), 3600)


def mailbox_key(address: str) -> str:
    """The mailbox an address reaches, as far as the budget of unasked mail goes: one
    however it is capitalised, and one for all its sub-addresses (RFC 5233's `+tag`,
    which most providers deliver to the untagged mailbox), so tags earn no new budget."""
    local, _, domain = address.casefold().rpartition("@")
    return f"{local.split('+', 1)[0] or local}@{domain}"


def may_mail_unasked(to: str, *, client_ip: str | None) -> bool:
    """Whether one more unasked mail may go to `to` (a normalised address) on behalf of
    `client_ip` (None: no client, e.g. inbound mail). Counts both; the caller skips the
    mail when False and answers exactly as if it had been sent (nothing to enumerate).
    The address is counted only when the IP may still send: requests an IP makes past
    its own limit do not spend the target's daily allowance as well."""
    allowed = (client_ip is None or take(unasked_mails_per_ip(), client_ip)) and take(
        UNASKED_MAILS_PER_ADDRESS, mailbox_key(to)
    )
    if not allowed:
        telemetry.count(telemetry.Metric.UNASKED_MAIL_WITHHELD)
    return allowed
