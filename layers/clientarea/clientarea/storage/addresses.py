"""An account's addresses in the accounts table: switching the contact email (its
claim moves), the authorised senders (entries in `authorised_emails`, and a
`sender#` claim once confirmed), and the undeliverable flag bounces set.

Keys and models: clientarea.storage.accounts. Condition names (unit of work):
`accounts.ACCOUNT`, `OLD_EMAIL_CLAIM`, `NEW_EMAIL_CLAIM`, `SENDER_CLAIM`,
`accounts.EMAIL_CLAIM`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import size
from pynamodb.expressions.update import Action

from clientarea.availability import translated
from clientarea.errors import ConditionsFailed
from clientarea.storage.accounts import (
    ACCOUNT,
    EMAIL_CLAIM,
    AccountModel,
    ClaimModel,
    SenderModel,
    Undeliverable,
    account_key,
    email_claim_key,
    sender_claim_key,
)
from clientarea.storage.unit_of_work import UnitOfWork

OLD_EMAIL_CLAIM = "old email claim"
NEW_EMAIL_CLAIM = "new email claim"
SENDER_CLAIM = "sender claim"
CONFIRMED = "confirmed"  # an authorised sender's status once its link was used


def switch_email(
    uow: UnitOfWork,
    account: AccountModel,
    new_email: str,
    *,
    revoke_sessions: bool,
    expected_generation: int | None,
    listed: bool,
    confirmed: bool,
) -> None:
    """Register the switch of the contact email: the account (ACCOUNT: still the old
    address, still `expected_generation`, and `new_email` still listed as a sender or
    still not), the old claim (OLD_EMAIL_CLAIM: still this account's), the new one
    (NEW_EMAIL_CLAIM: nobody's), and the new address's sender claim if `confirmed`
    (SENDER_CLAIM). Once committed, `account` reads as switched."""
    old_email = account.email
    # A new address starts deliverable: its claim is new, and the flag goes here.
    actions: list[Action] = [
        AccountModel.email.set(new_email),
        AccountModel.email_undeliverable.remove(),
    ]
    if revoke_sessions:
        actions.append(AccountModel.session_generation.add(1))
    condition = AccountModel.email == old_email
    if expected_generation is not None:
        condition &= AccountModel.session_generation == expected_generation
    sender_key = new_email.casefold()
    sender_entry = AccountModel.authorised_emails[sender_key]
    if listed:
        actions.append(sender_entry.remove())
        condition &= sender_entry.exists()
    else:
        # Fails if the address was listed after `account` was read.
        condition &= sender_entry.does_not_exist()
    client_number = account.client_number
    uow.update(account, actions=actions, condition=condition, name=ACCOUNT)
    uow.delete(
        ClaimModel(email_claim_key(old_email)),
        condition=ClaimModel.client_number == client_number,
        name=OLD_EMAIL_CLAIM,
    )
    uow.save(
        ClaimModel(email_claim_key(new_email), client_number=client_number),
        condition=ClaimModel.pk.does_not_exist(),
        name=NEW_EMAIL_CLAIM,
    )
    if confirmed:
        uow.delete(
            SenderModel(sender_claim_key(new_email)),
            condition=SenderModel.client_number == client_number,
            name=SENDER_CLAIM,
        )

    def switched() -> None:
        account.email = new_email
        account.email_undeliverable = None
        if listed:
            senders = account.authorised_emails.as_dict() if account.authorised_emails else {}
            senders.pop(sender_key, None)
            account.authorised_emails = senders

    uow.after_commit(switched)


def _still_pending(slot: Any) -> Any:
    """The condition that an entry is not confirmed (one from before confirmation
    existed has no status at all)."""
    status = slot["status"]
    return status.does_not_exist() | (status != CONFIRMED)


def list_sender(
    uow: UnitOfWork,
    account: AccountModel,
    key: str,
    entry: dict[str, Any],
    *,
    new: bool,
    limit: int,
) -> None:
    """Write a pending entry (ACCOUNT): as read, the same contact email, and the entry
    still absent (with room for it, under `limit`) or, if not `new`, still pending."""
    slot = AccountModel.authorised_emails[key]
    condition = AccountModel.email == account.email
    if new:
        condition &= slot.does_not_exist() & (size(AccountModel.authorised_emails) < limit)
    else:
        condition &= slot.exists() & _still_pending(slot)
    uow.update(account, actions=[slot.set(entry)], condition=condition, name=ACCOUNT)


def confirm_sender(
    uow: UnitOfWork, account: AccountModel, address: str, entry: dict[str, Any], at: datetime
) -> None:
    """Mark a pending entry confirmed (ACCOUNT: same contact email, entry still there
    and pending) and claim the address for the account (SENDER_CLAIM: nobody else's;
    EMAIL_CLAIM: nobody's contact email, for mail from it is theirs)."""
    client_number = int(account.client_number)
    slot = AccountModel.authorised_emails[address.casefold()]
    uow.update(
        account,
        actions=[slot.set(entry)],
        condition=(AccountModel.email == account.email) & slot.exists() & _still_pending(slot),
        name=ACCOUNT,
    )
    # One account per sender address: inbound mail maps to exactly one client.
    uow.save(
        SenderModel(
            sender_claim_key(address), client_number=client_number, email=address, added_at=at
        ),
        condition=SenderModel.pk.does_not_exist() | (SenderModel.client_number == client_number),
        name=SENDER_CLAIM,
    )
    uow.condition_check(
        ClaimModel,
        email_claim_key(address),
        condition=ClaimModel.pk.does_not_exist(),
        name=EMAIL_CLAIM,
    )


def unlist_sender(uow: UnitOfWork, account: AccountModel, key: str, *, confirmed: bool) -> None:
    """Remove an entry (ACCOUNT: still there) and, if `confirmed`, its claim (SENDER_CLAIM)."""
    slot = AccountModel.authorised_emails[key]
    uow.update(account, actions=[slot.remove()], condition=slot.exists(), name=ACCOUNT)
    if confirmed:
        uow.delete(
            SenderModel(sender_claim_key(key)),
            condition=SenderModel.client_number == account.client_number,
            name=SENDER_CLAIM,
        )


# --- undeliverable (clientarea.bounces) ----------------------------------------------------


@translated
def mark_undeliverable(address: str, reason: str, since: datetime) -> bool:
    """Flag the address's claim and its account (one transaction; the first `since`
    stays). False if no account has it as contact email (or it changed hands meanwhile)."""
    key = email_claim_key(address)
    try:
        claim = ClaimModel.get(key, consistent_read=True, attributes_to_get=["client_number"])
    except DoesNotExist:
        return False
    flag = Undeliverable(reason=reason, since=since)  # type: ignore[no-untyped-call]
    try:
        with UnitOfWork() as uow:
            uow.update(
                ClaimModel(key),
                actions=[ClaimModel.undeliverable.set(ClaimModel.undeliverable | flag)],
                condition=ClaimModel.client_number == claim.client_number,
                name=OLD_EMAIL_CLAIM,
            )
            uow.update(
                AccountModel(account_key(int(claim.client_number))),
                actions=[
                    AccountModel.email_undeliverable.set(AccountModel.email_undeliverable | flag)
                ],
                condition=AccountModel.pk.exists(),
                name=ACCOUNT,
            )
    except ConditionsFailed:
        return False
    return True


@translated
def is_undeliverable(address: str) -> bool:
    """Whether the address's claim carries the undeliverable flag."""
    try:
        claim = ClaimModel.get(
            email_claim_key(address), consistent_read=True, attributes_to_get=["undeliverable"]
        )
    except DoesNotExist:
        return False
    return claim.undeliverable is not None
