"""Accounts: registration with email verification, login, profile, password change.

Uniqueness of contact email and login is enforced by claim items written in the same
DynamoDB transaction as the account (never by reading a GSI first). A registration
is only a pending token until its link is followed: the account and its claims are
created at verification, so an unverified sign-up can neither block an address nor
pre-hijack it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from email_validator import EmailNotValidError, validate_email
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactGet, TransactWrite

from clientarea import clock, config, passwords, sessions, throttling, tokens
from clientarea.errors import (
    Conflict,
    InvalidCredentials,
    InvalidEmail,
    InvalidLogin,
    NotFound,
    RateLimited,
    TokenInvalid,
)
from clientarea.mail import outbox
from clientarea.roles import Role
from clientarea.tables import (
    AccountModel,
    ClaimModel,
    CounterModel,
    RateLimitModel,
    SessionModel,
    connection,
)

VERIFICATION_TTL = timedelta(hours=24)
FIRST_CLIENT_NUMBER = 100_001

# Login failures: a short pause after a burst, and never more than 100 consecutive
# failures (NIST SP 800-63B-4 §3.2.2) before the owner must reset the password.
FAILURES_BEFORE_PAUSE = 10
PAUSE = timedelta(minutes=15)
MAX_CONSECUTIVE_FAILURES = 100

_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")
# Generated logins look like this; nobody may choose one, so they never collide.
_GENERATED_LOGIN = re.compile(r"^client\d+$")


class AccountStatus(StrEnum):
    ACTIVE = "active"


def login_failures_per_ip() -> throttling.Limit:
    return throttling.Limit("login_failures_ip", config.ip_requests_per_hour(), 3600)


@dataclass(frozen=True)
class AccountView:
    """What the owner sees of an account (GET /account)."""

    client_number: int
    login: str
    email: str
    full_name: str
    phone: str | None
    address: str | None
    locale: str
    authorised_emails: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _view(account: AccountModel) -> AccountView:
    return AccountView(
        client_number=int(account.client_number),
        login=account.login,
        email=account.email,
        full_name=account.full_name,
        phone=account.phone,
        address=account.address,
        locale=account.locale,
    )


def normalise_email(raw: str) -> str:
    """The address as it will be written to (domain lowercased, Unicode normalised)."""
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from exc


def email_claim_key(email: str) -> str:
    # One account per mailbox however the address is capitalised.
    return f"email#{email.casefold()}"


def login_claim_key(login: str) -> str:
    return f"login#{login.casefold()}"


def account_key(client_number: int | str) -> str:
    return f"account#{client_number}"


def normalise_login(raw: str) -> str:
    login = raw.strip().lower()
    if not _LOGIN.match(login) or _GENERATED_LOGIN.match(login):
        raise InvalidLogin
    return login


def generated_login(client_number: int) -> str:
    return f"client{client_number}"


def get_account(client_number: int | str) -> AccountModel:
    try:
        return AccountModel.get(account_key(client_number), consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound from exc


def find_by_login_or_email(login_or_email: str) -> AccountModel | None:
    """The account a person means by a login name or contact email, if any."""
    key = _claim_key_for(login_or_email)
    if key is None:
        return None
    try:
        claim = ClaimModel.get(key, consistent_read=True)
        return AccountModel.get(account_key(claim.client_number), consistent_read=True)
    except DoesNotExist:
        return None


def _claim_key_for(login_or_email: str) -> str | None:
    text = login_or_email.strip()
    if "@" in text:
        try:
            return email_claim_key(normalise_email(text))
        except InvalidEmail:
            return None
    return login_claim_key(text) if text else None


def _next_client_number() -> int:
    counter = CounterModel("counter#client_number")
    counter.update(actions=[CounterModel.value.add(1)])
    return FIRST_CLIENT_NUMBER + int(counter.value) - 1


# --- registration -----------------------------------------------------------------


def register(
    *, email: str, password: str, full_name: str, locale: str, login: str | None = None
) -> None:
    """Start a registration. Always returns the same way (no account enumeration)."""
    address = normalise_email(email)
    chosen_login = normalise_login(login) if login else None
    passwords.check_policy(password, login=chosen_login, email=address)
    password_hash = passwords.hash_password(password)

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

    client_number = _next_client_number()
    issued = tokens.issue(
        tokens.Purpose.EMAIL_VERIFICATION,
        str(client_number),
        VERIFICATION_TTL,
        payload={
            "email": address,
            "login": chosen_login or "",
            "full_name": full_name,
            "locale": locale,
            "password_hash": password_hash,
        },
    )
    outbox.send(
        "email_verification",
        address,
        locale,
        full_name=full_name,
        login=chosen_login or generated_login(client_number),
        client_number=client_number,
        link=outbox.link("/verify-email", issued.token),
        expires_at=clock.iso(issued.expires_at),
        valid_for_seconds=int(VERIFICATION_TTL.total_seconds()),
    )


def verify_email(token: str, *, client_ip: str) -> AccountView:
    """Create the account a verification link stands for, atomically with its claims."""
    valid = tokens.check(tokens.Purpose.EMAIL_VERIFICATION, token, client_ip=client_ip)
    data = valid.payload
    client_number = int(valid.subject)
    login = data.get("login") or generated_login(client_number)
    try:
        return _create_account(valid, client_number, login, data)
    except TransactWriteError as exc:
        reasons = _cancellation_codes(exc)
        # [token, account, email claim, login claim]: a chosen login taken meanwhile
        # falls back to the generated one; anything else means the link is spent.
        if len(reasons) == 4 and reasons[3] == "ConditionalCheckFailed" and reasons[2] == "None":
            return _create_account(valid, client_number, generated_login(client_number), data)
        raise TokenInvalid from exc


def _create_account(
    valid: tokens.ValidToken, client_number: int, login: str, data: dict[str, Any]
) -> AccountView:
    account = AccountModel(
        account_key(client_number),
        client_number=client_number,
        login=login,
        email=data["email"],
        full_name=data["full_name"],
        locale=data["locale"],
        password_hash=data["password_hash"],
        status=AccountStatus.ACTIVE,
        role=Role.CLIENT,
        session_generation=0,
        failed_logins=0,
        created_at=clock.now(),
    )
    with TransactWrite(connection=connection()) as tx:
        tx.delete(valid.item, condition=valid.consume_condition())
        tx.save(account, condition=AccountModel.pk.does_not_exist())
        tx.save(
            ClaimModel(email_claim_key(data["email"]), client_number=client_number),
            condition=ClaimModel.pk.does_not_exist(),
        )
        tx.save(
            ClaimModel(login_claim_key(login), client_number=client_number),
            condition=ClaimModel.pk.does_not_exist(),
        )
    return _view(account)


def _cancellation_codes(exc: TransactWriteError) -> list[str]:
    reasons = getattr(exc, "cancellation_reasons", None) or []
    return [reason.code if reason else "None" for reason in reasons]


# --- login ------------------------------------------------------------------------


def login(login_or_email: str, password: str, *, client_ip: str) -> sessions.NewSession:
    """Check credentials and open a session; unknown login and wrong password look alike."""
    ip_limit = login_failures_per_ip()
    ip_counter_key, retry_after = throttling.counter_key(ip_limit, client_ip)
    claim_key = _claim_key_for(login_or_email) or "login#"
    with TransactGet(connection=connection()) as read:
        claim_future = read.get(ClaimModel, claim_key)
        ip_future = read.get(RateLimitModel, ip_counter_key)
    if _hits(ip_future) >= ip_limit.max_hits:
        raise RateLimited(retry_after)
    account = _account_for_claim(claim_future)
    if account is not None:
        _refuse_if_paused(account)
    if account is None or not passwords.verify_password(account.password_hash, password):
        _record_failure(account, client_ip)
        raise InvalidCredentials
    session = sessions.new_session(account)
    # A reset or password change that lands between our check and this write raised
    # the generation: this login must not survive it.
    same_generation = AccountModel.session_generation == account.session_generation
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(session.item)
            if account.failed_logins or account.login_blocked_until:
                tx.update(
                    account,
                    actions=[
                        AccountModel.failed_logins.set(0),
                        AccountModel.login_blocked_until.remove(),
                    ],
                    condition=same_generation,
                )
            else:
                # A read-only check: concurrent logins do not conflict with each other.
                tx.condition_check(AccountModel, account.pk, condition=same_generation)
    except TransactWriteError as exc:
        raise InvalidCredentials from exc
    return session


def _hits(future: Any) -> int:
    try:
        return int(future.get().hits)
    except RateLimitModel.DoesNotExist:
        return 0


def _account_for_claim(future: Any) -> AccountModel | None:
    try:
        claim = future.get()
    except ClaimModel.DoesNotExist:
        passwords.verify_password(None, "")  # same work as a wrong password
        return None
    try:
        return AccountModel.get(account_key(claim.client_number), consistent_read=True)
    except DoesNotExist:
        return None


def _refuse_if_paused(account: AccountModel) -> None:
    blocked_until = account.login_blocked_until
    if blocked_until is not None and clock.now() < blocked_until:
        raise RateLimited(int((blocked_until - clock.now()).total_seconds()) + 1)


def _record_failure(account: AccountModel | None, client_ip: str) -> None:
    try:
        throttling.hit(login_failures_per_ip(), client_ip)
    finally:
        if account is not None:
            _count_account_failure(account)


def _count_account_failure(account: AccountModel) -> None:
    account.update(actions=[AccountModel.failed_logins.add(1)])
    failures = int(account.failed_logins)
    if failures >= MAX_CONSECUTIVE_FAILURES:
        # Only a password reset (proof of the mailbox) lifts this.
        until = clock.now() + timedelta(days=3650)
    elif failures >= FAILURES_BEFORE_PAUSE:
        until = clock.now() + PAUSE
    else:
        return
    account.update(actions=[AccountModel.login_blocked_until.set(until)])


def logout(principal: sessions.Principal) -> None:
    sessions.end(principal)


# --- profile and password ---------------------------------------------------------


def profile(client_number: int) -> AccountView:
    return _view(get_account(client_number))


def update_profile(client_number: int, changes: dict[str, Any]) -> AccountView:
    """Apply the given fields (None clears phone or address)."""
    account = get_account(client_number)
    settable = {
        "full_name": AccountModel.full_name,
        "phone": AccountModel.phone,
        "address": AccountModel.address,
        "locale": AccountModel.locale,
    }
    actions = [
        settable[name].remove() if value is None else settable[name].set(value)
        for name, value in changes.items()
        if name in settable
    ]
    if actions:
        account.update(actions=actions, condition=AccountModel.pk.exists())
    return _view(account)


def change_password(
    principal: sessions.Principal, current_password: str, new_password: str
) -> None:
    """Change the password, end every other session and tell the owner."""
    account = get_account(principal.client_number)
    if not passwords.verify_password(account.password_hash, current_password):
        raise InvalidCredentials
    passwords.check_policy(new_password, login=account.login, email=account.email)
    generation = int(account.session_generation)
    try:
        _store_new_password(account, principal, generation, new_password)
    except TransactWriteError as exc:
        raise Conflict from exc
    notify_password_changed(account)


def _store_new_password(
    account: AccountModel, principal: sessions.Principal, generation: int, new_password: str
) -> None:
    with TransactWrite(connection=connection()) as tx:
        tx.update(
            account,
            actions=[
                AccountModel.password_hash.set(passwords.hash_password(new_password)),
                AccountModel.session_generation.set(generation + 1),
            ],
            condition=AccountModel.session_generation == generation,
        )
        # The caller's own session moves to the new generation; all others die.
        tx.update(
            SessionModel(str(principal.client_number), principal.session_digest),
            actions=[SessionModel.generation.set(generation + 1)],
            condition=SessionModel.digest.exists(),
        )


def notify_password_changed(account: AccountModel) -> None:
    outbox.send(
        "password_changed",
        account.email,
        account.locale,
        full_name=account.full_name,
        changed_at=clock.iso(clock.now()),
        reset_link=outbox.page("/forgot-password"),
    )


# --- provisioning (ops commands and the dev server's seed, never an API route) ---------


def provision(
    *,
    email: str,
    password: str,
    full_name: str,
    login: str,
    role: Role = Role.CLIENT,
    locale: str = "en",
) -> AccountView:
    """Create an active account directly, with its claims, in one transaction.

    For the staff-account command and local seeding: the caller vouches for the
    address, so no verification mail is sent.
    """
    address = normalise_email(email)
    chosen_login = normalise_login(login)
    passwords.check_policy(password, login=chosen_login, email=address)
    client_number = _next_client_number()
    account = AccountModel(
        account_key(client_number),
        client_number=client_number,
        login=chosen_login,
        email=address,
        full_name=full_name,
        locale=locale,
        password_hash=passwords.hash_password(password),
        status=AccountStatus.ACTIVE,
        role=role,
        session_generation=0,
        failed_logins=0,
        created_at=clock.now(),
    )
    with TransactWrite(connection=connection()) as tx:
        tx.save(account, condition=AccountModel.pk.does_not_exist())
        tx.save(
            ClaimModel(email_claim_key(address), client_number=client_number),
            condition=ClaimModel.pk.does_not_exist(),
        )
        tx.save(
            ClaimModel(login_claim_key(chosen_login), client_number=client_number),
            condition=ClaimModel.pk.does_not_exist(),
        )
    return _view(account)
