"""Password reset by an emailed link valid exactly two hours.

```mermaid
stateDiagram-v2
    [*] --> requested: POST /password/forgot (same answer for any login)
    requested --> link_sent: worker finds an active account
    requested --> [*]: no such account (nothing happens, nobody can tell)
    link_sent --> superseded: a newer request
    link_sent --> expired: 2 hours pass
    link_sent --> used: POST /password/reset (sessions revoked, notice sent)
    used --> [*]
```

The forgot route only counts the caller's address and queues the request, so it makes
exactly the same AWS calls in the same time whether or not the account exists; the
lookup, the token and the mail happen behind the queue.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from clientarea import clock, config, passwords, telemetry, throttling, tokens
from clientarea.accounts import identity, login
from clientarea.errors import ConditionsFailed, RateLimited, TokenInvalid
from clientarea.mail import outbox
from clientarea.roles import Role
from clientarea.storage import access
from clientarea.storage.unit_of_work import UnitOfWork

RESET_TTL = timedelta(hours=2)
# At most this many reset mails an hour reach one account, however many requests.
MAILS_PER_ACCOUNT_PER_HOUR = 5


def forgot_per_ip() -> throttling.Limit:
    return throttling.Limit("forgot_ip", config.ip_requests_per_hour(), 3600)


def mails_per_account() -> throttling.Limit:
    return throttling.Limit("reset_mails_account", MAILS_PER_ACCOUNT_PER_HOUR, 3600)


def request_reset(login_or_email: str, *, locale: str, client_ip: str) -> None:
    """Accept a reset request (API side): count the address, queue the lookup."""
    throttling.hit(forgot_per_ip(), client_ip)
    outbox.enqueue_json(
        config.reset_requests_queue_url(),
        {"login": login_or_email, "locale": locale},
    )
    telemetry.count(telemetry.Metric.RESET_REQUESTED)


def send_reset_link(login_or_email: str) -> bool:
    """Worker side: mail a fresh link if the login names an active account.

    Returns whether a mail was queued (for metrics only; callers show nobody).
    """
    account = identity.find_by_login_or_email(
        login_or_email, (*identity.CONTACT, "login", "status", "role")
    )
    if account is None or account.status != identity.AccountStatus.ACTIVE:
        return False
    if account.role != Role.CLIENT:
        # Staff accounts are reset by an administrator, never by email link.
        return False
    try:
        throttling.hit(mails_per_account(), str(account.client_number))
    except RateLimited:
        return False
    issued = tokens.issue(
        tokens.Purpose.PASSWORD_RESET,
        str(account.client_number),
        RESET_TTL,
        # What the reset itself needs, so that using the link costs no account read.
        payload={
            "login": account.login,
            "email": account.email,
            "locale": account.locale,
            "full_name": account.full_name,
        },
    )
    outbox.send_link(
        "password_reset",
        account.email,
        account.locale,
        "/reset-password",
        issued,
        full_name=account.full_name,
    )
    return True


def verify(token: str, *, client_ip: str) -> datetime:
    """When a live link expires; does not use it up."""
    return tokens.check(tokens.Purpose.PASSWORD_RESET, token, client_ip=client_ip).expires_at


def reset(token: str, new_password: str, *, client_ip: str) -> None:
    """Set the new password, use the link up and end every session of the account."""
    valid = tokens.check(tokens.Purpose.PASSWORD_RESET, token, client_ip=client_ip)
    payload = valid.payload
    passwords.check_policy(new_password, login=payload["login"], email=payload["email"])
    try:
        with UnitOfWork() as uow:
            valid.consume(uow)
            access.set_password(uow, valid.subject, passwords.hash_password(new_password))
            # Proof of the mailbox lifts any pause or lock of sign-in.
            login.clear_login_attempts(uow, email=payload["email"], login=payload["login"])
    except ConditionsFailed as exc:
        # Someone used the link a moment earlier (or it was superseded meanwhile).
        raise TokenInvalid from exc
    telemetry.count(telemetry.Metric.RESET_COMPLETED)
    outbox.send(
        "password_changed",
        payload["email"],
        payload["locale"],
        full_name=payload["full_name"],
        changed_at=clock.iso(clock.now()),
        reset_link=outbox.page("/forgot-password"),
    )
