"""Settings every function reads from its environment (set by template.yaml).

Read at call time rather than import time so that tests and the dev server can set the
environment before the first request without import-order tricks.
"""

from __future__ import annotations

import os
import re


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"environment variable {name} is not set")
    return value


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def accounts_table() -> str:
    return os.environ.get("ACCOUNTS_TABLE", "clientarea-accounts")


def sessions_table() -> str:
    return os.environ.get("SESSIONS_TABLE", "clientarea-sessions")


def tokens_table() -> str:
    return os.environ.get("TOKENS_TABLE", "clientarea-tokens")


def rate_limits_table() -> str:
    return os.environ.get("RATE_LIMITS_TABLE", "clientarea-rate-limits")


def mail_queue_url() -> str:
    return _required("MAIL_QUEUE_URL")


def reset_requests_queue_url() -> str:
    return _required("RESET_REQUESTS_QUEUE_URL")


def frontend_url() -> str:
    """Where emailed links point; never derived from a request's Host header."""
    return _required("FRONTEND_URL").rstrip("/")


_ORIGIN = re.compile(r"^https?://[^/\s*]+$")


def allowed_origins() -> tuple[str, ...]:
    """The browser origins the API answers CORS for (`ALLOWED_ORIGINS`, comma-separated,
    from the template's AllowedOrigins). Unset: none, so no browser may read an answer.

    Read once per execution environment, when `clientarea.web.create_app()` builds the
    resolver: Lambda starts new environments when a function's configuration changes.
    A value that is not an origin (`*`, a path, `null`) fails that cold start loudly
    rather than opening or silently closing the API."""
    raw = os.environ.get("ALLOWED_ORIGINS", "")
    origins = tuple(origin.strip() for origin in raw.split(",") if origin.strip())
    for origin in origins:
        if not _ORIGIN.match(origin):
            raise RuntimeError(
                f"ALLOWED_ORIGINS: {origin!r} is not an origin (scheme://host[:port])"
            )
    return origins


def sender_address() -> str:
    return _required("SENDER_ADDRESS")


def mail_configuration_set() -> str:
    """The SES configuration set every mail is sent through: its event destination
    reports bounces and complaints (clientarea.bounces)."""
    return _required("MAIL_CONFIGURATION_SET")


def session_ttl_seconds() -> int:
    return _int("SESSION_TTL_SECONDS", 12 * 3600)


def session_idle_timeout_seconds() -> int:
    """A session without a recorded use for this long is over (30 minutes by default)."""
    return _int("SESSION_IDLE_TIMEOUT_SECONDS", 30 * 60)


def ip_requests_per_hour() -> int:
    """Per-address allowance on the throttled routes (the dev server raises it)."""
    return _int("IP_REQUESTS_PER_HOUR", 100)


def services_table() -> str:
    return os.environ.get("SERVICES_TABLE", "clientarea-services")


def orders_table() -> str:
    return os.environ.get("ORDERS_TABLE", "clientarea-orders")


def cession_state_machine_arn() -> str:
    return _required("CESSION_STATE_MACHINE_ARN")


def cession_timeout_seconds() -> int:
    """How long both parties have to confirm a cession (the state machine waits as long)."""
    return _int("CESSION_TIMEOUT_SECONDS", 7 * 24 * 3600)


# --- support (clientarea.support, clientarea.intake) ------------------------------------


def tickets_table() -> str:
    return os.environ.get("TICKETS_TABLE", "clientarea-tickets")


def mail_bucket() -> str:
    """The private bucket SES stores inbound raw mail in (`inbound/`), and where
    attachments of ticket messages are kept (`attachments/`)."""
    return _required("MAIL_BUCKET")


def support_address() -> str:
    """Where clients write to support (the SES receipt rule's first recipient)."""
    return _required("SUPPORT_ADDRESS")


def sales_address() -> str:
    """Where anyone may write commercial questions."""
    return _required("SALES_ADDRESS")


def recovery_requests_table() -> str:
    return os.environ.get("RECOVERY_REQUESTS_TABLE", "clientarea-recovery-requests")


def recovery_audit_table() -> str:
    return os.environ.get("RECOVERY_AUDIT_TABLE", "clientarea-recovery-audit")


def recovery_bucket() -> str:
    return _required("RECOVERY_BUCKET")


def recovery_postal_address() -> str:
    """Where a legal entity posts its signed letter (shown in the requirements)."""
    return os.environ.get("RECOVERY_POSTAL_ADDRESS", "")


def recovery_retention_days() -> int:
    """How long documents are kept after a case is decided (the bucket's lifecycle rule)."""
    return _int("RECOVERY_RETENTION_DAYS", 90)
