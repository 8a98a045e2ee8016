"""The mail queue's message: what `outbox` puts on the queue and the mailer reads."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class OutgoingMail(BaseModel):
    """The mail queue's message shape, shared by producer and mailer."""

    kind: str
    to: str
    locale: str = "en"
    params: dict[str, Any] = Field(default_factory=dict)
    # Extra headers, only those in delivery.EXTRA_HEADERS (threading, Reply-To, and
    # `Auto-Submitted: auto-replied` for answers to inbound mail).
    headers: dict[str, str] = Field(default_factory=dict)
