"""Accounts: registration with email verification, login, profile, password change.

Uniqueness of contact email and login is enforced by claim items written in the same
DynamoDB transaction as the account (never by reading a GSI first). A registration
is only a pending token until its link is followed: the account and its claims are
created at verification, so an unverified sign-up can neither block an address nor
pre-hijack it.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactGet, TransactWrite

from clientarea import clock, config, passwords, sessions, telemetry, throttling, tokens
from clientarea.errors import (
    Conflict,
    EmailTaken,
    Forbidden,
    InvalidCredentials,
    InvalidEmail,
    InvalidLogin,
    NotFound,
    RateLimited,
    TokenInvalid,
)
from clientarea.mail import outbox
from clientarea.roles import STAFF_ROLES, Role
from clientarea.tables import (
    AccountModel,
    ClaimModel,
    CounterModel,
    RateLimitModel,
    SenderModel,
    SessionModel,
    connection,
    transaction,
)

VERIFICATION_TTL = timedelta(hours=24)
FIRST_CLIENT_NUMBER = 100_001

# Login failures: at most 10 per login name (or address) in 15 minutes, counted alike
# for existing and unknown logins so that the 429 reveals nothing; and never more than
# 100 consecutive failures on an account (NIST SP 800-63B-4 §3.2.2) before its owner
# must reset the password.
LOGIN_FAILURES = throttling.Limit("login_failures", 10, 15 * 60)
MAX_CONSECUTIVE_FAILURES = 100

_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")
# Generated logins look like this; nobody may choose one, so they never collide.
_GENERATED_LOGIN = re.compile(r"^client\d+$")


class AccountStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"  # a staff account an administrator switched off (clientarea.staff)


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
    senders = account.authorised_emails.as_dict() if account.authorised_emails else {}
    return AccountView(
        client_number=int(account.client_number),
        login=account.login,
        email=account.email,
        full_name=account.full_name,
        phone=account.phone,
        address=account.address,
        locale=account.locale,
        authorised_emails=sorted(entry["email"] for entry in senders.values()),
    )


def view(account: AccountModel) -> AccountView:
    return _view(account)


def normalise_email(raw: str) -> str:
    """The address as it will be written to: compatibility forms folded (NFKC), the
    domain lowercased, and refused (InvalidEmail) if a part of it mixes scripts.

    NFKC first, because an address in fullwidth letters reads as `user@example.com`:
    were they two addresses, a second account could wear the first one's address, so
    they are one, the ASCII one (where the owner's mail really goes). Mixed scripts
    (a Cyrillic a, U+0430, among Latin letters) make an address that looks like another
    without being it; no real mailbox needs that, so it is refused outright rather than
    guessed at (mapping it would need Unicode's confusables data and still guess).
    """
    from email_validator import (  # noqa: PLC0415 - 40-50 ms, for the routes taking an address
        EmailNotValidError,
        validate_email,
    )

    text = unicodedata.normalize("NFKC", raw).strip()
    try:
        address = validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from exc
    local, _, domain = address.rpartition("@")
    if any(len(_scripts(part)) > 1 for part in (local, *domain.split("."))):
        raise InvalidEmail("mixed scripts")
    return address


# Scripts that one language writes together count as one (Japanese mixes all three,
# Korean Hangul with Han).
_SCRIPT_FAMILIES = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "HANGUL": "CJK"}


def _scripts(text: str) -> set[str]:
    """The scripts of the letters in `text`, by the first word of each letter's Unicode
    name ("LATIN SMALL LETTER A", "CYRILLIC SMALL LETTER A"): the stdlib has no Script
    property, and for letters the name's first word is the script. Digits, marks and
    punctuation belong to every script and are not counted."""
    scripts = set()
    for char in text:
        if unicodedata.category(char).startswith("L"):
            word = unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]
            scripts.add(_SCRIPT_FAMILIES.get(word, word))
    return scripts


def email_claim_key(email: str) -> str:
    # One account per mailbox however the address is capitalised.
    return f"email#{email.casefold()}"


def login_claim_key(login: str) -> str:
    # NFKC as for addresses: a login typed in fullwidth letters is the same login.
    return f"login#{unicodedata.normalize('NFKC', login).casefold()}"


def account_key(client_number: int | str) -> str:
    return f"account#{client_number}"


def normalise_login(raw: str) -> str:
    login = unicodedata.normalize("NFKC", raw).strip().lower()
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
    text = unicodedata.normalize("NFKC", login_or_email).strip()
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
    outbox.send(
        "email_verification",
        address,
        locale,
        full_name=full_name,
        link=outbox.link("/verify-email", issued.token),
        expires_at=clock.iso(issued.expires_at),
        valid_for_seconds=int(VERIFICATION_TTL.total_seconds()),
    )


def verify_email(token: str, *, client_ip: str) -> AccountView:
    """Create the account a verification link stands for, atomically with its claims."""
    valid = tokens.check(tokens.Purpose.EMAIL_VERIFICATION, token, client_ip=client_ip)
    data = valid.payload
    client_number = _next_client_number()
    login = data.get("login") or generated_login(client_number)
    try:
        account = _create_account(valid, client_number, login, data)
    except TransactWriteError as exc:
        reasons = _cancellation_codes(exc)
        # [token, account, email claim, login claim]: a chosen login taken meanwhile
        # falls back to the generated one; anything else means the link is spent.
        if len(reasons) != 4 or reasons[3] != "ConditionalCheckFailed" or reasons[2] != "None":
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
    with transaction() as tx:
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
    claim_key = _claim_key_for(login_or_email) or "login#"
    ip_limit = login_failures_per_ip()
    ip_counter, ip_retry = throttling.counter_key(ip_limit, client_ip)
    login_counter, login_retry = throttling.counter_key(LOGIN_FAILURES, claim_key)
    # One read for the claim and both failure counters.
    with TransactGet(connection=connection()) as read:
        claim_future = read.get(ClaimModel, claim_key)
        ip_future = read.get(RateLimitModel, ip_counter)
        login_future = read.get(RateLimitModel, login_counter)
    if _hits(ip_future) >= ip_limit.max_hits:
        raise _throttled(ip_retry)
    login_failures = _hits(login_future)
    if login_failures >= LOGIN_FAILURES.max_hits:
        raise _throttled(login_retry)
    account = _account_for_claim(claim_future)
    if account is not None:
        _refuse_if_locked(account)
    if account is None or not passwords.verify_password(account.password_hash, password):
        _record_failure(account, client_ip, claim_key)
        raise InvalidCredentials
    if account.status != AccountStatus.ACTIVE:
        # A disabled account answers as a wrong password would, after the same work: the
        # right password must not tell anyone that the account exists but is switched off.
        telemetry.count(telemetry.Metric.LOGIN_FAILED)
        raise InvalidCredentials
    session = sessions.new_session(account)
    # A reset or password change that lands between our check and this write raised
    # the generation: this login must not survive it.
    same_generation = AccountModel.session_generation == account.session_generation
    try:
        with transaction() as tx:
            tx.save(session.item)
            if login_failures:
                # The count is of consecutive failures: the owner's success clears it.
                tx.delete(RateLimitModel(login_counter))
            if account.failed_logins:
                tx.update(
                    account, actions=[AccountModel.failed_logins.set(0)], condition=same_generation
                )
            else:
                # A read-only check: concurrent logins do not conflict with each other.
                tx.condition_check(AccountModel, account.pk, condition=same_generation)
    except TransactWriteError as exc:
        telemetry.count(telemetry.Metric.LOGIN_FAILED)
        raise InvalidCredentials from exc
    telemetry.count(telemetry.Metric.LOGIN_SUCCEEDED)
    return session


def login_failure_counters(account_login: str, account_email: str) -> list[RateLimitModel]:
    """The current failure counters of an account's login and email, for a password
    reset to clear (the owner has just proved the mailbox)."""
    return [
        RateLimitModel(throttling.counter_key(LOGIN_FAILURES, key)[0])
        for key in (login_claim_key(account_login), email_claim_key(account_email))
    ]


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


def _throttled(retry_after: int) -> RateLimited:
    """A login (or re-authentication) refused before its password was checked."""
    telemetry.count(telemetry.Metric.LOGIN_THROTTLED)
    return RateLimited(retry_after)


def _refuse_if_locked(account: AccountModel) -> None:
    blocked_until = account.login_blocked_until
    if blocked_until is not None and clock.now() < blocked_until:
        raise _throttled(int((blocked_until - clock.now()).total_seconds()) + 1)


def _record_failure(account: AccountModel | None, client_ip: str, claim_key: str) -> None:
    telemetry.count(telemetry.Metric.LOGIN_FAILED)
    throttling.hit(login_failures_per_ip(), client_ip, raise_over_limit=False)
    throttling.hit(LOGIN_FAILURES, claim_key, raise_over_limit=False)
    if account is not None:
        account.update(actions=[AccountModel.failed_logins.add(1)])
        if int(account.failed_logins) >= MAX_CONSECUTIVE_FAILURES:
            # Only a password reset (proof of the mailbox) lifts this.
            account.update(
                actions=[AccountModel.login_blocked_until.set(clock.now() + timedelta(days=3650))]
            )


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
    principal: sessions.Principal, current_password: str, new_password: str, *, client_ip: str
) -> None:
    """Change the password, end every other session and tell the owner. The current
    password is checked under the login throttle: a stolen session must not become a
    way to guess it."""
    account = get_account(principal.client_number)
    check_current_password(account, current_password, client_ip=client_ip)
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
    with transaction() as tx:
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
    with transaction() as tx:
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


# --- contact email ----------------------------------------------------------------------


def switch_contact_email(
    account: AccountModel,
    new_email: str,
    *,
    revoke_sessions: bool = False,
    expected_generation: int | None = None,
    also: Callable[[TransactWrite], None] | None = None,
) -> AccountModel:
    """Make `new_email` the contact (and login) email in one transaction: the account,
    both uniqueness claims, and the death of any pending reset link. `also` adds the
    caller's own operations (using up a link, closing a case) to the same transaction.
    With `expected_generation`, the switch happens only if no password change or reset
    has happened since (a link issued before one must not outlive it).

    The contact email is always an authorised sender, so if the account had authorised
    `new_email` explicitly, that entry and its sender claim go in the same transaction.

    Raises EmailTaken if another account holds the address by now, Conflict if the
    account changed meanwhile.
    """
    old_email = account.email
    actions = [AccountModel.email.set(new_email)]
    if revoke_sessions:
        actions.append(AccountModel.session_generation.add(1))
    condition = AccountModel.email == old_email
    if expected_generation is not None:
        condition &= AccountModel.session_generation == expected_generation
    sender_key = new_email.casefold()
    sender_entry = AccountModel.authorised_emails[sender_key]
    was_authorised = sender_key in authorised_senders(account)
    if was_authorised:
        actions.append(sender_entry.remove())
        condition &= sender_entry.exists()
    else:
        # Fails (Conflict) if the address was authorised after `account` was read.
        condition &= sender_entry.does_not_exist()
    try:
        with transaction() as tx:
            tx.update(account, actions=actions, condition=condition)
            tx.delete(
                ClaimModel(email_claim_key(old_email)),
                condition=ClaimModel.client_number == account.client_number,
            )
            tx.save(
                ClaimModel(email_claim_key(new_email), client_number=account.client_number),
                condition=ClaimModel.pk.does_not_exist(),
            )
            tx.delete(tokens.revoke(tokens.Purpose.PASSWORD_RESET, str(account.client_number)))
            if was_authorised:
                tx.delete(
                    SenderModel(sender_claim_key(new_email)),
                    condition=SenderModel.client_number == account.client_number,
                )
            if also is not None:
                also(tx)
    except TransactWriteError as exc:
        # Asked rather than read off the cancellation reasons: pynamodb sends a
        # transaction's items grouped by kind, so their positions depend on `also`.
        if _claimed_by_another(email_claim_key(new_email), account.client_number):
            raise EmailTaken from exc
        raise Conflict from exc
    account.email = new_email
    if was_authorised:
        senders = authorised_senders(account)
        senders.pop(sender_key, None)
        account.authorised_emails = senders
    return account


def _claimed_by_another(claim_key: str, client_number: int) -> bool:
    try:
        claim = ClaimModel.get(claim_key, consistent_read=True)
    except DoesNotExist:
        return False
    return int(claim.client_number) != int(client_number)


def sender_claim_key(email: str) -> str:
    """The claim that makes an authorised sender address belong to one account."""
    return f"sender#{email.casefold()}"


def authorised_senders(account: AccountModel) -> dict[str, dict[str, Any]]:
    """`{casefolded address: {"email", "added_at"}}`: the addresses the account authorised
    besides its contact email."""
    return account.authorised_emails.as_dict() if account.authorised_emails else {}


def account_for_sender(address: str) -> AccountModel | None:
    """The account that mail from `address` belongs to: the one whose contact email it
    is, else the one that authorised it; None for anyone else."""
    try:
        key = normalise_email(address).casefold()
    except InvalidEmail:
        return None
    for claim_key in (f"email#{key}", f"sender#{key}"):
        model = ClaimModel if claim_key.startswith("email#") else SenderModel
        try:
            claim = model.get(claim_key, consistent_read=True)
        except DoesNotExist:
            continue
        return get_account(claim.client_number)
    return None


# --- re-authentication --------------------------------------------------------------------


def check_current_password(account: AccountModel, password: str, *, client_ip: str) -> None:
    """Re-authentication of a signed-in owner (e.g. before a contact-email change).

    A session must not become a way around the login throttle: a wrong password counts
    as a login failure of the account's login name and of the caller's address, and the
    same limits and lock refuse it (429) before the password is even checked.
    """
    claim_key = login_claim_key(account.login)
    ip_limit = login_failures_per_ip()
    ip_counter, ip_retry = throttling.counter_key(ip_limit, client_ip)
    login_counter, login_retry = throttling.counter_key(LOGIN_FAILURES, claim_key)
    with TransactGet(connection=connection()) as read:
        ip_future = read.get(RateLimitModel, ip_counter)
        login_future = read.get(RateLimitModel, login_counter)
    if _hits(ip_future) >= ip_limit.max_hits:
        raise _throttled(ip_retry)
    if _hits(login_future) >= LOGIN_FAILURES.max_hits:
        raise _throttled(login_retry)
    _refuse_if_locked(account)
    if not passwords.verify_password(account.password_hash, password):
        _record_failure(account, client_ip, claim_key)
        raise InvalidCredentials


def staff_profile(client_number: int) -> dict[str, str]:
    """A staff member's own login and role; Forbidden for anyone else (a second check
    behind the authorizer, which already keeps clients off /staff/... routes)."""
    account = get_account(client_number)
    if account.role not in STAFF_ROLES:
        raise Forbidden
    return {"login": account.login, "role": account.role}
