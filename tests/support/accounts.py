"""Accounts for tests: a fresh address, a verified account, a session, a staff session."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from tests.clients import ApiClient, Reply
from tests.support.replies import expect_error

PASSWORD = "correct horse battery staple 9"
DEV_STAFF = ("staff@example.com", "clientarea-dev-password")  # seeded by the dev server
DEV_ADMIN = ("admin@example.com", "clientarea-dev-password")  # role admin, seeded too


def fresh_email(prefix: str = "user") -> str:
    """An address no other test (nor an earlier run on the shared dev server) used."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def register_and_verify(
    client: ApiClient,
    address: str,
    *,
    password: str = PASSWORD,
    locale: str = "en",
    login: str | None = None,
    full_name: str = "Test User",
) -> dict[str, Any]:
    """Register `address` and follow the mailed link: {client_number, login}."""
    body = {"email": address, "password": password, "full_name": full_name, "locale": locale}
    if login:
        body["login"] = login
    assert client.post("/auth/register", body).status == 202
    token = client.mail_link_token(address)
    reply = client.post("/auth/verify-email", {"token": token})
    assert reply.status == 200, reply.body
    return reply.json()


def log_in(client: ApiClient, login: str, password: str = PASSWORD) -> str:
    reply = client.post("/auth/login", {"login": login, "password": password})
    assert reply.status == 200, reply.body
    return reply.json()["session_token"]


def new_account(client: ApiClient, address: str | None = None, **fields: Any) -> dict[str, Any]:
    """A verified account, signed in: {client_number, login, email, token}. `fields` go to
    `register_and_verify` (password, locale, login, full_name)."""
    address = address or fresh_email()
    created = register_and_verify(client, address, **fields)
    password = fields.get("password", PASSWORD)
    return {**created, "email": address, "token": log_in(client, address, password)}


def provision_staff(role: str = "support", *, full_name: str = "Agent") -> str:
    """A staff account provisioned in-process (as `make create-staff` does); its login."""
    from clientarea.accounts import registration
    from clientarea.roles import Role

    login = f"agent{uuid.uuid4().hex[:8]}"
    registration.provision(
        email=f"{login}@example.com",
        password=PASSWORD,
        full_name=full_name,
        login=login,
        role=Role(role),
    )
    return login


_REUSED: dict[tuple[str, str], str] = {}


def staff_token(client: ApiClient, role: str = "support", *, reuse: bool = False) -> str:
    """A staff session (role `support`, or `admin`: only admins approve manual-recovery
    cases): the dev server's seeded account over HTTP, a freshly provisioned one
    in-process. `reuse`: over HTTP, one session per server and role for the whole run
    (a login costs an argon2 hash), while it lasts: other tests' logins as the same
    seeded account can end it (an account keeps only so many sessions)."""
    if client.transport != "http":
        return log_in(client, provision_staff(role))
    key = (getattr(client, "base_url", ""), role)
    if not reuse or key not in _REUSED or client.get("/staff/me", token=_REUSED[key]).status != 200:
        _REUSED[key] = log_in(client, *(DEV_ADMIN if role == "admin" else DEV_STAFF))
    return _REUSED[key]


def admin_token(client: ApiClient, *, reuse: bool = False) -> str:
    return staff_token(client, "admin", reuse=reuse)


def guess_until_locked(client: ApiClient, email: str, attempt: Callable[[str], Reply]) -> None:
    """Five wrong passwords through `attempt` (a route that asks for the password of the
    account whose address is `email`) are five failed sign-ins: then the right password
    is refused there too, for a while, and so is signing in with it."""
    for _ in range(5):
        expect_error(attempt("a guess, not the password"), 401, "invalid_credentials")
    limited = attempt(PASSWORD)
    expect_error(limited, 429, "rate_limited")
    assert int(limited.header("Retry-After") or 0) > 0
    signing_in = client.post("/auth/login", {"login": email, "password": PASSWORD})
    expect_error(signing_in, 429, "rate_limited")
