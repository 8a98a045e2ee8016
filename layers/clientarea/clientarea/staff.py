"""Staff accounts as an administrator manages them: from `infra/ops.py` with AWS
credentials, never through an API route, so no session (stolen or not) can change a
staff account's password or switch one on again.

- **Disabling** sets the account's status to `disabled` and raises its session
  generation in the same write: every open session dies at once (the authorizer
  compares generations and checks the status on every request), and login answers a
  disabled account exactly as a wrong password (`accounts.login`).
- **Enabling** only sets the status back: the sessions ended by disabling stay ended.
- **Setting a password** (staff never get a reset link by mail) applies the rules every
  password follows, ends every session and lifts the login-failure lock and counters,
  as a reset by link does for clients.

Client accounts are refused by all three (`NotFound`): their owners change their own
passwords, and a lost account goes through manual recovery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from clientarea import clock, passwords
from clientarea.accounts import identity, login
from clientarea.accounts.identity import AccountStatus
from clientarea.errors import ConditionsFailed, NotFound
from clientarea.roles import STAFF_ROLES
from clientarea.storage import access as store
from clientarea.storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from clientarea.storage.accounts import AccountModel

# The write condition of every change: the item is (still) a staff account.
_STAFF = sorted(STAFF_ROLES)


class StaffMember(NamedTuple):
    """What the operator sees of a staff account (never its password hash)."""

    client_number: int
    login: str
    email: str
    role: str
    status: str
    created_at: str

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


def _member(account: AccountModel) -> StaffMember:
    return StaffMember(
        client_number=int(account.client_number),
        login=account.login,
        email=account.email,
        role=account.role,
        status=account.status,
        created_at=clock.iso(account.created_at),
    )


def find(login_or_email: str) -> AccountModel:
    """The staff account named by its login or email; NotFound for anyone else."""
    account = identity.find_by_login_or_email(login_or_email)
    if account is None or account.role not in STAFF_ROLES:
        raise NotFound(f"no staff account {login_or_email!r}")
    return account


def set_password(login_or_email: str, password: str) -> StaffMember:
    """A new password chosen by an administrator; every session of the account ends."""
    account = find(login_or_email)
    passwords.check_policy(password, login=account.login, email=account.email)
    try:
        with UnitOfWork() as uow:
            store.set_password(
                uow,
                int(account.client_number),
                passwords.hash_password(password),
                staff_roles=_STAFF,
            )
            # As a reset by email does: the pause and the lock of sign-in are lifted.
            login.clear_login_attempts(uow, email=account.email, login=account.login)
    except ConditionsFailed as exc:  # the account stopped being staff meanwhile
        raise NotFound(f"no staff account {login_or_email!r}") from exc
    return _member(find(login_or_email))


def disable(login_or_email: str) -> StaffMember:
    """Switch a staff account off and end all its sessions (idempotent)."""
    account = find(login_or_email)
    store.set_status(account, AccountStatus.DISABLED, staff_roles=_STAFF, revoke=True)
    return _member(account)


def enable(login_or_email: str) -> StaffMember:
    """Switch a disabled staff account on again; it must log in anew (idempotent)."""
    account = find(login_or_email)
    store.set_status(account, AccountStatus.ACTIVE, staff_roles=_STAFF, revoke=False)
    return _member(account)


def list_all() -> list[StaffMember]:
    """Every staff account, by login. A scan: the operator's command, never a route."""
    found = store.staff_accounts(_STAFF)
    return sorted((_member(a) for a in found), key=lambda m: m.login)
