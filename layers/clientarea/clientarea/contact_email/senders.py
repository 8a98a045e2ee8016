"""Authorised senders ("Account → My details"): the other addresses an account
authorises to open tickets by email.

An authorised sender needs proof of its mailbox:

```mermaid
stateDiagram-v2
    [*] --> pending: POST /account/authorised-emails (a 2-hour link to that address)
    pending --> pending: asked again (a fresh link; the older one dies)
    pending --> confirmed: POST /account/authorised-emails/confirm (the link, no session)
    pending --> pending: confirm finds the address another account's (409, nothing changes)
    pending --> [*]: DELETE (the link dies too), or it becomes the contact email
    confirmed --> [*]: DELETE, or it becomes the contact email
```

A listed address lives in the account's `authorised_emails` map with its status; only
at confirmation is it also written as a `sender#<address>` claim (in the same
transaction), so one address belongs to at most one account and inbound mail maps only
to an account whose mailbox owner proved it (`accounts.senders.account_for_sender`). Asking
answers the same whether or not the address is anyone's; the mail that carries the link
names the client number only (the account holder's typed name is not proof of anything
to that mailbox) and counts against the address's unasked-mail budget.
"""

from datetime import timedelta
from typing import Any, NamedTuple

from clientarea import clock, throttling, tokens
from clientarea.accounts import identity
from clientarea.accounts import senders as sender_rules
from clientarea.accounts.senders import SenderStatus
from clientarea.errors import (
    AlreadyAuthorised,
    ConditionsFailed,
    Conflict,
    EmailTaken,
    InvalidEmail,
    NotFound,
    TokenInvalid,
    TooManyAuthorisedEmails,
)
from clientarea.mail import outbox
from clientarea.storage import accounts as account_store
from clientarea.storage import addresses
from clientarea.storage.unit_of_work import UnitOfWork

SENDER_LINK_TTL = timedelta(hours=2)
SENDER_LINK_PAGE = "/authorised-emails/confirm"
MAX_AUTHORISED_EMAILS = 20
SENDER_REQUESTS_PER_ACCOUNT_PER_HOUR = 25


def sender_requests_per_account() -> throttling.Limit:
    """Confirmation links an account may have mailed per hour: enough to list the 20
    addresses at once, too few to use us for mailing strangers."""
    return throttling.Limit("sender_links_account", SENDER_REQUESTS_PER_ACCOUNT_PER_HOUR, 3600)


class AuthorisedEmail(NamedTuple):
    email: str
    added_at: str
    status: str

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


def _entry(raw: dict[str, Any]) -> AuthorisedEmail:
    status = (
        SenderStatus.CONFIRMED.value
        if sender_rules.is_confirmed_sender(raw)
        else SenderStatus.PENDING.value
    )
    return AuthorisedEmail(raw["email"], raw["added_at"], status)


def list_authorised(client_number: int) -> list[AuthorisedEmail]:
    """The addresses the account listed, pending or confirmed, oldest first (the contact
    email is authorised implicitly and is not an entry)."""
    senders = sender_rules.authorised_senders(identity.get_account(client_number))
    entries = [_entry(raw) for raw in senders.values()]
    return sorted(entries, key=lambda entry: (entry.added_at, entry.email.casefold()))


def request_authorisation(client_number: int, email: str, *, client_ip: str) -> AuthorisedEmail:
    """List an address as pending and mail it a 2-hour confirmation link; asking again
    for a pending address sends a fresh link (the older one dies).

    The answer is the same whether or not the address is anyone's: whose it is decides
    only at confirmation (`409 email_taken`), by its mailbox's owner. The link is mailed
    within the unasked-mail budget of the address and of the caller's IP; beyond it the
    entry is listed all the same and no mail goes out.
    """
    address = identity.normalise_email(email)
    key = address.casefold()
    account = identity.get_account(client_number)
    senders = sender_rules.authorised_senders(account)
    listed = senders.get(key)
    if key == account.email.casefold() or (listed and sender_rules.is_confirmed_sender(listed)):
        raise AlreadyAuthorised
    if listed is None and len(senders) >= MAX_AUTHORISED_EMAILS:
        raise TooManyAuthorisedEmails(limit=MAX_AUTHORISED_EMAILS)
    throttling.hit(sender_requests_per_account(), str(client_number))
    if listed:
        address = listed["email"]  # the entry as first written, however it is typed now
    entry = AuthorisedEmail(
        address,
        listed["added_at"] if listed else clock.iso(clock.now()),
        SenderStatus.PENDING.value,
    )
    link_item, issued = tokens.prepare(
        tokens.Purpose.SENDER_CONFIRMATION,
        sender_rules.sender_link_subject(client_number, address),
        SENDER_LINK_TTL,
        payload={"client_number": str(client_number), "email": address},
    )
    # Counted before anything is stored: a failure here leaves nothing half done.
    mail_it = throttling.may_mail_unasked(address, client_ip=client_ip)
    try:
        with UnitOfWork() as uow:
            # As read: the same contact email, and the entry still absent (with room for
            # it) or still pending.
            addresses.list_sender(
                uow,
                account,
                key,
                entry.as_dict(),
                new=listed is None,
                limit=MAX_AUTHORISED_EMAILS,
            )
            tokens.save_in(uow, link_item)  # overwrites, so kills, an older link for it
    except ConditionsFailed as exc:
        raise Conflict from exc  # the list changed meanwhile: the caller may ask again
    if mail_it:
        # Nothing the account holder typed goes to an address not yet proven theirs:
        # the mail names the client number, never the account's name.
        outbox.send_link(
            "authorised_sender_confirm",
            address,
            account.locale,
            SENDER_LINK_PAGE,
            issued,
            email=address,
            client_number=int(account.client_number),
        )
    return entry


def confirm_authorisation(token: str, *, client_ip: str) -> AuthorisedEmail:
    """Confirm the address a live link stands for (no session: the link, opened from
    that mailbox, is the proof) and claim it for the account, in one transaction."""
    valid = tokens.check(tokens.Purpose.SENDER_CONFIRMATION, token, client_ip=client_ip)
    try:
        return _confirm(valid)
    except Conflict:
        # The account changed between our read and the write (another entry added or
        # removed): look again, once.
        valid = tokens.check(tokens.Purpose.SENDER_CONFIRMATION, token, client_ip=client_ip)
        return _confirm(valid)


def _confirm(valid: tokens.ValidToken) -> AuthorisedEmail:
    client_number = int(valid.payload["client_number"])
    address = str(valid.payload["email"])
    key = address.casefold()
    try:
        account = identity.get_account(client_number)
    except NotFound as exc:
        raise TokenInvalid from exc
    listed = sender_rules.authorised_senders(account).get(key)
    if listed is None or sender_rules.is_confirmed_sender(listed):
        raise TokenInvalid  # removed since (DELETE kills the link too), or used already
    entry = AuthorisedEmail(address, listed["added_at"], SenderStatus.CONFIRMED.value)
    try:
        with UnitOfWork() as uow:
            valid.consume(uow)
            addresses.confirm_sender(uow, account, address, entry.as_dict(), clock.now())
    except ConditionsFailed as exc:
        raise _why_not_confirmed(exc) from exc
    return entry


def _why_not_confirmed(exc: ConditionsFailed) -> Exception:
    """Why the confirmation failed, from the conditions that did: the address is
    another account's sender, or (the account being as read, so the address is not its
    own contact email) another account's contact email. Else the link was used by a
    racing request, or the account changed: the caller looks again (and then finds the
    link used, or succeeds)."""
    if addresses.SENDER_CLAIM in exc.failed or (
        account_store.EMAIL_CLAIM in exc.failed and account_store.ACCOUNT not in exc.failed
    ):
        return EmailTaken()
    return Conflict()


def revoke(client_number: int, email: str) -> None:
    """Remove a listed address, pending or confirmed: its entry, its pending link and,
    if confirmed, its claim; 404 if the account has no such entry."""
    try:
        address = identity.normalise_email(email)
    except InvalidEmail as exc:
        raise NotFound from exc  # nothing that is not an address can be an entry
    key = address.casefold()
    account = identity.get_account(client_number)
    listed = sender_rules.authorised_senders(account).get(key)
    if listed is None:
        raise NotFound
    link = sender_rules.sender_link_subject(client_number, address)
    try:
        with UnitOfWork() as uow:
            addresses.unlist_sender(
                uow, account, key, confirmed=sender_rules.is_confirmed_sender(listed)
            )
            tokens.revoke_in(uow, tokens.Purpose.SENDER_CONFIRMATION, link)
    except ConditionsFailed as exc:
        raise NotFound from exc  # removed by a racing request
