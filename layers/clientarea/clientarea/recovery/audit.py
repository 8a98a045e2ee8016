"""A recovery case's audit trail: every step (who, when, what, from which IP) is
appended; nothing updates or deletes an entry, and the functions may only PutItem and
Query the table (`clientarea.storage.recovery`)."""

from __future__ import annotations

from typing import Any

from clientarea import clock
from clientarea.storage import recovery as store

APPLICANT = "applicant"


def entry(reference: str, action: str, actor: str, client_ip: str, **detail: Any) -> Any:
    """A new entry, to write with the step it records (None details are left out)."""
    return store.audit_entry(reference, action, actor, client_ip, detail)


def record(reference: str, action: str, actor: str, client_ip: str, **detail: Any) -> None:
    """Append an entry for a step that changes no case (staff opening one)."""
    store.append_audit(entry(reference, action, actor, client_ip, **detail))


def trail(reference: str) -> list[dict[str, Any]]:
    """The case's audit trail as staff see it, oldest first."""
    return [
        {
            "at": clock.iso(item.at),
            "action": item.action,
            "actor": item.actor,
            "source_ip": item.source_ip,
            "detail": item.detail.as_dict() if item.detail else {},
        }
        for item in store.audit_entries(reference)
    ]
