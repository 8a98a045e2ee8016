"""Accounts: registration with email verification, login, profile, password change.

Uniqueness of contact email and login is enforced by claim items written in the same
DynamoDB transaction as the account (never by reading a GSI first). A registration
is only a pending token until its link is followed: the account and its claims are
created at verification, so an unverified sign-up can neither block an address nor
pre-hijack it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any, cast

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from clientarea import clock, config, passwords, sessions, telemetry, throttling, tokens
from clientarea.errors import (
    Conflict,
    EmailTaken,
    Forbidden,
    InvalidCredentials,
    InvalidEmail,
    InvalidLogin,
    LoginRateLimited,
    NotFound,
    RateLimited,
    TokenInvalid,
)
from clientarea.mail import outbox
from clientarea.roles import STAFF_ROLES, Role
from clientarea.tables import (
    AccountModel,
    AttemptsModel,
    ClaimModel,
    CounterModel,
    SenderModel,
    SessionModel,
    transaction,
)

VERIFICATION_TTL = timedelta(hours=24)
FIRST_CLIENT_NUMBER = 100_001

# Sign-in attempts, each counted before its password is checked (one conditional write),
# per identifier as typed (a login name or an address, normalised), whether or not
# anyone has it: at most 5 in a 15-minute window and 50 in a row, until a success or a
# password reset by email clears the count. An account has two identifiers, so it gets
# at most 10 checks a window and 100 in a row (NIST SP 800-63B-4 §3.2.2). Counting per
# identifier rather than per account is what keeps the pause and the lock from telling
# anything: a paused address does not pause its own login name, so no 429 pairs an
# address with an account, and known and unknown identifiers are counted and answered
# by the same rule. A count is kept a year after its last attempt.
LOGIN_ATTEMPTS = throttling.ConsecutiveLimit(
    "login_attempts",
    per_window=5,
    window_seconds=15 * 60,
    consecutive=50,
    keep_seconds=365 * 24 * 3600,
)
# Read for a login nobody has, so that it makes the same calls as a known one.
_NO_ACCOUNT = "account#0"

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
    # True once mail to `email` hard-bounced or drew a complaint: nothing is mailed to
    # it until the client changes it (clientarea.bounces).
    email_undeliverable: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _view(account: AccountModel) -> AccountView:
    senders = confirmed_senders(account)
    return AccountView(
        client_number=int(account.client_number),
        login=account.login,
        email=account.email,
        full_name=account.full_name,
        phone=account.phone,
        address=account.address,
        locale=account.locale,
        authorised_emails=sorted(entry["email"] for entry in senders.values()),
        email_undeliverable=not contact_email_deliverable(account),
    )


def contact_email_deliverable(account: AccountModel) -> bool:
    """False once SES reported a hard bounce or a complaint for the contact email."""
    return account.email_undeliverable is None


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


# Least privilege down to attributes: the functions that need no password hash may read
# only some attributes of the Accounts table (template.yaml: a `dynamodb:Attributes`
# condition on each of their statements; a read without a projection is refused), so
# each of their reads names what it needs. A claim (login#, email#, sender#) is read
# for whose it is; an account's key (`pk`) always comes along, to write back to it.
CLAIM = ("client_number",)
CONTACT = ("client_number", "email", "locale", "full_name")  # to mail the holder


def _projection(attributes: Sequence[str] | None) -> list[str] | None:
    return None if attributes is None else list(dict.fromkeys(("pk", *attributes)))


def get_account(client_number: int | str, attributes: Sequence[str] | None = None) -> AccountModel:
    """The account, whole, or only `attributes` of it (the others are None)."""
    try:
        return AccountModel.get(
            account_key(client_number),
            consistent_read=True,
            attributes_to_get=_projection(attributes),
        )
    except DoesNotExist as exc:
        raise NotFound from exc


def find_by_login_or_email(
    login_or_email: str, attributes: Sequence[str] | None = None
) -> AccountModel | None:
    """The account a person means by a login name or contact email, if any (whole, or
    only `attributes` of it)."""
    key = _claim_key_for(login_or_email)
    if key is None:
        return None
    try:
        claim = ClaimModel.get(key, consistent_read=True, attributes_to_get=list(CLAIM))
        return get_account(cast(int, claim.client_number), attributes)
    except (DoesNotExist, NotFound):
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
    outbox.send(
        "email_verification",
        address,
        locale,
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


def login(
    login_or_email: str, password: str, *, client_ip: str, user_agent: str | None = None
) -> sessions.NewSession:
    """Check credentials and open a session; unknown login and wrong password look alike.

    The attempt is counted (per address, then per login name or address as typed) before
    the password is checked, by writes whose own outcome decides, so parallel guesses cannot
    all slip under the limit. A success un-counts it in the transaction that saves the
    session.
    """
    ip_hit = _count_attempt_of_address(client_ip)
    claim_key = _claim_key_for(login_or_email) or "login#"
    attempts = claim_key  # the identifier as typed: see LOGIN_ATTEMPTS
    _count_attempt(attempts)
    claim = _claim(claim_key)
    account = _account_of(claim)
    # An unknown login costs the same argon2 work as a wrong password (a hash nobody has).
    right = passwords.verify_password(account.password_hash if account else None, password)
    # A disabled account answers as a wrong password would, after the same work: the
    # right password must not tell anyone that the account exists but is switched off.
    if account is None or not right or account.status != AccountStatus.ACTIVE:
        telemetry.count(telemetry.Metric.LOGIN_FAILED)
        raise InvalidCredentials
    session = sessions.new_session(account, ip=client_ip, user_agent=user_agent)
    # A reset or password change that lands between our check and this write raised
    # the generation: this login must not survive it.
    same_generation = AccountModel.session_generation == account.session_generation
    try:
        with transaction() as tx:
            tx.save(session.item)
            # The count is of attempts in a row: the owner's success clears it.
            tx.delete(throttling.clear(LOGIN_ATTEMPTS, attempts))
            ip_hit.give_back(tx)
            # A read-only check: concurrent logins do not conflict with each other.
            tx.condition_check(AccountModel, account.pk, condition=same_generation)
    except TransactWriteError as exc:
        telemetry.count(telemetry.Metric.LOGIN_FAILED)
        raise InvalidCredentials from exc
    telemetry.count(telemetry.Metric.LOGIN_SUCCEEDED)
    return session


def _claim(claim_key: str) -> ClaimModel | None:
    try:
        return ClaimModel.get(claim_key, consistent_read=True)
    except DoesNotExist:
        return None


def _account_of(claim: ClaimModel | None) -> AccountModel | None:
    key = account_key(cast(int, claim.client_number)) if claim is not None else _NO_ACCOUNT
    try:
        return AccountModel.get(key, consistent_read=True)
    except DoesNotExist:
        return None


def _count_attempt(key: str) -> None:
    """Count one sign-in attempt of `key` (an account, or a login nobody has) before it
    is checked; LoginRateLimited, alike for a pause and the lock, when there is no room."""
    try:
        throttling.admit(LOGIN_ATTEMPTS, key)
    except RateLimited as exc:
        telemetry.count(telemetry.Metric.LOGIN_THROTTLED)
        raise LoginRateLimited(exc.retry_after) from exc


def _count_attempt_of_address(client_ip: str) -> throttling.Hit:
    """Count one sign-in attempt of the caller's address, before anything else."""
    try:
        return throttling.hit(login_failures_per_ip(), client_ip)
    except RateLimited:
        telemetry.count(telemetry.Metric.LOGIN_THROTTLED)
        raise


def login_attempts(*, email: str, login: str) -> list[AttemptsModel]:
    """The counts of sign-in attempts of an account's two identifiers (its address and
    its login name), for a password reset to delete in its transaction (the owner has
    just proved the mailbox: that always unlocks)."""
    return [
        throttling.clear(LOGIN_ATTEMPTS, key)
        for key in (email_claim_key(email), login_claim_key(login))
    ]


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
    actions: list[Action] = [
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
    """Change the password, end every other session and any pending reset link (in one
    transaction) and tell the owner. The current password is checked under the login
    throttle: a stolen session must not become a way to guess it."""
    account = get_account(principal.client_number)
    # The new password's rules first: refusing it says nothing about the current one, and
    # a weak choice must not spend one of the owner's counted attempts.
    passwords.check_policy(new_password, login=account.login, email=account.email)
    checked = check_current_password(account, current_password, client_ip=client_ip)
    generation = int(account.session_generation)
    try:
        _store_new_password(account, principal, generation, new_password, checked)
    except TransactWriteError as exc:
        raise Conflict from exc
    notify_password_changed(account)


def _store_new_password(
    account: AccountModel,
    principal: sessions.Principal,
    generation: int,
    new_password: str,
    checked: Reauthenticated,
) -> None:
    with transaction() as tx:
        checked.settle(tx)
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
        # And any pending reset link: it must not set a password over the one just chosen.
        tx.delete(tokens.revoke(tokens.Purpose.PASSWORD_RESET, str(principal.client_number)))


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

    The new address starts deliverable (`email_undeliverable` cleared): callers that
    notify the old address check `contact_email_deliverable` before switching.

    Raises EmailTaken if another account holds the address by now, Conflict if the
    account changed meanwhile.
    """
    old_email = account.email
    # A new address starts deliverable: its claim is new, and the flag goes here.
    actions: list[Action] = [
        AccountModel.email.set(new_email),
        AccountModel.email_undeliverable.remove(),
    ]
    if revoke_sessions:
        actions.append(AccountModel.session_generation.add(1))
    condition = AccountModel.email == old_email
    if expected_generation is not None:
        condition &= AccountModel.session_generation == expected_generation
    sender_key = new_email.casefold()
    sender_entry = AccountModel.authorised_emails[sender_key]
    listed = authorised_senders(account).get(sender_key)
    was_listed = listed is not None
    # Only a confirmed entry has a sender claim (written at its confirmation).
    was_confirmed = listed is not None and is_confirmed_sender(listed)
    if was_listed:
        actions.append(sender_entry.remove())
        condition &= sender_entry.exists()
    else:
        # Fails (Conflict) if the address was listed after `account` was read.
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
            if was_listed:
                # A pending confirmation link for the new contact address dies with it.
                link = sender_link_subject(int(account.client_number), new_email)
                tx.delete(tokens.revoke(tokens.Purpose.SENDER_CONFIRMATION, link))
            if was_confirmed:
                tx.delete(
                    SenderModel(sender_claim_key(new_email)),
                    condition=SenderModel.client_number == account.client_number,
                )
            if also is not None:
                also(tx)
    except TransactWriteError as exc:
        # Asked rather than read off the cancellation reasons: pynamodb sends a
        # transaction's items grouped by kind, so their positions depend on `also`.
        if _claimed_by_another(email_claim_key(new_email), cast(int, account.client_number)):
            raise EmailTaken from exc
        raise Conflict from exc
    account.email = new_email
    account.email_undeliverable = None
    if was_listed:
        senders = authorised_senders(account)
        senders.pop(sender_key, None)
        account.authorised_emails = senders
    return account


def _claimed_by_another(claim_key: str, client_number: int) -> bool:
    try:
        claim = ClaimModel.get(claim_key, consistent_read=True, attributes_to_get=list(CLAIM))
    except DoesNotExist:
        return False
    return int(claim.client_number) != int(client_number)


def sender_claim_key(email: str) -> str:
    """The claim that makes an authorised sender address belong to one account."""
    return f"sender#{email.casefold()}"


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
    for claim_key in (f"email#{key}", f"sender#{key}"):
        model = ClaimModel if claim_key.startswith("email#") else SenderModel
        try:
            claim = model.get(claim_key, consistent_read=True, attributes_to_get=list(CLAIM))
        except DoesNotExist:
            continue
        if model is ClaimModel:
            return get_account(cast(int, claim.client_number), attributes)
        account = get_account(
            cast(int, claim.client_number), tuple(dict.fromkeys((*attributes, "authorised_emails")))
        )
        if not is_confirmed_sender(authorised_senders(account).get(key, {})):
            return None  # a claim left from before confirmation existed: no proof
        return account
    return None


# --- re-authentication --------------------------------------------------------------------


@dataclass(frozen=True)
class Reauthenticated:
    """A current password that checked out; its counted attempt is still to be settled."""

    attempts: str
    ip_hit: throttling.Hit

    def settle(self, tx: TransactWrite) -> None:
        """Un-count the attempt, in the transaction of what it was for (as a login does)."""
        tx.delete(throttling.clear(LOGIN_ATTEMPTS, self.attempts))
        self.ip_hit.give_back(tx)


def check_current_password(
    account: AccountModel, password: str, *, client_ip: str
) -> Reauthenticated:
    """Re-authentication of a signed-in owner (before a password or contact-email change).

    A session must not become a way around the login throttle: the attempt is counted,
    before the password is checked, as a sign-in attempt of the account's address (the
    identifier its owner signs in with by default) and of the caller's address, under the
    same limits and the same lock as the login form.
    """
    ip_hit = _count_attempt_of_address(client_ip)
    attempts = email_claim_key(account.email)
    _count_attempt(attempts)
    if not passwords.verify_password(account.password_hash, password):
        telemetry.count(telemetry.Metric.LOGIN_FAILED)
        raise InvalidCredentials
    return Reauthenticated(attempts, ip_hit)


def staff_profile(client_number: int) -> dict[str, str]:
    """A staff member's own login and role; Forbidden for anyone else (a second check
    behind the authorizer, which already keeps clients off /staff/... routes)."""
    account = get_account(client_number)
    if account.role not in STAFF_ROLES:
        raise Forbidden
    return {"login": account.login, "role": account.role}
