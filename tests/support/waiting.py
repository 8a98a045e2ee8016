"""Waiting for what the asynchronous parts (the dev server's queue consumers, a
workflow moto runs in the background) will make true."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until[T](
    predicate: Callable[[], T],
    *,
    timeout: float = 10,
    interval: float = 0.1,
    message: str | Callable[[], str] = "",
) -> T:
    """Call `predicate` until it returns something true, and return that; after `timeout`
    seconds an AssertionError (with `message`, or a callable that builds it). The
    predicate runs at least once, so `timeout=0` is a single look."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(text or f"still false after {timeout} s: {result!r}")
        time.sleep(interval)
