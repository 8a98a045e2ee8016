"""Signing in and out, the login throttle and lock, and re-authentication of a
signed-in owner (before a password or contact-email change).

Sign-in attempts are each counted before the password is checked (one conditional
write), per identifier as typed (a login name or an address, normalised), whether or
not anyone has it: at most 5 in a 15-minute window and 50 in a row, until a success or
a password reset by email clears the count. An account has two identifiers, so it gets
at most 10 checks a window and 100 in a row (NIST SP 800-63B-4 §3.2.2). Counting per
identifier rather than per account is what keeps the pause and the lock from telling
anything: a paused address does not pause its own login name, so no 429 pairs an
address with an account, and known and unknown identifiers are counted and answered by
the same rule. A count is kept a year after its last attempt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from clientarea import config, passwords, sessions, telemetry, throttling
from clientarea.accounts.identity import AccountStatus, claim_key_for
from clientarea.errors import ConditionsFailed, InvalidCredentials, LoginRateLimited, RateLimited
from clientarea.storage import access
from clientarea.storage import accounts as store
from clientarea.storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from clientarea.storage.accounts import AccountModel
    from clientarea.storage.unit_of_work import Transaction

LOGIN_ATTEMPTS = throttling.ConsecutiveLimit(
    "login_attempts",
    per_window=5,
    window_seconds=15 * 60,
    consecutive=50,
    keep_seconds=365 * 24 * 3600,
)


def login_failures_per_ip() -> throttling.Limit:
    return throttling.Limit("login_failures_ip", config.ip_requests_per_hour(), 3600)


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
    claim_key = claim_key_for(login_or_email) or "login#"
    attempts = claim_key  # the identifier as typed: see the module docstring
    _count_attempt(attempts)
    account = store.account_by_claim(claim_key)
    # An unknown login costs the same argon2 work as a wrong password (a hash nobody has).
    right = passwords.verify_password(account.password_hash if account else None, password)
    # A disabled account answers as a wrong password would, after the same work: the
    # right password must not tell anyone that the account exists but is switched off.
    if account is None or not right or account.status != AccountStatus.ACTIVE:
        telemetry.count(telemetry.Metric.LOGIN_FAILED)
        raise InvalidCredentials
    session = sessions.new_session(account, ip=client_ip, user_agent=user_agent)
    try:
        with UnitOfWork() as uow:
            sessions.save(uow, session)
            # The count is of attempts in a row: the owner's success clears it.
            throttling.clear(uow, LOGIN_ATTEMPTS, attempts)
            ip_hit.give_back(uow)
            # A reset or password change that lands between our check and this write
            # raised the generation: this login must not survive it.
            access.require_generation(uow, account)
    except ConditionsFailed as exc:
        telemetry.count(telemetry.Metric.LOGIN_FAILED)
        raise InvalidCredentials from exc
    telemetry.count(telemetry.Metric.LOGIN_SUCCEEDED)
    return session


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


def clear_login_attempts(tx: Transaction, *, email: str, login: str) -> None:
    """Delete, in `tx`, the counts of sign-in attempts of an account's two identifiers
    (its address and its login name): a password reset does (the owner has just proved
    the mailbox: that always unlocks), as does an administrator's new staff password."""
    for key in (store.email_claim_key(email), store.login_claim_key(login)):
        throttling.clear(tx, LOGIN_ATTEMPTS, key)


def logout(principal: sessions.Principal) -> None:
    sessions.end(principal)


class Reauthenticated(NamedTuple):
    """A current password that checked out; its counted attempt is still to be settled."""

    attempts: str
    ip_hit: throttling.Hit

    def settle(self, tx: Transaction) -> None:
        """Un-count the attempt, in the transaction of what it was for (as a login does)."""
        throttling.clear(tx, LOGIN_ATTEMPTS, self.attempts)
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
    attempts = store.email_claim_key(account.email)
    _count_attempt(attempts)
    if not passwords.verify_password(account.password_hash, password):
        telemetry.count(telemetry.Metric.LOGIN_FAILED)
        raise InvalidCredentials
    return Reauthenticated(attempts, ip_hit)
