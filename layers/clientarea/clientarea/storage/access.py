"""Who may sign in to an account, in the accounts table: its password hash, its session
generation (raised to end every session at once), its status, and the staff accounts
(clientarea.storage.accounts has the models and keys).

Condition names (unit of work): `accounts.ACCOUNT`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pynamodb.expressions.update import Action

from clientarea.availability import translated
from clientarea.storage.accounts import ACCOUNT, AccountModel, account_key
from clientarea.storage.unit_of_work import UnitOfWork


@translated
def staff_accounts(roles: Sequence[str]) -> list[AccountModel]:
    """Every account whose role is one of `roles`. A scan: the operator's command only."""
    condition = AccountModel.role.is_in(*roles) & AccountModel.pk.startswith("account#")
    return list(AccountModel.scan(filter_condition=condition))


def set_password(
    uow: UnitOfWork,
    client_number: int | str,
    password_hash: str,
    *,
    generation: int | None = None,
    staff_roles: Sequence[str] | None = None,
) -> None:
    """A new password hash; every session of the account ends (the generation moves on).
    With `generation`, only if it is still the account's (set to generation + 1); with
    `staff_roles`, only while the account has one of them. Registered as ACCOUNT."""
    actions: list[Action] = [AccountModel.password_hash.set(password_hash)]
    condition: Any
    if generation is None:
        actions.append(AccountModel.session_generation.add(1))
        condition = AccountModel.pk.exists()
    else:
        actions.append(AccountModel.session_generation.set(generation + 1))
        condition = AccountModel.session_generation == generation
    if staff_roles is not None:
        condition = AccountModel.role.is_in(*staff_roles)
    account = AccountModel(account_key(client_number))
    uow.update(account, actions=actions, condition=condition, name=ACCOUNT)


def revoke_sessions(uow: UnitOfWork, client_number: int | str) -> None:
    """Raise the account's generation: every session of it ends (ACCOUNT)."""
    uow.update(
        AccountModel(account_key(client_number)),
        actions=[AccountModel.session_generation.add(1)],
        condition=AccountModel.pk.exists(),
        name=ACCOUNT,
    )


def require_generation(uow: UnitOfWork, account: AccountModel) -> None:
    """A read-only check that the account's generation is still the one read (ACCOUNT):
    concurrent logins do not conflict with each other."""
    uow.condition_check(
        AccountModel,
        account.pk,
        condition=AccountModel.session_generation == account.session_generation,
        name=ACCOUNT,
    )


@translated
def set_status(
    account: AccountModel, status: str, *, staff_roles: Sequence[str], revoke: bool
) -> None:
    """Set a staff account's status (and end its sessions if `revoke`), only while it is staff."""
    actions: list[Action] = [AccountModel.status.set(status)]
    if revoke:
        actions.append(AccountModel.session_generation.add(1))
    account.update(actions=actions, condition=AccountModel.role.is_in(*staff_roles))
