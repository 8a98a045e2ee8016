"""Contact email and authorised senders (API.md "Contact email"), end to end.

Most tests run twice through the `client` fixture: in-process through the real
handlers on moto, and over HTTP against the dev server (shared by every test of a
session, hence unique addresses per test).
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from infra.local.deployment import DEV_FRONTEND_URL
from tests.clients import ApiClient, Reply
from tests.conftest import PASSWORD, expect_error, log_in, register_and_verify

TWO_HOURS = 2 * 3600
FRONTEND = DEV_FRONTEND_URL  # the dev deployment's FrontendUrl
NEW_PASSWORD = "a completely new passphrase 42"


# --- helpers ------------------------------------------------------------------------


def _email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"




def _new_account(client: ApiClient) -> dict[str, Any]:
    email = _email()
    created = register_and_verify(client, email)
    return {**created, "email": email, "token": log_in(client, email)}


def _request_change(
    client: ApiClient, account: dict[str, Any], new_email: str, password: str = PASSWORD
) -> Reply:
    return client.post(
        "/account/email-change",
        {"new_email": new_email, "current_password": password},
        token=account["token"],
    )


def _subjects(client: ApiClient, to: str) -> list[str]:
    return [mail["subject"] for mail in client.all_mails() if mail["to"].lower() == to.lower()]


def _mails_about(client: ApiClient, to: str, subject_part: str) -> list[dict[str, Any]]:
    """Mails to `to` whose subject has the text, waiting (over HTTP the mailer is
    asynchronous) until there is at least one."""
    deadline = time.monotonic() + 10
    while True:
        found = [m for m in client.mails(to, timeout=0) if subject_part in m["subject"]]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def _change_token(client: ApiClient, new_email: str, count: int = 1) -> str:
    return client.mail_link_token(new_email, subject_contains="confirm your new", count=count)


def _confirm(client: ApiClient, token: str) -> Reply:
    return client.post("/account/email-change/confirm", {"token": token})


def _contact_of(client: ApiClient, account: dict[str, Any]) -> str:
    reply = client.get("/account", token=account["token"])
    assert reply.status == 200, reply.body
    return reply.json()["email"]


# --- POST /account/email-change and /confirm -----------------------------------------


def test_change_is_confirmed_by_the_new_address_and_both_are_told(client):
    # GIVEN an account and an address nobody uses
    account = _new_account(client)
    old, new = account["email"], _email("new")
    # WHEN its owner asks for the change with the current password
    reply = _request_change(client, account, new)
    # THEN 202 {} and the contact email has not changed yet
    assert (reply.status, reply.json()) == (202, {})
    assert _contact_of(client, account) == old
    # AND the new address gets a link to the frontend, secret in the fragment
    [confirm_mail] = client.mails(new)
    assert "confirm your new contact email" in confirm_mail["subject"]
    [link] = [link for link in confirm_mail["links"] if "#token=" in link]
    assert link.startswith(f"{FRONTEND}/email-change/confirm#token=")
    assert "2 hours" in confirm_mail["text"]
    # AND the old address gets a notice naming the new address, with no link to confirm
    [notice] = _mails_about(client, old, "request to change")
    assert new in notice["text"]
    assert not any("#token=" in link for link in notice["links"])
    # WHEN the page at the link posts its token (no session needed)
    confirmed = _confirm(client, link.split("#token=", 1)[1])
    # THEN 200 with the account, now under the new address
    assert confirmed.status == 200, confirmed.body
    body = confirmed.json()
    assert body["email"] == new
    assert body["client_number"] == account["client_number"]
    assert _contact_of(client, account) == new
    # AND both addresses are told, naming both
    for address in (old, new):
        changed = _mails_about(client, address, "was changed")
        assert len(changed) == 1, _subjects(client, address)
        assert old in changed[0]["text"] and new in changed[0]["text"]
    # AND the new address logs in, the old one no longer does
    assert client.post("/auth/login", {"login": new, "password": PASSWORD}).status == 200
    expect_error(
        client.post("/auth/login", {"login": old, "password": PASSWORD}), 401, "invalid_credentials"
    )
    # AND the session the change was requested from still works
    assert client.get("/account", token=account["token"]).status == 200


def test_confirmation_link_works_once(client):
    account = _new_account(client)
    new = _email("new")
    assert _request_change(client, account, new).status == 202
    token = _change_token(client, new)
    assert _confirm(client, token).status == 200
    assert len(_mails_about(client, new, "was changed")) == 1
    # WHEN the same link is used again / THEN 410, and nobody is mailed again
    expect_error(_confirm(client, token), 410, "token_invalid")
    assert len(client.mails(new, count=3, timeout=1)) == 2  # the link and "was changed"
    assert _contact_of(client, account) == new


def test_newer_request_supersedes_the_older_link(client):
    account = _new_account(client)
    first, second = _email("first"), _email("second")
    assert _request_change(client, account, first).status == 202
    older = _change_token(client, first)
    assert _request_change(client, account, second).status == 202
    newer = _change_token(client, second)
    # THEN the older link is dead, even though its address is still free
    expect_error(_confirm(client, older), 410, "token_invalid")
    assert _contact_of(client, account) == account["email"]
    # AND the newer one works
    assert _confirm(client, newer).json()["email"] == second


def _at_link_age(client: ApiClient, account: dict[str, Any], monkeypatch, seconds: int) -> None:
    """Put the functions' clock `seconds` after the pending link was issued. In-process
    the clock is frozen at exactly that instant; over HTTP it can only be moved forward,
    and the round trips since the link was issued add up to a second to its age."""
    if client.transport == "handler":
        from clientarea import clock
        from clientarea.tables import TokenModel

        item = TokenModel.get(f"email_change#{account['client_number']}", consistent_read=True)
        issued_at = item.expires_at - timedelta(seconds=TWO_HOURS)
        monkeypatch.setattr(clock, "now", lambda: issued_at + timedelta(seconds=seconds))
    else:
        client.advance_clock(seconds - 1 if seconds < TWO_HOURS else seconds)


def test_link_still_works_at_1_59_59(client, monkeypatch):
    account = _new_account(client)
    new = _email("new")
    assert _request_change(client, account, new).status == 202
    token = _change_token(client, new)
    _at_link_age(client, account, monkeypatch, TWO_HOURS - 1)
    assert _confirm(client, token).status == 200
    assert _contact_of(client, account) == new


def test_link_is_gone_at_2_00_00(client, monkeypatch):
    account = _new_account(client)
    new = _email("new")
    assert _request_change(client, account, new).status == 202
    token = _change_token(client, new)
    # exactly 2:00:00 in-process, 2:00:00 plus the round trips over HTTP
    _at_link_age(client, account, monkeypatch, TWO_HOURS)
    expect_error(_confirm(client, token), 410, "token_invalid")
    assert _contact_of(client, account) == account["email"]


def test_garbage_and_malformed_links(client):
    account = _new_account(client)
    new = _email("new")
    assert _request_change(client, account, new).status == 202
    token = _change_token(client, new)
    subject, secret = token.split(".")
    for bad in (
        "nonsense",
        f"{subject}.{'A' * 43}",  # right account, wrong secret
        f"{int(subject) + 1}.{secret}",  # right secret, another account
        f"{subject}.{secret}x",
        f"{subject}.{secret[:-1]}",
    ):
        expect_error(_confirm(client, bad), 410, "token_invalid")
    for body in ({}, {"token": ""}, {"token": 5}, {"token": token, "extra": 1}):
        expect_error(client.post("/account/email-change/confirm", body), 422, "validation_error")
    # AND none of that spent the real link
    assert _confirm(client, token).status == 200


def test_address_taken_meanwhile_is_409_and_nothing_changes(client):
    # GIVEN a pending change to an address that is free at request time
    account = _new_account(client)
    contested = _email("contested")
    assert _request_change(client, account, contested).status == 202
    token = _change_token(client, contested)
    # WHEN someone else registers that address before the link is used
    body = {"email": contested, "password": PASSWORD, "full_name": "Other", "locale": "en"}
    assert client.post("/auth/register", body).status == 202
    verification = client.mail_link_token(contested, subject_contains="confirm your email address")
    other = client.post("/auth/verify-email", {"token": verification}).json()
    # THEN the confirmation is 409 email_taken
    expect_error(_confirm(client, token), 409, "email_taken")
    # AND nothing changed: contact, logins, and no "was changed" notice anywhere
    assert _contact_of(client, account) == account["email"]
    assert (
        client.post("/auth/login", {"login": account["email"], "password": PASSWORD}).status == 200
    )
    assert log_in(client, contested).split(".")[0] == str(other["client_number"])
    assert not any("was changed" in s for s in _subjects(client, account["email"]))
    assert not any("was changed" in s for s in _subjects(client, contested))


def test_address_of_another_account_is_not_revealed_at_request_time(client):
    # GIVEN two accounts
    account, other = _new_account(client), _new_account(client)
    before = len(client.mails(other["email"], count=2))
    # WHEN one asks to take the other's contact address (in another capitalisation)
    reply = _request_change(client, account, other["email"].upper())
    fresh = _request_change(client, _new_account(client), _email("free"))
    # THEN the answer is exactly the one a free address gets
    assert (reply.status, reply.body) == (fresh.status, fresh.body) == (202, b"{}")
    # AND the requester's own address gets the usual notice
    assert len(_mails_about(client, account["email"], "request to change")) == 1
    # BUT the other account's owner is sent nothing
    assert len(client.mails(other["email"], count=before + 1, timeout=1)) == before


def test_two_accounts_racing_for_one_address_exactly_one_wins(http_client):
    # GIVEN two accounts with pending changes to the same free address
    first, second = _new_account(http_client), _new_account(http_client)
    contested = _email("contested")
    assert _request_change(http_client, first, contested).status == 202
    assert _request_change(http_client, second, contested).status == 202
    tokens = [link for m in http_client.mails(contested, count=2) for link in m["links"]]
    tokens = [link.split("#token=", 1)[1] for link in tokens if "#token=" in link]
    assert len(tokens) == 2
    # WHEN both links are used at the same moment
    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda token: _confirm(http_client, token), tokens))
    # THEN exactly one wins and the other is told the address is taken
    assert sorted(r.status for r in replies) == [200, 409]
    loser = next(r for r in replies if r.status == 409)
    assert loser.json()["code"] == "email_taken"
    winner = next(r for r in replies if r.status == 200).json()
    # AND the address logs in to the winner only
    assert log_in(http_client, contested).split(".")[0] == str(winner["client_number"])
    contacts = sorted([_contact_of(http_client, first), _contact_of(http_client, second)])
    assert contacts.count(contested) == 1


def test_reset_link_issued_before_the_switch_is_dead_after_it(client):
    # GIVEN a reset link sent to the old address
    account = _new_account(client)
    assert client.post("/password/forgot", {"login": account["email"]}).status == 202
    reset_token = client.mail_link_token(account["email"], subject_contains="reset your password")
    assert client.post("/password/reset/verify", {"token": reset_token}).status == 200
    # WHEN the contact email is switched
    new = _email("new")
    assert _request_change(client, account, new).status == 202
    assert _confirm(client, _change_token(client, new)).status == 200
    # THEN the reset link no longer works
    expect_error(client.post("/password/reset/verify", {"token": reset_token}), 410, "token_invalid")
    reset = client.post("/password/reset", {"token": reset_token, "new_password": NEW_PASSWORD})
    expect_error(reset, 410, "token_invalid")
    assert client.post("/auth/login", {"login": new, "password": PASSWORD}).status == 200


def test_password_change_after_the_request_kills_the_link(client):
    # GIVEN a pending change (the old address was told: "if it was not you, reset")
    account = _new_account(client)
    new = _email("new")
    assert _request_change(client, account, new).status == 202
    token = _change_token(client, new)
    # WHEN the owner changes the password
    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert client.put("/account/password", change, token=account["token"]).status == 204
    # THEN the pending link is dead
    expect_error(_confirm(client, token), 410, "token_invalid")
    assert _contact_of(client, account) == account["email"]


def test_wrong_current_password_is_401_and_sends_nothing(client):
    account = _new_account(client)
    new = _email("new")
    before = len(client.mails(account["email"], count=2))
    reply = _request_change(client, account, new, password="not the right passphrase")
    expect_error(reply, 401, "invalid_credentials")
    # AND the session is still valid (a wrong password is not a logout)
    assert client.get("/account", token=account["token"]).status == 200
    assert client.mails(new, timeout=0.5) == []
    assert len(client.mails(account["email"], count=before + 1, timeout=0.5)) == before


def test_wrong_passwords_count_as_login_failures(client):
    # GIVEN ten wrong current passwords on the change route
    account = _new_account(client)
    new = _email("new")
    for _ in range(10):
        expect_error(
            _request_change(client, account, new, password="wrong passphrase!!"),
            401,
            "invalid_credentials",
        )
    # THEN the right password is refused too, for a while (it cannot be guessed here)
    limited = _request_change(client, account, new)
    expect_error(limited, 429, "rate_limited")
    assert int(limited.header("Retry-After")) > 0
    # AND the login throttle of the login name is the same counter
    expect_error(
        client.post("/auth/login", {"login": account["login"], "password": PASSWORD}),
        429,
        "rate_limited",
    )
    # AND after the 15-minute window the change goes through
    client.advance_clock(15 * 60 + 1)
    assert _request_change(client, account, new).status == 202


def test_bad_inputs_are_422(client):
    account = _new_account(client)
    for new_email in ("not-an-address", "two@@example.com", "a@b", "user@exa mple.com"):
        expect_error(_request_change(client, account, new_email), 422, "invalid_email")
    # the current address, in any capitalisation, is not a change
    for same in (account["email"], account["email"].upper()):
        expect_error(_request_change(client, account, same), 422, "email_unchanged")
    for body in (
        {},
        {"new_email": _email()},
        {"current_password": PASSWORD},
        {"new_email": _email(), "current_password": ""},
        {"new_email": 5, "current_password": PASSWORD},
        {"new_email": _email(), "current_password": PASSWORD, "extra": 1},
        {"new_email": "x" * 300 + "@example.com", "current_password": PASSWORD},
    ):
        reply = client.post("/account/email-change", body, token=account["token"])
        expect_error(reply, 422, "validation_error")
    assert client.mails(account["email"], count=3, timeout=0.5)[-1]["subject"].endswith("ready")


def test_at_most_five_requests_an_hour_per_account(client):
    account = _new_account(client)
    for _ in range(5):
        assert _request_change(client, account, _email("new")).status == 202
    expect_error(_request_change(client, account, _email("new")), 429, "rate_limited")


def test_changing_routes_need_a_session(client):
    body = {"new_email": _email(), "current_password": PASSWORD}
    expect_error(client.post("/account/email-change", body), 401, "unauthorized")
    expect_error(
        client.post("/account/email-change", body, token="100001." + "A" * 43), 401, "unauthorized"
    )
    expect_error(client.get("/account/authorised-emails"), 401, "unauthorized")
    expect_error(client.post("/account/authorised-emails", {"email": _email()}), 401, "unauthorized")
    expect_error(
        client.request("DELETE", "/account/authorised-emails/a@example.com"), 401, "unauthorized"
    )


def test_email_change_mails_follow_the_account_language(client):
    email = _email()
    register_and_verify(client, email, locale="uk")
    account = {"email": email, "token": log_in(client, email)}
    new = _email("new")
    assert _request_change(client, account, new).status == 202
    assert any("\u0400" <= ch <= "\u04ff" for ch in client.mails(new)[0]["subject"])


# --- authorised senders ------------------------------------------------------------------


def _authorise(client: ApiClient, account: dict[str, Any], email: str) -> Reply:
    return client.post("/account/authorised-emails", {"email": email}, token=account["token"])


def _listed(client: ApiClient, account: dict[str, Any]) -> list[str]:
    reply = client.get("/account/authorised-emails", token=account["token"])
    assert reply.status == 200, reply.body
    return [entry["email"] for entry in reply.json()]


def _remove(client: ApiClient, account: dict[str, Any], email: str) -> Reply:
    path = f"/account/authorised-emails/{quote(email, safe='')}"
    return client.request("DELETE", path, token=account["token"])


def test_authorised_senders_add_list_remove(client):
    account = _new_account(client)
    # GIVEN no authorised senders yet: the list is empty (the contact email is implicit)
    assert _listed(client, account) == []
    # WHEN an address is authorised, with an upper-case domain
    local = f"Billing-{uuid.uuid4().hex[:8]}"
    reply = _authorise(client, account, f"{local}@EXAMPLE.com")
    # THEN 201 with the address as stored (domain normalised) and when
    assert reply.status == 201, reply.body
    body = reply.json()
    assert set(body) == {"email", "added_at"}
    assert body["email"] == f"{local}@example.com"
    assert body["added_at"].endswith("Z")
    # AND it is listed, here and on GET /account
    second = _email("second")
    assert _authorise(client, account, second).status == 201
    assert _listed(client, account) == [f"{local}@example.com", second]
    profile = client.get("/account", token=account["token"]).json()
    assert sorted(profile["authorised_emails"]) == sorted([f"{local}@example.com", second])
    # WHEN it is removed in another capitalisation, '@' percent-encoded
    assert _remove(client, account, f"{local.lower()}@example.COM").status == 204
    # THEN it is gone, and removing it again is 404
    assert _listed(client, account) == [second]
    expect_error(_remove(client, account, f"{local}@example.com"), 404, "not_found")
    # AND an '@' written as is in the path works too
    raw = client.request("DELETE", f"/account/authorised-emails/{second}", token=account["token"])
    assert raw.status == 204
    assert _listed(client, account) == []


def test_duplicates_and_the_contact_email_are_already_authorised(client):
    account = _new_account(client)
    address = _email("sender")
    assert _authorise(client, account, address).status == 201
    expect_error(_authorise(client, account, address.upper()), 409, "already_authorised")
    expect_error(_authorise(client, account, account["email"]), 409, "already_authorised")
    expect_error(_authorise(client, account, account["email"].upper()), 409, "already_authorised")
    assert _listed(client, account) == [address]


def test_an_address_belongs_to_one_account_only(client):
    first, second = _new_account(client), _new_account(client)
    address = _email("shared")
    assert _authorise(client, first, address).status == 201
    # WHEN another account authorises it / THEN 409 email_taken, and nothing is listed
    expect_error(_authorise(client, second, address.upper()), 409, "email_taken")
    assert _listed(client, second) == []
    # AND once the first account removes it, the second may
    assert _remove(client, first, address).status == 204
    assert _authorise(client, second, address).status == 201


def test_at_most_twenty_authorised_senders(client):
    account = _new_account(client)
    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda _: _authorise(client, account, _email("s")), range(20)))
    assert [r.status for r in replies] == [201] * 20
    body = expect_error(_authorise(client, account, _email("s")), 422, "too_many_authorised_emails")
    assert "20" in body["message"]
    assert len(_listed(client, account)) == 20
    # AND removing one makes room again
    assert _remove(client, account, replies[0].json()["email"]).status == 204
    assert _authorise(client, account, _email("s")).status == 201


def test_authorised_sender_input_is_checked(client):
    account = _new_account(client)
    expect_error(_authorise(client, account, "not an address"), 422, "invalid_email")
    for body in ({}, {"email": 5}, {"email": _email(), "x": 1}, {"email": "a" * 300 + "@x.com"}):
        reply = client.post("/account/authorised-emails", body, token=account["token"])
        expect_error(reply, 422, "validation_error")
    expect_error(_remove(client, account, "never-added@example.com"), 404, "not_found")
    expect_error(_remove(client, account, "not an address"), 404, "not_found")
    expect_error(_remove(client, account, account["email"]), 404, "not_found")  # implicit, not an entry


def test_new_contact_email_leaves_the_explicit_senders(client):
    # GIVEN an account that authorised an address explicitly
    account = _new_account(client)
    address, kept = _email("later-contact"), _email("kept")
    assert _authorise(client, account, address).status == 201
    assert _authorise(client, account, kept).status == 201
    # WHEN that address becomes the contact email
    assert _request_change(client, account, address).status == 202
    confirmed = _confirm(client, _change_token(client, address))
    # THEN it is the contact email and no longer an explicit entry (it is implicit now)
    assert confirmed.status == 200, confirmed.body
    assert confirmed.json()["authorised_emails"] == [kept]
    assert _listed(client, account) == [kept]
    # AND authorising it elsewhere is accepted like any address (the answer must not tell
    # whose contact email it is), but has no effect: see the handler-level test below
    assert _authorise(client, _new_account(client), address).status == 201


# --- inbound mail lookup (handler level: clientarea.accounts.account_for_sender) ----------


def test_account_for_sender_follows_contact_and_authorised_addresses(handler_client):
    from clientarea import accounts

    account = _new_account(handler_client)
    sender = _email("Sender")
    assert _authorise(handler_client, account, sender).status == 201
    # THEN mail from the authorised address (any capitalisation) maps to the account
    assert accounts.account_for_sender(sender.upper()).client_number == account["client_number"]
    assert accounts.account_for_sender(account["email"]).client_number == account["client_number"]
    assert accounts.account_for_sender(_email("stranger")) is None
    assert accounts.account_for_sender("not an address") is None
    # WHEN it is removed / THEN it maps to nobody
    assert _remove(handler_client, account, sender).status == 204
    assert accounts.account_for_sender(sender) is None


def test_contact_switch_removes_the_sender_claim_in_the_same_write(handler_client):
    from clientarea import accounts
    from clientarea.tables import SenderModel

    account = _new_account(handler_client)
    old, address = account["email"], _email("next")
    assert _authorise(handler_client, account, address).status == 201
    assert _request_change(handler_client, account, address).status == 202
    assert _confirm(handler_client, _change_token(handler_client, address)).status == 200
    # THEN no sender claim is left for the new contact address
    assert SenderModel.count(accounts.sender_claim_key(address)) == 0
    # AND mail from the new contact maps to the account, from the old contact to nobody
    assert accounts.account_for_sender(address).client_number == account["client_number"]
    assert accounts.account_for_sender(old) is None


def test_another_accounts_contact_address_is_not_revealed_and_stays_theirs(handler_client):
    from clientarea import accounts

    owner, other = _new_account(handler_client), _new_account(handler_client)
    # WHEN a client authorises another account's contact email
    reply = _authorise(handler_client, other, owner["email"].upper())
    # THEN it gets the answer any address gets (no enumeration of contact emails)
    assert reply.status == 201
    # BUT mail from that address still belongs to the account whose contact it is
    assert accounts.account_for_sender(owner["email"]).client_number == owner["client_number"]


def test_two_accounts_racing_for_one_sender_exactly_one_wins(http_client):
    first, second = _new_account(http_client), _new_account(http_client)
    address = _email("raced")
    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda a: _authorise(http_client, a, address), [first, second]))
    assert sorted(r.status for r in replies) == [201, 409]
    assert next(r for r in replies if r.status == 409).json()["code"] == "email_taken"
    assert sorted([len(_listed(http_client, first)), len(_listed(http_client, second))]) == [0, 1]
