"""Login throttling (issue 12, item 3): guesses are counted before they are checked, so
a burst of parallel wrong passwords gets no more checks than the limit; the lock after
100 consecutive failures answers alike whether or not the login exists, and a password
reset by email always lifts it.

A 401 `invalid_credentials` means the password was checked (and was wrong); a 429 means
it was refused unchecked. So "checks that got through" are counted as 401s.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.clients import ApiClient, Reply
from tests.support.accounts import PASSWORD, fresh_email, log_in, register_and_verify
from tests.support.aws_calls import recorded_aws_calls
from tests.support.replies import expect_error

WINDOW = 15 * 60  # the pause after 5 failures of one login name or address
PER_WINDOW = 5
LOCK_AFTER = 50
BURST = 24
NEW_PASSWORD = "a fresh passphrase after the lock 31"


def _login(client: ApiClient, login: str, password: str) -> Reply:
    return client.post("/auth/login", {"login": login, "password": password})


def _burst(calls: int, action: Any) -> list[Any]:
    """`action(i)` from `calls` threads released at the same instant."""
    start = threading.Barrier(calls)

    def run(i: int) -> Any:
        start.wait()
        return action(i)

    with ThreadPoolExecutor(calls) as pool:
        return list(pool.map(run, range(calls)))


# --- bursts -----------------------------------------------------------------------------------


def test_a_burst_of_parallel_wrong_passwords_gets_no_more_checks_than_the_limit(http_client):
    # GIVEN an account nobody has guessed at
    email = fresh_email("throttle")
    register_and_verify(http_client, email)
    # WHEN 24 wrong passwords arrive at once (over HTTP, the dev server serves them in
    # parallel), all in one 15-minute window (the clock is stopped)
    with http_client.frozen_clock():
        replies = _burst(BURST, lambda i: _login(http_client, email, f"wrong guess number {i} xx"))
        right = _login(http_client, email, PASSWORD)
    # THEN at most 10 were checked (401); every other one was refused unchecked (429)
    statuses = Counter(r.status for r in replies)
    assert set(statuses) <= {401, 429}, statuses
    assert statuses[401] <= PER_WINDOW, statuses
    assert statuses[429] >= BURST - PER_WINDOW, statuses
    # AND the account is paused for the right password too
    expect_error(right, 429, "rate_limited")


def test_a_burst_of_parallel_login_calls_in_process_gets_no_more_checks_than_the_limit(
    handler_client,
):
    # GIVEN an account, and the domain's login called from many threads at once (the
    # handler's resolver holds one event at a time, as one Lambda environment does)
    from clientarea.accounts import login as sign_in
    from clientarea.errors import InvalidCredentials, RateLimited

    email = fresh_email("throttle")
    register_and_verify(handler_client, email)

    def guess(i: int) -> str:
        try:
            sign_in.login(email, f"wrong guess number {i} xx", client_ip="198.51.100.40")
        except InvalidCredentials:
            return "checked"
        except RateLimited:
            return "refused"
        return "logged in"

    with handler_client.frozen_clock():  # one 15-minute window
        outcomes = Counter(_burst(BURST, guess))
    # THEN at most 10 guesses were checked
    assert set(outcomes) <= {"checked", "refused"}, outcomes
    assert outcomes["checked"] <= PER_WINDOW, outcomes
    assert outcomes["refused"] >= BURST - PER_WINDOW, outcomes


def test_a_burst_of_wrong_current_passwords_gets_no_more_checks_than_the_limit(http_client):
    # GIVEN a signed-in account (a stolen session, say)
    email = fresh_email("throttle")
    register_and_verify(http_client, email)
    token = log_in(http_client, email)

    def change(i: int) -> Reply:
        body = {"current_password": f"wrong guess number {i} xx", "new_password": NEW_PASSWORD}
        return http_client.put("/account/password", body, token=token)

    # WHEN 24 password changes with wrong current passwords arrive at once
    with http_client.frozen_clock():  # one 15-minute window
        statuses = Counter(r.status for r in _burst(BURST, change))
        right = _login(http_client, email, PASSWORD)
    # THEN at most 10 current passwords were checked
    assert set(statuses) <= {401, 429}, statuses
    assert statuses[401] <= PER_WINDOW, statuses
    # AND it is the login's own throttle: logging in is paused as well
    expect_error(right, 429, "rate_limited")


# --- the lock after 50 consecutive failures --------------------------------------------------


def _fail_until_locked(client: ApiClient, login: str) -> None:
    """50 wrong passwords, 5 per 15-minute window (the most the pause allows)."""
    for window in range(LOCK_AFTER // PER_WINDOW):
        for attempt in range(PER_WINDOW):
            expect_error(
                _login(client, login, f"wrong {window}-{attempt} password"),
                401,
                "invalid_credentials",
            )
        client.advance_clock(WINDOW)


def test_the_lock_after_50_failures_answers_alike_for_known_and_unknown_logins(client):
    # GIVEN an account, and a login nobody has
    known = fresh_email("throttle")
    register_and_verify(client, known)
    unknown = fresh_email("throttle")
    # WHEN each has had 50 consecutive wrong passwords
    _fail_until_locked(client, known)
    _fail_until_locked(client, unknown)
    # THEN at one instant, both are refused with the same 429: status, body and Retry-After
    with client.frozen_clock():
        known_reply = _login(client, known, PASSWORD)  # the right password
        unknown_reply = _login(client, unknown, PASSWORD)
    body = expect_error(known_reply, 429, "rate_limited")
    assert (known_reply.status, known_reply.body) == (unknown_reply.status, unknown_reply.body)
    assert known_reply.header("Retry-After") == unknown_reply.header("Retry-After")
    assert 1 <= int(known_reply.header("Retry-After")) <= WINDOW
    # AND the message tells the owner how to unlock it at once
    assert "reset" in body["message"].lower() and "email" in body["message"].lower()
    # AND waiting does not lift it, for either
    client.advance_clock(WINDOW)
    expect_error(_login(client, known, PASSWORD), 429, "rate_limited")
    expect_error(_login(client, unknown, PASSWORD), 429, "rate_limited")
    # WHEN the owner resets the password through the emailed link
    assert client.post("/password/forgot", {"login": known}).status == 202
    link = client.mail_link_token(known, subject_contains="password")
    reset = client.post("/password/reset", {"token": link, "new_password": NEW_PASSWORD})
    assert reset.status == 204
    # THEN the new password logs in at once, and a wrong one is a plain 401 again
    assert _login(client, known, NEW_PASSWORD).status == 200
    expect_error(_login(client, known, "wrong once more"), 401, "invalid_credentials")


def test_locked_known_and_unknown_logins_make_the_same_aws_calls(handler_client):
    from clientarea import throttling
    from clientarea.accounts import login as sign_in

    # GIVEN a locked account and a locked login nobody has (the failures counted
    # directly: the test above makes them through the login route)
    known, unknown = fresh_email("throttle"), fresh_email("throttle")
    register_and_verify(handler_client, known)
    for key in (f"email#{known}", f"email#{unknown}"):
        for _ in range(LOCK_AFTER // PER_WINDOW):
            for _ in range(PER_WINDOW):
                throttling.admit(sign_in.LOGIN_ATTEMPTS, key)
            handler_client.advance_clock(WINDOW)
    # WHEN each is tried once more, every AWS call being recorded
    patterns = []
    for login in (known, unknown):
        with recorded_aws_calls() as calls:
            expect_error(_login(handler_client, login, PASSWORD), 429, "rate_limited")
        patterns.append([(call.operation, call.table) for call in calls])
    # THEN the same calls on the same tables, in the same order
    assert patterns[0] == patterns[1], patterns


@pytest.mark.parametrize("locale", ["en", "uk", "ru", "pl", "pt"])
def test_the_login_429_says_a_reset_unlocks_it_in_every_language(handler_client, locale):
    from clientarea import i18n, locales

    email = fresh_email("throttle")
    register_and_verify(handler_client, email)
    with handler_client.frozen_clock():  # one 15-minute window
        for i in range(PER_WINDOW):
            _login(handler_client, email, f"wrong password number {i}")
        reply = handler_client.post(
            "/auth/login",
            {"login": email, "password": PASSWORD},
            headers={"Accept-Language": locale},
        )
    body = expect_error(reply, 429, "rate_limited")
    # the login's own message, not the generic "too many requests"
    retry_after = int(reply.header("Retry-After"))
    generic = locales.message("rate_limited", locale, retry_after=retry_after)
    assert body["message"] != generic
    # and the wait it names is Retry-After, in the language's words ("14 minutes and 59
    # seconds": a duration, as every retry_after in a message is)
    assert i18n.duration(retry_after, locale) in body["message"]


# --- found by the attacker review of issue 12 -------------------------------------------------


def test_a_paused_email_does_not_tell_which_login_name_is_the_same_account(client):
    """The attack: pause an address with 5 wrong passwords, then try a login name once.
    A login name of the same account shares the account's count (429); any other name,
    existing or not, has a count of its own (401). Generated logins are `client<number>`,
    so walking them tells whether the address is registered, and whose it is."""
    email = fresh_email("throttle")
    created = register_and_verify(client, email)
    other = fresh_email("throttle")
    other_login = register_and_verify(client, other)["login"]
    with client.frozen_clock():  # one 15-minute window
        for i in range(PER_WINDOW):
            _login(client, email, f"wrong guess number {i} xx")
        expect_error(_login(client, email, "one more wrong guess"), 429, "rate_limited")
        # WHEN the attacker tries candidate login names once each
        own = _login(client, created["login"], "a wrong guess for the name")
        foreign = _login(client, other_login, "a wrong guess for the name")
        nobody = _login(client, f"nobody{uuid.uuid4().hex[:8]}", "a wrong guess for the name")
    # THEN the account's own login name answers like any other name: nothing pairs them
    assert (foreign.status, foreign.body) == (nobody.status, nobody.body)
    assert (own.status, own.body) == (nobody.status, nobody.body), own.body
