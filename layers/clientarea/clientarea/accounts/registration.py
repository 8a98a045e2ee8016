"""Registration with email verification, and provisioning of accounts by operators.

A registration is only a pending token until its link is followed: the account and
its claims are created at verification, so an unverified sign-up can neither block an
address nor pre-hijack it.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from clientarea import clock, passwords, telemetry, throttling, tokens
from clientarea.accounts.identity import (
    AccountStatus,
    find_by_login_or_email,
    generated_login,
    normalise_email,
    normalise_login,
)
from clientarea.accounts.profile import view
from clientarea.errors import ConditionsFailed, TokenInvalid
from clientarea.mail import outbox
from clientarea.roles import Role
from clientarea.storage import accounts as store
from clientarea.storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from clientarea.schema.accounts import Account

VERIFICATION_TTL = timedelta(hours=24)


def register(
    *,
    email: str,
    password: str,
    full_name: str,
    locale: str,
    login: str | None = None,
    client_ip: str,
) -> None:
    """Start a registration. Always returns the same way (no account enumeration).

    Either branch mails the address typed (a link to it, or a notice to its owner), so
    both draw on that address's unasked-mail budget first: past it, nothing is stored
    or sent, and the answer is the same. The link's mail greets neutrally: the name was
    typed by whoever registered, and the address is not proven theirs yet.
    """
    address = normalise_email(email)
    chosen_login = normalise_login(login) if login else None
    passwords.check_policy(password, login=chosen_login, email=address)
    if not throttling.may_mail_unasked(address, client_ip=client_ip):
        return
    password_hash = passwords.hash_password(password)
    telemetry.count(telemetry.Metric.REGISTRATION_REQUESTED)

    existing = find_by_login_or_email(address)
    if existing is not None:
        # Pretend to proceed; tell the real owner instead of the requester.
        outbox.send(
            "registration_attempt",
            existing.email,
            existing.locale,
            full_name=existing.full_name,
            login_link=outbox.page("/login"),
            reset_link=outbox.page("/forgot-password"),
        )
        return

    # The client number and login are assigned only at verification: numbers drawn
    # here would let a requester count registrations, and learn from the gap whether
    # an address already has an account.
    registration_id = secrets.token_hex(12)
    issued = tokens.issue(
        tokens.Purpose.EMAIL_VERIFICATION,
        registration_id,
        VERIFICATION_TTL,
        payload={
            "email": address,
            "login": chosen_login or "",
            "full_name": full_name,
            "locale": locale,
            "password_hash": password_hash,
        },
    )
    outbox.send_link("email_verification", address, locale, "/verify-email", issued)


def verify_email(token: str, *, client_ip: str) -> Account:
    """Create the account a verification link stands for, atomically with its claims."""
    valid = tokens.check(tokens.Purpose.EMAIL_VERIFICATION, token, client_ip=client_ip)
    data = valid.payload
    client_number = store.next_client_number()
    login = data.get("login") or generated_login(client_number)
    try:
        account = _create_account(valid, client_number, login, data)
    except ConditionsFailed as exc:
        # A chosen login taken meanwhile falls back to the generated one; anything else
        # means the link is spent.
        if store.LOGIN_CLAIM not in exc.failed or store.EMAIL_CLAIM in exc.failed:
            raise TokenInvalid from exc
        account = _create_account(valid, client_number, generated_login(client_number), data)
    telemetry.count(telemetry.Metric.REGISTRATION_COMPLETED)
    outbox.send(
        "account_created",
        account.email,
        account.locale,
        full_name=account.full_name,
        login=account.login,
        client_number=account.client_number,
        login_link=outbox.page("/login"),
    )
    return account


def _create_account(
    valid: tokens.ValidToken, client_number: int, login: str, data: dict[str, Any]
) -> Account:
    account = store.new_account(
        client_number,
        login=login,
        email=data["email"],
        full_name=data["full_name"],
        locale=data["locale"],
        password_hash=data["password_hash"],
        status=AccountStatus.ACTIVE,
        role=Role.CLIENT,
        created_at=clock.now(),
    )
    with UnitOfWork() as uow:
        valid.consume(uow)
        store.create(uow, account)
    return view(account)


# --- provisioning (ops commands and the dev server's seed, never an API route) ---------


def provision(
    *,
    email: str,
    password: str,
    full_name: str,
    login: str,
    role: Role = Role.CLIENT,
    locale: str = "en",
) -> Account:
    """Create an active account directly, with its claims, in one transaction.

    For the staff-account command and local seeding: the caller vouches for the
    address, so no verification mail is sent.
    """
    address = normalise_email(email)
    chosen_login = normalise_login(login)
    passwords.check_policy(password, login=chosen_login, email=address)
    client_number = store.next_client_number()
    account = store.new_account(
        client_number,
        login=chosen_login,
        email=address,
        full_name=full_name,
        locale=locale,
        password_hash=passwords.hash_password(password),
        status=AccountStatus.ACTIVE,
        role=role,
        created_at=clock.now(),
    )
    with UnitOfWork() as uow:
        store.create(uow, account)
    return view(account)
