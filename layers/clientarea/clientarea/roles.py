"""Who an account is: a client, or staff with a role. Kept apart from `accounts` so
the authorizer can decide access without importing registration and password code."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CLIENT = "client"
    SUPPORT = "support"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.SUPPORT, Role.ADMIN})
