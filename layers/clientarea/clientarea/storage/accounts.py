"""The accounts table: accounts, their uniqueness claims, and the client-number counter.

Item keys (one function builds each, used wherever the item is read or written):

- `account#<client_number>`: an account (`account_key`).
- `email#<casefolded address>`: the contact email's uniqueness claim (`email_claim_key`),
  also where the mailer reads whether the address bounces.
- `login#<NFKC-casefolded login>`: the login name's claim (`login_claim_key`).
- `sender#<casefolded address>`: a confirmed authorised sender's claim
  (`sender_claim_key`; clientarea.storage.senders writes them).
- `counter#client_number`: the counter client numbers are drawn from.

Claims are written in the same transaction as what they claim for, so two accounts
racing for one address or login cannot both win (a GSI read-then-write could).

Least privilege down to attributes: the functions that need no password hash may read
only some attributes of the table (template.yaml: a `dynamodb:Attributes` condition on
each of their statements; a read without a projection is refused), so each of their
reads names what it needs (`CLAIM`, `CONTACT`, or a caller's list); an account's key
(`pk`) always comes along, to write back to it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from pynamodb.attributes import (
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from clientarea import config
from clientarea.availability import translated
from clientarea.errors import NotFound
from clientarea.storage.base import Model, TableMeta
from clientarea.storage.unit_of_work import UnitOfWork

FIRST_CLIENT_NUMBER = 100_001
# Read for a login nobody has, so that it makes the same calls as a known one.
NO_ACCOUNT = "account#0"

# What a read needs (see the module docstring).
CLAIM = ("client_number",)
CONTACT = ("client_number", "email", "locale", "full_name")  # to mail the holder

# Condition names in a unit of work (clientarea.storage.unit_of_work).
ACCOUNT = "account"
EMAIL_CLAIM = "email claim"
LOGIN_CLAIM = "login claim"


# MapAttribute is generic only in pynamodb's annotations; its __init__ is unannotated,
# so building an Undeliverable takes an ignore[no-untyped-call].
class Undeliverable(MapAttribute):  # type: ignore[type-arg]
    """Why, and since when, mail to an address is no longer sent: SES reported a hard
    bounce or a complaint for it (clientarea.bounces)."""

    reason = UnicodeAttribute()  # "bounce" | "complaint"
    since = UTCDateTimeAttribute()


class AccountModel(Model):
    """An account: `pk` is `account#<client_number>`."""

    class Meta(TableMeta):
        table_name = config.accounts_table()

    pk = UnicodeAttribute(hash_key=True)
    client_number = NumberAttribute()
    login = UnicodeAttribute()
    email = UnicodeAttribute()
    full_name = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(default="en")
    password_hash = UnicodeAttribute()
    status = UnicodeAttribute()  # AccountStatus
    role = UnicodeAttribute(default="client")  # Role
    # Raised to revoke every session at once: a session is valid only while its
    # generation equals the account's.
    session_generation = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    # Addresses allowed to open tickets by email, besides the contact email:
    # {casefolded address: {"email": as written, "added_at": ISO time, "status"}}.
    authorised_emails = MapAttribute(default=dict)  # type: ignore[var-annotated]
    # Set while the contact email is undeliverable (GET /account shows it); cleared by a
    # contact-email change.
    email_undeliverable = Undeliverable(null=True)  # type: ignore[no-untyped-call]


class ClaimModel(Model):
    """A uniqueness claim, `email#<normalized>` or `login#<login>`, owned by one account."""

    class Meta(TableMeta):
        table_name = config.accounts_table()

    pk = UnicodeAttribute(hash_key=True)
    client_number = NumberAttribute()
    # Email claims only: set with the account's `email_undeliverable`, read by the
    # mailer (by address, the only thing it knows) before every send.
    undeliverable = Undeliverable(null=True)  # type: ignore[no-untyped-call]


class SenderModel(Model):
    """An authorised sender address, `sender#<casefolded address>`, owned by one account,
    so that inbound mail from it maps to exactly one client."""

    class Meta(TableMeta):
        table_name = config.accounts_table()

    pk = UnicodeAttribute(hash_key=True)
    client_number = NumberAttribute()
    email = UnicodeAttribute()
    added_at = UTCDateTimeAttribute()


class CounterModel(Model):
    """A monotonically increasing counter (`counter#client_number`): numbers are never reused."""

    class Meta(TableMeta):
        table_name = config.accounts_table()

    pk = UnicodeAttribute(hash_key=True)
    value = NumberAttribute(default=0)


# --- keys ---------------------------------------------------------------------------------


def account_key(client_number: int | str) -> str:
    return f"account#{client_number}"


def email_claim_key(email: str) -> str:
    # One account per mailbox however the address is capitalised.
    return f"email#{email.casefold()}"


def login_claim_key(login: str) -> str:
    # NFKC as for addresses: a login typed in fullwidth letters is the same login.
    return f"login#{unicodedata.normalize('NFKC', login).casefold()}"


def sender_claim_key(email: str) -> str:
    """The claim that makes an authorised sender address belong to one account."""
    return f"sender#{email.casefold()}"


def _projection(attributes: Sequence[str] | None) -> list[str] | None:
    return None if attributes is None else list(dict.fromkeys(("pk", *attributes)))


# --- reads ----------------------------------------------------------------------------------


@translated
def get_account(client_number: int | str, attributes: Sequence[str] | None = None) -> AccountModel:
    """The account, whole, or only `attributes` of it (the others are None); NotFound."""
    try:
        return AccountModel.get(
            account_key(client_number),
            consistent_read=True,
            attributes_to_get=_projection(attributes),
        )
    except DoesNotExist as exc:
        raise NotFound from exc


@translated
def claimant(claim_key: str) -> int | None:
    """Whose a claim (`email#…`, `login#…`, `sender#…`) is: its client number, if any."""
    model = SenderModel if claim_key.startswith("sender#") else ClaimModel
    try:
        claim = model.get(claim_key, consistent_read=True, attributes_to_get=list(CLAIM))
    except DoesNotExist:
        return None
    return int(claim.client_number)


@translated
def account_by_claim(claim_key: str) -> AccountModel | None:
    """The whole account a claim names (login: always two reads, the second of a key
    nobody has when the claim does not exist, so that both cases cost the same)."""
    try:
        claim: ClaimModel | None = ClaimModel.get(claim_key, consistent_read=True)
    except DoesNotExist:
        claim = None
    key = account_key(cast(int, claim.client_number)) if claim is not None else NO_ACCOUNT
    try:
        return AccountModel.get(key, consistent_read=True)
    except DoesNotExist:
        return None


# --- writes ---------------------------------------------------------------------------------


@translated
def next_client_number() -> int:
    counter = CounterModel("counter#client_number")
    counter.update(actions=[CounterModel.value.add(1)])
    return FIRST_CLIENT_NUMBER + int(counter.value) - 1


def new_account(
    client_number: int,
    *,
    login: str,
    email: str,
    full_name: str,
    locale: str,
    password_hash: str,
    status: str,
    role: str,
    created_at: datetime,
) -> AccountModel:
    """An account not yet stored (`create` registers it with its claims)."""
    return AccountModel(
        account_key(client_number),
        client_number=client_number,
        login=login,
        email=email,
        full_name=full_name,
        locale=locale,
        password_hash=password_hash,
        status=status,
        role=role,
        session_generation=0,
        created_at=created_at,
    )


def create(uow: UnitOfWork, account: AccountModel) -> None:
    """The account and its two claims (ACCOUNT, EMAIL_CLAIM, LOGIN_CLAIM), each only
    if nobody has it."""
    client_number = account.client_number
    uow.save(account, condition=AccountModel.pk.does_not_exist(), name=ACCOUNT)
    uow.save(
        ClaimModel(email_claim_key(account.email), client_number=client_number),
        condition=ClaimModel.pk.does_not_exist(),
        name=EMAIL_CLAIM,
    )
    uow.save(
        ClaimModel(login_claim_key(account.login), client_number=client_number),
        condition=ClaimModel.pk.does_not_exist(),
        name=LOGIN_CLAIM,
    )


_SETTABLE = {
    "full_name": AccountModel.full_name,
    "phone": AccountModel.phone,
    "address": AccountModel.address,
    "locale": AccountModel.locale,
}


@translated
def update_profile(account: AccountModel, changes: dict[str, Any]) -> None:
    """Apply the given profile fields (None clears phone or address); others are ignored."""
    actions: list[Action] = [
        _SETTABLE[name].remove() if value is None else _SETTABLE[name].set(value)
        for name, value in changes.items()
        if name in _SETTABLE
    ]
    if actions:
        account.update(actions=actions, condition=AccountModel.pk.exists())
