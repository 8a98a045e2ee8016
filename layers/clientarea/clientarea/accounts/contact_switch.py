"""Switching an account's contact (and login) email, as one part of a caller's unit of
work: a confirmed change (clientarea.contact_email) and an approved manual recovery
(clientarea.recovery) each add their own operations to the same transaction.

    try:
        with UnitOfWork() as uow:
            contact_switch.switch_contact_email(uow, account, new_email, revoke_sessions=True)
            ...  # the caller's own operations: using a link up, closing a case
    except ConditionsFailed as exc:
        raise contact_switch.failure(exc) from exc
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clientarea import tokens
from clientarea.accounts.senders import authorised_senders, is_confirmed_sender, sender_link_subject
from clientarea.errors import ConditionsFailed, Conflict, DomainError, EmailTaken
from clientarea.storage import addresses

if TYPE_CHECKING:
    from clientarea.storage.accounts import AccountModel
    from clientarea.storage.unit_of_work import UnitOfWork


def switch_contact_email(
    uow: UnitOfWork,
    account: AccountModel,
    new_email: str,
    *,
    revoke_sessions: bool = False,
    expected_generation: int | None = None,
) -> None:
    """Make `new_email` the contact (and login) email in `uow`: the account, both
    uniqueness claims, and the death of any pending reset link. With
    `expected_generation`, the switch happens only if no password change or reset has
    happened since (a link issued before one must not outlive it).

    The contact email is always an authorised sender, so if the account had authorised
    `new_email` explicitly, that entry (with its pending link) and its sender claim go in
    the same transaction.

    The new address starts deliverable (`email_undeliverable` cleared): callers that
    notify the old address check `contact_email_deliverable` before switching. Once the
    unit is committed, `account` reads as switched; if it is refused, `failure` says why.
    """
    sender_key = new_email.casefold()
    listed = authorised_senders(account).get(sender_key)
    addresses.switch_email(
        uow,
        account,
        new_email,
        revoke_sessions=revoke_sessions,
        expected_generation=expected_generation,
        listed=listed is not None,
        # Only a confirmed entry has a sender claim (written at its confirmation).
        confirmed=listed is not None and is_confirmed_sender(listed),
    )
    client_number = int(account.client_number)
    tokens.revoke_in(uow, tokens.Purpose.PASSWORD_RESET, str(client_number))
    if listed is not None:
        # A pending confirmation link for the new contact address dies with it.
        link = sender_link_subject(client_number, new_email)
        tokens.revoke_in(uow, tokens.Purpose.SENDER_CONFIRMATION, link)


def failure(exc: ConditionsFailed) -> DomainError:
    """What a refused switch means: EmailTaken if another account holds the new address
    by now, else Conflict (the account, or the caller's part, changed meanwhile)."""
    if addresses.NEW_EMAIL_CLAIM in exc.failed:
        return EmailTaken()
    return Conflict()
