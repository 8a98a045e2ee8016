"""The contact email ("Account → My details"): changing it, and the other addresses
an account authorises to open tickets by email.

```mermaid
stateDiagram-v2
    [*] --> pending: POST /account/email-change (current password; notice to the old address)
    pending --> superseded: a newer request (only the newest link works)
    pending --> expired: 2 hours pass
    pending --> dead: password changed or reset, or the contact email changed otherwise
    pending --> dead: every other session revoked (the generation moved on)
    pending --> switched: POST /account/email-change/confirm (notices to both addresses)
    pending --> pending: confirm finds the address taken meanwhile (409, nothing changes)
    switched --> [*]
```

A pending change is one token item `email_change#<client_number>` (so a newer request
overwrites, i.e. supersedes, the older link) whose payload binds it to the account's
state at request time: the new address, the old address, the session generation and
the session that asked. The switch itself is `accounts.switch_contact_email`: one
transaction that moves the email uniqueness claim (two accounts racing for one address:
exactly one wins), uses the link up, kills any pending reset link, ends every session
but the one that asked (the generation moves on, that session with it), and drops the
new address from the account's explicit senders (the contact email is always
authorised).

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
to an account whose mailbox owner proved it (`accounts.account_for_sender`). Asking
answers the same whether or not the address is anyone's; the mail that carries the link
names the client number only (the account holder's typed name is not proof of anything
to that mailbox) and counts against the address's unasked-mail budget.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import size
from pynamodb.transactions import TransactWrite

from clientarea import accounts, clock, telemetry, throttling, tokens
from clientarea.accounts import SenderStatus
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
from clientarea.tables import AccountModel, ClaimModel, SenderModel, SessionModel, transaction

CHANGE_TTL = timedelta(hours=2)
SENDER_LINK_TTL = timedelta(hours=2)
SENDER_LINK_PAGE = "/authorised-emails/confirm"
MAX_AUTHORISED_EMAILS = 20
# At most this many change requests (and so confirmation mails) per account and hour:
# a signed-in client must not be able to use us to mail arbitrary addresses.
REQUESTS_PER_ACCOUNT_PER_HOUR = 5
SENDER_REQUESTS_PER_ACCOUNT_PER_HOUR = 25


def requests_per_account() -> throttling.Limit:
    return throttling.Limit("email_change_account", REQUESTS_PER_ACCOUNT_PER_HOUR, 3600)


def sender_requests_per_account() -> throttling.Limit:
    """Confirmation links an account may have mailed per hour: enough to list the 20
    addresses at once, too few to use us for mailing strangers."""
    return throttling.Limit("sender_links_account", SENDER_REQUESTS_PER_ACCOUNT_PER_HOUR, 3600)


# --- changing the contact email ----------------------------------------------------------


def request_change(
    client_number: int,
    new_email: str,
    current_password: str,
    *,
    client_ip: str,
    session_digest: str | None = None,
) -> None:
    """Re-authenticate, then send a 2-hour confirmation link to the new address and a
    notice to the old one. The contact email does not change here. `session_digest`
    names the session asking: the only one the change will leave alive."""
    address = accounts.normalise_email(new_email)
    account = accounts.get_account(client_number)
    if address.casefold() == account.email.casefold():
        raise EmailUnchanged
    checked = accounts.check_current_password(account, current_password, client_ip=client_ip)
    throttling.hit(requests_per_account(), str(client_number))
    # The link goes to an address not proven the requester's: it draws on that address's
    # unasked-mail budget (counted whether or not the address is free, so that the calls
    # made tell nothing), before anything is stored.
    mail_link = throttling.may_mail_unasked(address, client_ip=client_ip)
    # Issued (so superseding any older link) whether or not the address is free: the
    # account's state and the old address's mail are the same in both cases.
    link, issued = tokens.prepare(
        tokens.Purpose.EMAIL_CHANGE,
        str(client_number),
        CHANGE_TTL,
        payload={
            "new_email": address,
            "old_email": account.email,
            "generation": str(int(account.session_generation)),
            "session": session_digest or "",
        },
    )
    with transaction() as tx:
        tx.save(link)
        checked.settle(tx)
    if mail_link and not _held_by_another_account(address, client_number):
        # Greets neutrally: the account's name is the requester's typing, not proof.
        outbox.send(
            "email_change_confirm",
            address,
            account.locale,
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
        account, old_email, old_deliverable = _switch(valid, keep_requester=True)
    except Conflict:
        # Something else changed the account between our read and the write (a link
        # used by a racing request, a sender added), or the session that asked for the
        # change is over (logged out, expired): look again, once, keeping no session.
        valid = tokens.check(tokens.Purpose.EMAIL_CHANGE, token, client_ip=client_ip)
        account, old_email, old_deliverable = _switch(valid, keep_requester=False)
    telemetry.count(telemetry.Metric.EMAIL_CHANGE_COMPLETED)
    # Mail parameters, all str (Any: mypy would match them against `headers` too).
    changed: dict[str, Any] = {
        "full_name": account.full_name,
        "old_email": old_email,
        "new_email": account.email,
        "changed_at": clock.iso(clock.now()),
        "reset_link": outbox.page("/forgot-password"),
    }
    # Not to an old address that bounces: its claim (which the mailer checks) is gone.
    for address in (old_email, account.email) if old_deliverable else (account.email,):
        outbox.send("email_changed", address, account.locale, **changed)
    return accounts.view(account)


def _switch(valid: tokens.ValidToken, *, keep_requester: bool) -> tuple[AccountModel, str, bool]:
    """The switch, ending every session of the account in the same transaction but the
    one that asked for the change (if `keep_requester` and it is still there)."""
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
    old_deliverable = accounts.contact_email_deliverable(account)

    requester = payload.get("session") if keep_requester else None

    def use_link(tx: TransactWrite) -> None:
        tx.delete(valid.item, condition=valid.consume_condition())
        if requester:
            # Moves with the account to the next generation; every other session stays
            # behind and is refused from its next request.
            tx.update(
                SessionModel(str(account.client_number), requester),
                actions=[SessionModel.generation.set(generation + 1)],
                condition=SessionModel.generation == generation,
            )

    accounts.switch_contact_email(
        account,
        payload["new_email"],
        revoke_sessions=True,
        expected_generation=generation,
        also=use_link,
    )
    return account, old_email, old_deliverable


# --- authorised senders ------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorisedEmail:
    email: str
    added_at: str
    status: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _entry(raw: dict[str, Any]) -> AuthorisedEmail:
    status = (
        SenderStatus.CONFIRMED.value
        if accounts.is_confirmed_sender(raw)
        else SenderStatus.PENDING.value
    )
    return AuthorisedEmail(raw["email"], raw["added_at"], status)


def list_authorised(client_number: int) -> list[AuthorisedEmail]:
    """The addresses the account listed, pending or confirmed, oldest first (the contact
    email is authorised implicitly and is not an entry)."""
    senders = accounts.authorised_senders(accounts.get_account(client_number))
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
    address = accounts.normalise_email(email)
    key = address.casefold()
    account = accounts.get_account(client_number)
    senders = accounts.authorised_senders(account)
    listed = senders.get(key)
    if key == account.email.casefold() or (listed and accounts.is_confirmed_sender(listed)):
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
    slot = AccountModel.authorised_emails[key]
    # As read: the same contact email, and the entry still absent (with room for it) or
    # still pending.
    condition = AccountModel.email == account.email
    if listed is None:
        condition &= slot.does_not_exist() & (
            size(AccountModel.authorised_emails) < MAX_AUTHORISED_EMAILS
        )
    else:
        condition &= slot.exists() & _still_pending(slot)
    link_item, issued = tokens.prepare(
        tokens.Purpose.SENDER_CONFIRMATION,
        accounts.sender_link_subject(client_number, address),
        SENDER_LINK_TTL,
        payload={"client_number": str(client_number), "email": address},
    )
    # Counted before anything is stored: a failure here leaves nothing half done.
    mail_it = throttling.may_mail_unasked(address, client_ip=client_ip)
    try:
        with transaction() as tx:
            tx.update(account, actions=[slot.set(entry.as_dict())], condition=condition)
            tx.save(link_item)  # overwrites, so kills, an older link for this address
    except TransactWriteError as exc:
        raise Conflict from exc  # the list changed meanwhile: the caller may ask again
    if mail_it:
        # Nothing the account holder typed goes to an address not yet proven theirs:
        # the mail names the client number, never the account's name.
        outbox.send(
            "authorised_sender_confirm",
            address,
            account.locale,
            email=address,
            client_number=int(account.client_number),
            link=outbox.link(SENDER_LINK_PAGE, issued.token),
            expires_at=clock.iso(issued.expires_at),
            valid_for_seconds=int(SENDER_LINK_TTL.total_seconds()),
        )
    return entry


def _still_pending(slot: Any) -> Any:
    """The condition that an entry is not confirmed (one from before confirmation
    existed has no status at all)."""
    status = slot["status"]
    return status.does_not_exist() | (status != SenderStatus.CONFIRMED.value)


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
        account = accounts.get_account(client_number)
    except NotFound as exc:
        raise TokenInvalid from exc
    listed = accounts.authorised_senders(account).get(key)
    if listed is None or accounts.is_confirmed_sender(listed):
        raise TokenInvalid  # removed since (DELETE kills the link too), or used already
    entry = AuthorisedEmail(address, listed["added_at"], SenderStatus.CONFIRMED.value)
    slot = AccountModel.authorised_emails[key]
    try:
        with transaction() as tx:
            tx.delete(valid.item, condition=valid.consume_condition())
            tx.update(
                account,
                actions=[slot.set(entry.as_dict())],
                condition=(AccountModel.email == account.email)
                & slot.exists()
                & _still_pending(slot),
            )
            # One account per sender address: inbound mail maps to exactly one client.
            tx.save(
                SenderModel(
                    accounts.sender_claim_key(address),
                    client_number=client_number,
                    email=address,
                    added_at=clock.now(),
                ),
                condition=SenderModel.pk.does_not_exist()
                | (SenderModel.client_number == client_number),
            )
            # Nor may it be another account's contact email (mail from it is theirs).
            tx.condition_check(
                ClaimModel,
                accounts.email_claim_key(address),
                condition=ClaimModel.pk.does_not_exist(),
            )
    except TransactWriteError as exc:
        raise _why_not_confirmed(client_number, address) from exc
    return entry


def _why_not_confirmed(client_number: int, address: str) -> Exception:
    """Why the confirmation failed, asked afresh (pynamodb groups a transaction's items
    by kind, so the cancellation reasons' positions are not worth relying on)."""
    for model, claim_key in (
        (SenderModel, accounts.sender_claim_key(address)),
        (ClaimModel, accounts.email_claim_key(address)),
    ):
        try:
            claim = model.get(claim_key, consistent_read=True)
        except DoesNotExist:
            continue
        if int(claim.client_number) != client_number:
            return EmailTaken()
    # Else the link was used by a racing request, or the account changed: the caller
    # looks again (and then finds the link used, or succeeds).
    return Conflict()


def revoke(client_number: int, email: str) -> None:
    """Remove a listed address, pending or confirmed: its entry, its pending link and,
    if confirmed, its claim; 404 if the account has no such entry."""
    try:
        address = accounts.normalise_email(email)
    except InvalidEmail as exc:
        raise NotFound from exc  # nothing that is not an address can be an entry
    key = address.casefold()
    account = accounts.get_account(client_number)
    listed = accounts.authorised_senders(account).get(key)
    if listed is None:
        raise NotFound
    slot = AccountModel.authorised_emails[key]
    link = accounts.sender_link_subject(client_number, address)
    try:
        with transaction() as tx:
            tx.update(account, actions=[slot.remove()], condition=slot.exists())
            tx.delete(tokens.revoke(tokens.Purpose.SENDER_CONFIRMATION, link))
            if accounts.is_confirmed_sender(listed):
                tx.delete(
                    SenderModel(accounts.sender_claim_key(key)),
                    condition=SenderModel.client_number == client_number,
                )
    except TransactWriteError as exc:
        raise NotFound from exc  # removed by a racing request
