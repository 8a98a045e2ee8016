"""The contact email ("Account → My details"): changing it, and the other addresses
an account authorises to open tickets by email.

```mermaid
stateDiagram-v2
    [*] --> pending: POST /account/email-change (current password; notice to the old address)
    pending --> superseded: a newer request (only the newest link works)
    pending --> expired: 2 hours pass
    pending --> dead: password changed or reset, or the contact email changed otherwise
    pending --> switched: POST /account/email-change/confirm (notices to both addresses)
    pending --> pending: confirm finds the address taken meanwhile (409, nothing changes)
    switched --> [*]
```

A pending change is one token item `email_change#<client_number>` (so a newer request
overwrites, i.e. supersedes, the older link) whose payload binds it to the account's
state at request time: the new address, the old address and the session generation.
The switch itself is `accounts.switch_contact_email`: one transaction that moves the
email uniqueness claim (two accounts racing for one address: exactly one wins), uses
the link up, kills any pending reset link, and drops the new address from the
account's explicit senders (the contact email is always authorised).

Authorised senders live twice, written together in one transaction: in the account's
`authorised_emails` map (what the owner lists) and as a `sender#<address>` claim (so
that inbound mail from an address maps to exactly one account).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import size
from pynamodb.transactions import TransactWrite

from clientarea import accounts, clock, telemetry, throttling, tokens
from clientarea.errors import (
    AlreadyAuthorised,
    Conflict,
    EmailTaken,
    EmailUnchanged,
    InvalidEmail,
    NotFound,
    TokenInvalid,
    TooManyAuthorisedEmails,
)
from clientarea.mail import outbox
from clientarea.tables import AccountModel, ClaimModel, SenderModel, transaction

CHANGE_TTL = timedelta(hours=2)
MAX_AUTHORISED_EMAILS = 20
# At most this many change requests (and so confirmation mails) per account and hour:
# a signed-in client must not be able to use us to mail arbitrary addresses.
REQUESTS_PER_ACCOUNT_PER_HOUR = 5


def requests_per_account() -> throttling.Limit:
    return throttling.Limit("email_change_account", REQUESTS_PER_ACCOUNT_PER_HOUR, 3600)


# --- changing the contact email ----------------------------------------------------------


def request_change(
    client_number: int, new_email: str, current_password: str, *, client_ip: str
) -> None:
    """Re-authenticate, then send a 2-hour confirmation link to the new address and a
    notice to the old one. The contact email does not change here."""
    address = accounts.normalise_email(new_email)
    account = accounts.get_account(client_number)
    if address.casefold() == account.email.casefold():
        raise EmailUnchanged
    accounts.check_current_password(account, current_password, client_ip=client_ip)
    throttling.hit(requests_per_account(), str(client_number))
    # Issued (so superseding any older link) whether or not the address is free: the
    # account's state and the old address's mail are the same in both cases.
    issued = tokens.issue(
        tokens.Purpose.EMAIL_CHANGE,
        str(client_number),
        CHANGE_TTL,
        payload={
            "new_email": address,
            "old_email": account.email,
            "generation": str(int(account.session_generation)),
        },
    )
    if not _held_by_another_account(address, client_number):
        outbox.send(
            "email_change_confirm",
            address,
            account.locale,
            full_name=account.full_name,
            new_email=address,
            link=outbox.link("/email-change/confirm", issued.token),
            expires_at=clock.iso(issued.expires_at),
            valid_for_seconds=int(CHANGE_TTL.total_seconds()),
        )
    # Else: the address is another account's contact email. The requester gets the same
    # 202 and their old address the same notice, so neither tells them the address is
    # registered; its owner gets nothing (a link that can only fail would be noise).
    outbox.send(
        "email_change_requested",
        account.email,
        account.locale,
        full_name=account.full_name,
        new_email=address,
        requested_at=clock.iso(clock.now()),
        reset_link=outbox.page("/forgot-password"),
    )
    telemetry.count(telemetry.Metric.EMAIL_CHANGE_REQUESTED)


def _held_by_another_account(address: str, client_number: int) -> bool:
    try:
        claim = ClaimModel.get(accounts.email_claim_key(address), consistent_read=True)
    except DoesNotExist:
        return False
    return int(claim.client_number) != client_number


def confirm_change(token: str, *, client_ip: str) -> accounts.AccountView:
    """Switch the contact email a live link stands for; notices to both addresses."""
    valid = tokens.check(tokens.Purpose.EMAIL_CHANGE, token, client_ip=client_ip)
    try:
        account, old_email = _switch(valid)
    except Conflict:
        # Something else changed the account between our read and the write (a link
        # used by a racing request, a sender added): look again, once.
        valid = tokens.check(tokens.Purpose.EMAIL_CHANGE, token, client_ip=client_ip)
        account, old_email = _switch(valid)
    telemetry.count(telemetry.Metric.EMAIL_CHANGE_COMPLETED)
    changed = {
        "full_name": account.full_name,
        "old_email": old_email,
        "new_email": account.email,
        "changed_at": clock.iso(clock.now()),
        "reset_link": outbox.page("/forgot-password"),
    }
    for address in (old_email, account.email):
        outbox.send("email_changed", address, account.locale, **changed)
    return accounts.view(account)


def _switch(valid: tokens.ValidToken) -> tuple[AccountModel, str]:
    payload = valid.payload
    try:
        account = accounts.get_account(valid.subject)
    except NotFound as exc:
        raise TokenInvalid from exc
    generation = int(payload["generation"])
    # The link stands for a change from this address, by this owner: it dies if the
    # contact email changed otherwise (manual recovery) or the password was changed or
    # reset since (the notice to the old address advises exactly that).
    if account.email != payload["old_email"] or int(account.session_generation) != generation:
        raise TokenInvalid
    old_email = account.email

    def use_link(tx: TransactWrite) -> None:
        tx.delete(valid.item, condition=valid.consume_condition())

    accounts.switch_contact_email(
        account, payload["new_email"], expected_generation=generation, also=use_link
    )
    return account, old_email


# --- authorised senders ------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorisedEmail:
    email: str
    added_at: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_authorised(client_number: int) -> list[AuthorisedEmail]:
    """The addresses the account authorised explicitly, oldest first (the contact
    email is authorised implicitly and is not an entry)."""
    senders = accounts.authorised_senders(accounts.get_account(client_number))
    entries = [AuthorisedEmail(entry["email"], entry["added_at"]) for entry in senders.values()]
    return sorted(entries, key=lambda entry: (entry.added_at, entry.email.casefold()))


def authorise(client_number: int, email: str) -> AuthorisedEmail:
    """Authorise one more sender address, claimed for this account in the same write."""
    address = accounts.normalise_email(email)
    key = address.casefold()
    account = accounts.get_account(client_number)
    senders = accounts.authorised_senders(account)
    if key == account.email.casefold() or key in senders:
        raise AlreadyAuthorised
    if len(senders) >= MAX_AUTHORISED_EMAILS:
        raise TooManyAuthorisedEmails(limit=MAX_AUTHORISED_EMAILS)
    entry = AuthorisedEmail(address, clock.iso(clock.now()))
    slot = AccountModel.authorised_emails[key]
    try:
        with transaction() as tx:
            tx.update(
                account,
                actions=[slot.set(entry.as_dict())],
                # As read: same contact email, still no such entry, still room.
                condition=(AccountModel.email == account.email)
                & slot.does_not_exist()
                & (size(AccountModel.authorised_emails) < MAX_AUTHORISED_EMAILS),
            )
            tx.save(
                SenderModel(
                    accounts.sender_claim_key(address),
                    client_number=client_number,
                    email=address,
                    added_at=clock.now(),
                ),
                condition=SenderModel.pk.does_not_exist(),
            )
    except TransactWriteError as exc:
        raise _why_not_authorised(client_number, address) from exc
    return entry


def _why_not_authorised(client_number: int, address: str) -> Exception:
    """Why the add failed, asked afresh (pynamodb groups a transaction's items by kind,
    so the cancellation reasons' positions are not worth relying on)."""
    try:
        claim = SenderModel.get(accounts.sender_claim_key(address), consistent_read=True)
    except DoesNotExist:
        claim = None
    if claim is not None and int(claim.client_number) != client_number:
        # One account per sender address: inbound mail must map to exactly one account.
        return EmailTaken()
    senders = accounts.authorised_senders(accounts.get_account(client_number))
    if claim is not None or address.casefold() in senders:
        return AlreadyAuthorised()
    if len(senders) >= MAX_AUTHORISED_EMAILS:
        return TooManyAuthorisedEmails(limit=MAX_AUTHORISED_EMAILS)
    # The contact email changed meanwhile: let the caller look again.
    return Conflict()


def revoke(client_number: int, email: str) -> None:
    """Remove an authorised sender and its claim; 404 if the account has no such entry."""
    try:
        key = accounts.normalise_email(email).casefold()
    except InvalidEmail as exc:
        raise NotFound from exc  # nothing that is not an address can be an entry
    account = accounts.get_account(client_number)
    if key not in accounts.authorised_senders(account):
        raise NotFound
    slot = AccountModel.authorised_emails[key]
    try:
        with transaction() as tx:
            tx.update(account, actions=[slot.remove()], condition=slot.exists())
            tx.delete(
                SenderModel(accounts.sender_claim_key(key)),
                condition=SenderModel.client_number == client_number,
            )
    except TransactWriteError as exc:
        raise NotFound from exc  # removed by a racing request
