"""Assertions on what the API answered."""

from __future__ import annotations

from typing import Any

from tests.clients import Reply


def expect_error(reply: Reply, status: int, code: str) -> dict[str, Any]:
    """Assert the contract's error shape ({code, message} with this status) and return it."""
    assert reply.status == status, (reply.status, reply.body[:300])
    body = reply.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"].strip(), body
    return body
