"""Authorised senders: the addresses besides the contact email from which mail opens
tickets on an account (clientarea.contact_email manages them), and which account mail
from an address belongs to.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from clientarea.accounts.identity import normalise_email
from clientarea.errors import InvalidEmail
from clientarea.storage import accounts as store
from clientarea.storage.accounts import CLAIM

if TYPE_CHECKING:
    from clientarea.storage.accounts import AccountModel


class SenderStatus(StrEnum):
    """An authorised sender is `pending` until the link mailed to it is used."""

    PENDING = "pending"
    CONFIRMED = "confirmed"


def authorised_senders(account: AccountModel) -> dict[str, dict[str, Any]]:
    """`{casefolded address: {"email", "added_at", "status"}}`: the addresses the account
    listed besides its contact email, pending or confirmed."""
    return account.authorised_emails.as_dict() if account.authorised_emails else {}


def is_confirmed_sender(entry: dict[str, Any]) -> bool:
    """Only a confirmed entry authorises; one written before confirmation existed (no
    status) is pending like any other unproven claim."""
    return entry.get("status") == SenderStatus.CONFIRMED


def confirmed_senders(account: AccountModel) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in authorised_senders(account).items() if is_confirmed_sender(v)}


def sender_link_subject(client_number: int, address: str) -> str:
    """The token subject of the one live confirmation link per account and address
    (a digest: the address itself must not be a key of the tokens table)."""
    digest = hashlib.sha256(address.casefold().encode()).hexdigest()[:32]
    return f"{client_number}-{digest}"


def account_for_sender(address: str, attributes: Sequence[str] = CLAIM) -> AccountModel | None:
    """The account that mail from `address` belongs to: the one whose contact email it
    is, else the one that confirmed it as an authorised sender; None for anyone else.
    Only `attributes` of it are read (its number, unless asked for more; a sender's
    entry is read too, to see that it was confirmed)."""
    try:
        key = normalise_email(address).casefold()
    except InvalidEmail:
        return None
    owner = store.claimant(store.email_claim_key(key))
    if owner is not None:
        return store.get_account(owner, attributes)
    owner = store.claimant(store.sender_claim_key(key))
    if owner is None:
        return None
    account = store.get_account(owner, tuple(dict.fromkeys((*attributes, "authorised_emails"))))
    if not is_confirmed_sender(authorised_senders(account).get(key, {})):
        return None  # a claim left from before confirmation existed: no proof
    return account
