"""Ticket numbers as people read them: `TKT-100-001`, sequential from FIRST_NUMBER.

Numbers come from an atomic counter and each ticket is written only if its number is
unused (`clientarea.storage.tickets`): a number is never given out twice.
"""

from __future__ import annotations

import re

FIRST_NUMBER = 100_001

_NUMBER = re.compile(r"\bTKT-(\d{3,9})-(\d{3})\b", re.IGNORECASE)


def format_number(value: int) -> str:
    """100001 → `TKT-100-001`: the last three digits after a dash, easy to read aloud."""
    digits = f"{value:06d}"
    return f"TKT-{digits[:-3]}-{digits[-3:]}"


def parse_number(text: str) -> str | None:
    """The canonical number in `text` (`tkt-100-001` → `TKT-100-001`), else None."""
    match = _NUMBER.search(text or "")
    if match is None:
        return None
    return format_number(int(match.group(1) + match.group(2)))


def canonical(number: str) -> str | None:
    """`number` itself in canonical form, else None (a path segment naming a ticket
    must be exactly a number, not merely contain one)."""
    found = parse_number(number)
    return found if found is not None and found == number.strip().upper() else None
