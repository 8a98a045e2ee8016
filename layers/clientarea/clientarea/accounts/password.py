"""Changing the password of a signed-in owner, and the notice every new password sends."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clientarea import clock, passwords, sessions, tokens
from clientarea.accounts.login import check_current_password
from clientarea.errors import ConditionsFailed, Conflict
from clientarea.mail import outbox
from clientarea.storage import access
from clientarea.storage import accounts as store
from clientarea.storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from clientarea.storage.accounts import AccountModel


def change_password(
    principal: sessions.Principal, current_password: str, new_password: str, *, client_ip: str
) -> None:
    """Change the password, end every other session and any pending reset link (in one
    transaction) and tell the owner. The current password is checked under the login
    throttle: a stolen session must not become a way to guess it."""
    account = store.get_account(principal.client_number)
    # The new password's rules first: refusing it says nothing about the current one, and
    # a weak choice must not spend one of the owner's counted attempts.
    passwords.check_policy(new_password, login=account.login, email=account.email)
    checked = check_current_password(account, current_password, client_ip=client_ip)
    generation = int(account.session_generation)
    try:
        with UnitOfWork() as uow:
            checked.settle(uow)
            access.set_password(
                uow,
                principal.client_number,
                passwords.hash_password(new_password),
                generation=generation,
            )
            # The caller's own session moves to the new generation; all others die.
            sessions.keep_across_generation(
                uow, principal.client_number, principal.session_digest, generation + 1
            )
            # And any pending reset link: it must not set a password over the one just chosen.
            tokens.revoke_in(uow, tokens.Purpose.PASSWORD_RESET, str(principal.client_number))
    except ConditionsFailed as exc:
        raise Conflict from exc
    notify_password_changed(account)


def notify_password_changed(account: AccountModel) -> None:
    outbox.send(
        "password_changed",
        account.email,
        account.locale,
        full_name=account.full_name,
        changed_at=clock.iso(clock.now()),
        reset_link=outbox.page("/forgot-password"),
    )
