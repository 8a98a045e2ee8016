"""The contact email ("Account → My details"): changing it.

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
the session that asked. The switch itself is `accounts.contact_switch`, in one unit
of work (clientarea.storage.unit_of_work) that moves the email uniqueness claim (two
accounts racing for one address: exactly one wins), uses the link up, kills any
pending reset link, ends every session but the one that asked (the generation moves
on, that session with it), and drops the new address from the account's explicit
senders (the contact email is always authorised).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from clientarea import clock, sessions, telemetry, throttling, tokens
from clientarea.accounts import contact_switch, identity, login, profile
from clientarea.errors import ConditionsFailed, Conflict, EmailUnchanged, NotFound, TokenInvalid
from clientarea.mail import outbox
from clientarea.storage import accounts as account_store
from clientarea.storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from clientarea.schema.accounts import Account
    from clientarea.storage.accounts import AccountModel

CHANGE_TTL = timedelta(hours=2)
# At most this many change requests (and so confirmation mails) per account and hour:
# a signed-in client must not be able to use us to mail arbitrary addresses.
REQUESTS_PER_ACCOUNT_PER_HOUR = 5


def requests_per_account() -> throttling.Limit:
    return throttling.Limit("email_change_account", REQUESTS_PER_ACCOUNT_PER_HOUR, 3600)


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
    address = identity.normalise_email(new_email)
    account = identity.get_account(client_number)
    if address.casefold() == account.email.casefold():
        raise EmailUnchanged
    checked = login.check_current_password(account, current_password, client_ip=client_ip)
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
    with UnitOfWork() as uow:
        tokens.save_in(uow, link)
        checked.settle(uow)
    if mail_link and not _held_by_another_account(address, client_number):
        # Greets neutrally: the account's name is the requester's typing, not proof.
        outbox.send_link(
            "email_change_confirm",
            address,
            account.locale,
            "/email-change/confirm",
            issued,
            new_email=address,
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
    holder = account_store.claimant(account_store.email_claim_key(address))
    return holder is not None and holder != client_number


def confirm_change(token: str, *, client_ip: str) -> Account:
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
    return profile.view(account)


def _switch(valid: tokens.ValidToken, *, keep_requester: bool) -> tuple[AccountModel, str, bool]:
    """The switch, ending every session of the account in the same transaction but the
    one that asked for the change (if `keep_requester` and it is still there)."""
    payload = valid.payload
    try:
        account = identity.get_account(valid.subject)
    except NotFound as exc:
        raise TokenInvalid from exc
    generation = int(payload["generation"])
    # The link stands for a change from this address, by this owner: it dies if the
    # contact email changed otherwise (manual recovery) or the password was changed or
    # reset since (the notice to the old address advises exactly that).
    if account.email != payload["old_email"] or int(account.session_generation) != generation:
        raise TokenInvalid
    old_email = account.email
    old_deliverable = profile.contact_email_deliverable(account)

    requester = payload.get("session") if keep_requester else None
    try:
        with UnitOfWork() as uow:
            valid.consume(uow)
            if requester:
                # Moves with the account to the next generation; every other session
                # stays behind and is refused from its next request.
                sessions.keep_across_generation(
                    uow, int(account.client_number), requester, generation + 1, expected=generation
                )
            contact_switch.switch_contact_email(
                uow,
                account,
                payload["new_email"],
                revoke_sessions=True,
                expected_generation=generation,
            )
    except ConditionsFailed as exc:
        raise contact_switch.failure(exc) from exc
    return account, old_email, old_deliverable
