"""Contact email and authorised senders (API.md "Contact email"), end to end.

Most tests run twice through the `client` fixture: in-process through the real
handlers on moto, and over HTTP against the dev server (shared by every test of a
session, hence unique addresses per test).
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from infra.local.deployment import DEV_FRONTEND_URL
from tests.clients import ApiClient, Reply
from tests.support.accounts import (
    PASSWORD,
    fresh_email,
    guess_until_locked,
    log_in,
    new_account,
    register_and_verify,
)
from tests.support.replies import expect_error

TWO_HOURS = 2 * 3600
FRONTEND = DEV_FRONTEND_URL  # the dev deployment's FrontendUrl
NEW_PASSWORD = "a completely new passphrase 42"


# --- helpers ------------------------------------------------------------------------


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
    account = new_account(client)
    old, new = account["email"], fresh_email("new")
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
    [notice] = client.mails_about(old, "request to change")
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
        changed = client.mails_about(address, "was changed")
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
    account = new_account(client)
    new = fresh_email("new")
    assert _request_change(client, account, new).status == 202
    token = _change_token(client, new)
    assert _confirm(client, token).status == 200
    assert sum("was changed" in m["subject"] for m in client.settled_mails(new)) == 1
    # WHEN the same link is used again / THEN 410, and nobody is mailed again
    expect_error(_confirm(client, token), 410, "token_invalid")
    assert len(client.settled_mails(new)) == 2  # the link and "was changed"
    assert _contact_of(client, account) == new


def test_newer_request_supersedes_the_older_link(client):
    account = new_account(client)
    first, second = fresh_email("first"), fresh_email("second")
    assert _request_change(client, account, first).status == 202
    older = _change_token(client, first)
    assert _request_change(client, account, second).status == 202
    newer = _change_token(client, second)
    # THEN the older link is dead, even though its address is still free
    expect_error(_confirm(client, older), 410, "token_invalid")
    assert _contact_of(client, account) == account["email"]
    # AND the newer one works
    assert _confirm(client, newer).json()["email"] == second


def _at_link_age(client: ApiClient, monkeypatch, token_key: str, seconds: int) -> None:
    """Put the functions' clock `seconds` after the 2-hour link stored under `token_key`
    was issued. In-process the clock is frozen at exactly that instant; over HTTP it can
    only be moved forward, and the round trips since the link was issued add up to a
    second to its age."""
    if client.transport == "handler":
        from clientarea import clock
        from clientarea.storage.tokens import TokenModel

        item = TokenModel.get(token_key, consistent_read=True)
        issued_at = item.expires_at - timedelta(seconds=TWO_HOURS)
        monkeypatch.setattr(clock, "now", lambda: issued_at + timedelta(seconds=seconds))
    else:
        client.advance_clock(seconds - 1 if seconds < TWO_HOURS else seconds)


def test_link_still_works_at_1_59_59(client, monkeypatch):
    account = new_account(client)
    new = fresh_email("new")
    assert _request_change(client, account, new).status == 202
    token = _change_token(client, new)
    _at_link_age(client, monkeypatch, f"email_change#{account['client_number']}", TWO_HOURS - 1)
    assert _confirm(client, token).status == 200
    # (signed in afresh: the old session has been idle for two hours)
    assert _contact_of(client, {"token": log_in(client, new)}) == new


def test_link_is_gone_at_2_00_00(client, monkeypatch):
    account = new_account(client)
    new = fresh_email("new")
    assert _request_change(client, account, new).status == 202
    token = _change_token(client, new)
    # exactly 2:00:00 in-process, 2:00:00 plus the round trips over HTTP
    _at_link_age(client, monkeypatch, f"email_change#{account['client_number']}", TWO_HOURS)
    expect_error(_confirm(client, token), 410, "token_invalid")
    assert _contact_of(client, {"token": log_in(client, account["email"])}) == account["email"]


def test_garbage_and_malformed_links(client):
    account = new_account(client)
    new = fresh_email("new")
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
    account = new_account(client)
    contested = fresh_email("contested")
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
    account, other = new_account(client), new_account(client)
    before = len(client.mails(other["email"], count=2))
    # WHEN one asks to take the other's contact address (in another capitalisation)
    reply = _request_change(client, account, other["email"].upper())
    fresh = _request_change(client, new_account(client), fresh_email("free"))
    # THEN the answer is exactly the one a free address gets
    assert (reply.status, reply.body) == (fresh.status, fresh.body) == (202, b"{}")
    # AND the requester's own address gets the usual notice
    settled = client.settled_mails(account["email"])
    assert sum("request to change" in m["subject"] for m in settled) == 1
    # BUT the other account's owner is sent nothing
    assert len(client.settled_mails(other["email"])) == before


def test_two_accounts_racing_for_one_address_exactly_one_wins(http_client):
    # GIVEN two accounts with pending changes to the same free address
    first, second = new_account(http_client), new_account(http_client)
    contested = fresh_email("contested")
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
    account = new_account(client)
    assert client.post("/password/forgot", {"login": account["email"]}).status == 202
    reset_token = client.mail_link_token(account["email"], subject_contains="reset your password")
    assert client.post("/password/reset/verify", {"token": reset_token}).status == 200
    # WHEN the contact email is switched
    new = fresh_email("new")
    assert _request_change(client, account, new).status == 202
    assert _confirm(client, _change_token(client, new)).status == 200
    # THEN the reset link no longer works
    expect_error(
        client.post("/password/reset/verify", {"token": reset_token}), 410, "token_invalid"
    )
    reset = client.post("/password/reset", {"token": reset_token, "new_password": NEW_PASSWORD})
    expect_error(reset, 410, "token_invalid")
    assert client.post("/auth/login", {"login": new, "password": PASSWORD}).status == 200


def test_password_change_after_the_request_kills_the_link(client):
    # GIVEN a pending change (the old address was told: "if it was not you, reset")
    account = new_account(client)
    new = fresh_email("new")
    assert _request_change(client, account, new).status == 202
    token = _change_token(client, new)
    # WHEN the owner changes the password
    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert client.put("/account/password", change, token=account["token"]).status == 204
    # THEN the pending link is dead
    expect_error(_confirm(client, token), 410, "token_invalid")
    assert _contact_of(client, account) == account["email"]


def test_wrong_current_password_is_401_and_sends_nothing(client):
    account = new_account(client)
    new = fresh_email("new")
    before = len(client.mails(account["email"], count=2))
    reply = _request_change(client, account, new, password="not the right passphrase")
    expect_error(reply, 401, "invalid_credentials")
    # AND the session is still valid (a wrong password is not a logout)
    assert client.get("/account", token=account["token"]).status == 200
    assert client.settled_mails(new) == []
    assert len(client.settled_mails(account["email"])) == before


def test_wrong_passwords_count_as_login_failures(client):
    # GIVEN five wrong current passwords on the change route (the sign-in allowance of
    # the account's address for one window)
    # THEN the right password is refused too, for a while (it cannot be guessed here),
    # AND so is signing in: it is the sign-in count of the account's address
    account = new_account(client)
    new = fresh_email("new")
    guess_until_locked(
        client,
        account["email"],
        lambda password: _request_change(client, account, new, password=password),
    )
    # AND after the 15-minute window the change goes through
    client.advance_clock(15 * 60 + 1)
    assert _request_change(client, account, new).status == 202


def test_bad_inputs_are_422(client):
    account = new_account(client)
    for new_email in ("not-an-address", "two@@example.com", "a@b", "user@exa mple.com"):
        expect_error(_request_change(client, account, new_email), 422, "invalid_email")
    # the current address, in any capitalisation, is not a change
    for same in (account["email"], account["email"].upper()):
        expect_error(_request_change(client, account, same), 422, "email_unchanged")
    for body in (
        {},
        {"new_email": fresh_email()},
        {"current_password": PASSWORD},
        {"new_email": fresh_email(), "current_password": ""},
        {"new_email": 5, "current_password": PASSWORD},
        {"new_email": fresh_email(), "current_password": PASSWORD, "extra": 1},
        {"new_email": "x" * 300 + "@example.com", "current_password": PASSWORD},
    ):
        reply = client.post("/account/email-change", body, token=account["token"])
        expect_error(reply, 422, "validation_error")
    assert client.settled_mails(account["email"])[-1]["subject"].endswith("ready")


def test_at_most_five_requests_an_hour_per_account(client):
    account = new_account(client)
    for _ in range(5):
        assert _request_change(client, account, fresh_email("new")).status == 202
    expect_error(_request_change(client, account, fresh_email("new")), 429, "rate_limited")


def test_changing_routes_need_a_session(client):
    body = {"new_email": fresh_email(), "current_password": PASSWORD}
    expect_error(client.post("/account/email-change", body), 401, "unauthorized")
    expect_error(
        client.post("/account/email-change", body, token="100001." + "A" * 43), 401, "unauthorized"
    )
    expect_error(client.get("/account/authorised-emails"), 401, "unauthorized")
    expect_error(
        client.post("/account/authorised-emails", {"email": fresh_email()}), 401, "unauthorized"
    )
    expect_error(
        client.request("DELETE", "/account/authorised-emails/a@example.com"), 401, "unauthorized"
    )


def test_email_change_mails_follow_the_account_language(client):
    email = fresh_email()
    register_and_verify(client, email, locale="uk")
    account = {"email": email, "token": log_in(client, email)}
    new = fresh_email("new")
    assert _request_change(client, account, new).status == 202
    assert any("\u0400" <= ch <= "\u04ff" for ch in client.mails(new)[0]["subject"])


# --- authorised senders ------------------------------------------------------------------

SENDER_SUBJECT = "confirm this address for support tickets"


def _authorise(client: ApiClient, account: dict[str, Any], email: str) -> Reply:
    return client.post("/account/authorised-emails", {"email": email}, token=account["token"])


def _entries(client: ApiClient, account: dict[str, Any]) -> list[dict[str, Any]]:
    reply = client.get("/account/authorised-emails", token=account["token"])
    assert reply.status == 200, reply.body
    return reply.json()


def _listed(client: ApiClient, account: dict[str, Any]) -> list[str]:
    return [entry["email"] for entry in _entries(client, account)]


def _statuses(client: ApiClient, account: dict[str, Any]) -> dict[str, str]:
    return {entry["email"]: entry["status"] for entry in _entries(client, account)}


def _remove(client: ApiClient, account: dict[str, Any], email: str) -> Reply:
    path = f"/account/authorised-emails/{quote(email, safe='')}"
    return client.request("DELETE", path, token=account["token"])


def _sender_token(client: ApiClient, address: str, count: int = 1) -> str:
    return client.mail_link_token(address, subject_contains=SENDER_SUBJECT, count=count)


def _confirm_sender(client: ApiClient, token: str) -> Reply:
    return client.post("/account/authorised-emails/confirm", {"token": token})  # no session


def _authorise_and_confirm(client: ApiClient, account: dict[str, Any], email: str) -> Reply:
    assert _authorise(client, account, email).status == 202
    return _confirm_sender(client, _sender_token(client, email))


def test_a_sender_is_pending_until_its_mailbox_confirms_then_listed_and_removable(client):
    account = new_account(client)
    # GIVEN no authorised senders yet: the list is empty (the contact email is implicit)
    assert _listed(client, account) == []
    # WHEN an address is asked for, with an upper-case domain
    local = f"Billing-{uuid.uuid4().hex[:8]}"
    address = f"{local}@example.com"
    reply = _authorise(client, account, f"{local}@EXAMPLE.com")
    # THEN 202 with the address as stored (domain normalised), pending
    assert reply.status == 202, reply.body
    assert reply.json() == {"email": address, "status": "pending"}
    (pending,) = _entries(client, account)
    assert pending["email"] == address and pending["status"] == "pending"
    assert pending["added_at"].endswith("Z")
    # AND it authorises nothing yet
    assert client.get("/account", token=account["token"]).json()["authorised_emails"] == []
    # AND a 2-hour link went to that address, pointing at the frontend's page
    (mail,) = client.mails_about(address, SENDER_SUBJECT)
    (link,) = [link for link in mail["links"] if "#token=" in link]
    assert link.startswith(f"{FRONTEND}/authorised-emails/confirm#token=")
    assert "2 hours" in mail["text"] and str(account["client_number"]) in mail["text"]
    # WHEN the link is used, without any session
    confirmed = _confirm_sender(client, link.split("#token=", 1)[1])
    # THEN the address is confirmed, listed so, and on the account
    assert confirmed.status == 200, confirmed.body
    assert confirmed.json() == {
        "email": address,
        "added_at": pending["added_at"],
        "status": "confirmed",
    }
    assert _entries(client, account) == [confirmed.json()]
    assert client.get("/account", token=account["token"]).json()["authorised_emails"] == [address]
    # AND a second, still pending address is listed beside it
    second = fresh_email("second")
    assert _authorise(client, account, second).status == 202
    assert _statuses(client, account) == {address: "confirmed", second: "pending"}
    # WHEN the confirmed one is removed in another capitalisation, '@' percent-encoded
    assert _remove(client, account, f"{local.lower()}@example.COM").status == 204
    # THEN it is gone, and removing it again is 404
    assert _listed(client, account) == [second]
    expect_error(_remove(client, account, address), 404, "not_found")
    # AND a pending one is removed too ('@' as is in the path), and its link dies
    second_token = _sender_token(client, second)
    raw = client.request("DELETE", f"/account/authorised-emails/{second}", token=account["token"])
    assert raw.status == 204
    assert _listed(client, account) == []
    expect_error(_confirm_sender(client, second_token), 410, "token_invalid")


def test_the_link_works_once_and_asking_again_kills_the_older_link(client):
    account = new_account(client)
    address = fresh_email("colleague")
    assert _authorise(client, account, address).status == 202
    older = _sender_token(client, address)
    # WHEN it is asked for again while pending
    again = _authorise(client, account, address.upper())
    # THEN the same answer, a fresh link, and the older link is dead
    assert (again.status, again.json()) == (202, {"email": address, "status": "pending"})
    newer = _sender_token(client, address, count=2)
    assert newer != older
    expect_error(_confirm_sender(client, older), 410, "token_invalid")
    assert _statuses(client, account) == {address: "pending"}
    # AND the fresh link confirms, once
    assert _confirm_sender(client, newer).status == 200
    expect_error(_confirm_sender(client, newer), 410, "token_invalid")
    assert _statuses(client, account) == {address: "confirmed"}


def _at_sender_link_age(client: ApiClient, monkeypatch, account: dict, address: str, seconds: int):
    """The functions' clock `seconds` after the sender link was issued (as _at_link_age)."""
    from clientarea.accounts import senders as sender_rules

    subject = sender_rules.sender_link_subject(account["client_number"], address)
    _at_link_age(client, monkeypatch, f"sender_confirmation#{subject}", seconds)


def test_sender_link_still_works_at_1_59_59(client, monkeypatch):
    account, address = new_account(client), fresh_email("colleague")
    assert _authorise(client, account, address).status == 202
    token = _sender_token(client, address)
    _at_sender_link_age(client, monkeypatch, account, address, TWO_HOURS - 1)
    assert _confirm_sender(client, token).status == 200


def test_sender_link_is_gone_at_2_00_00(client, monkeypatch):
    account, address = new_account(client), fresh_email("colleague")
    assert _authorise(client, account, address).status == 202
    token = _sender_token(client, address)
    _at_sender_link_age(client, monkeypatch, account, address, TWO_HOURS)
    expect_error(_confirm_sender(client, token), 410, "token_invalid")
    # (two idle hours ended the session: the owner signs in again to look)
    account = {**account, "token": log_in(client, account["email"])}
    assert _statuses(client, account) == {address: "pending"}


def test_sender_confirmation_refuses_garbage_and_foreign_links(client):
    account = new_account(client)
    address, change = fresh_email("colleague"), fresh_email("change")
    assert _authorise(client, account, address).status == 202
    token = _sender_token(client, address)
    assert _request_change(client, account, change).status == 202
    change_token = _change_token(client, change)
    subject, secret = token.split(".")
    for bad in ("nonsense", f"{subject}.{'A' * 43}", f"{subject}.{secret[:-1]}", change_token):
        expect_error(_confirm_sender(client, bad), 410, "token_invalid")
    expect_error(_confirm(client, token), 410, "token_invalid")  # not an email-change link
    for body in ({}, {"token": ""}, {"token": 5}, {"token": token, "extra": 1}):
        reply = client.post("/account/authorised-emails/confirm", body)
        expect_error(reply, 422, "validation_error")
    # AND none of that spent the real link
    assert _confirm_sender(client, token).status == 200


def test_the_contact_email_and_confirmed_senders_are_already_authorised(client):
    account = new_account(client)
    address = fresh_email("sender")
    assert _authorise_and_confirm(client, account, address).status == 200
    expect_error(_authorise(client, account, address.upper()), 409, "already_authorised")
    expect_error(_authorise(client, account, account["email"]), 409, "already_authorised")
    expect_error(_authorise(client, account, account["email"].upper()), 409, "already_authorised")
    assert _statuses(client, account) == {address: "confirmed"}


def test_the_answer_is_the_same_whoever_uses_the_address(client):
    # GIVEN an address nobody uses, another account's confirmed sender, and another
    # account's contact email
    owner, asker = new_account(client), new_account(client)
    confirmed = fresh_email("theirs")
    assert _authorise_and_confirm(client, owner, confirmed).status == 200
    free = fresh_email("free")
    # WHEN a client asks for each
    replies = [_authorise(client, asker, a) for a in (free, confirmed, owner["email"].upper())]
    # THEN each gets the same answer (its own address back, pending): nothing tells
    # whose an address is
    assert [(r.status, r.json()["status"]) for r in replies] == [(202, "pending")] * 3
    assert [r.json()["email"].casefold() for r in replies] == [
        a.casefold() for a in (free, confirmed, owner["email"])
    ]


def test_an_address_confirmed_by_one_account_is_409_for_another(client):
    first, second = new_account(client), new_account(client)
    address = fresh_email("shared")
    # GIVEN both accounts asked for the same address (no 409 at request time)
    assert _authorise(client, first, address).status == 202
    first_token = _sender_token(client, address)
    assert _authorise(client, second, address).status == 202
    second_token = _sender_token(client, address, count=2)
    # WHEN the first link is used, then the second
    assert _confirm_sender(client, first_token).status == 200
    expect_error(_confirm_sender(client, second_token), 409, "email_taken")
    # THEN only the first account has it confirmed; the second's stays pending
    assert _statuses(client, first) == {address: "confirmed"}
    assert _statuses(client, second) == {address: "pending"}
    # AND once the first removes it, the second may ask and confirm
    assert _remove(client, first, address).status == 204
    assert _authorise(client, second, address).status == 202
    assert _confirm_sender(client, _sender_token(client, address, count=3)).status == 200


def test_another_accounts_contact_email_cannot_be_confirmed(client):
    owner, other = new_account(client), new_account(client)
    assert _authorise(client, other, owner["email"]).status == 202
    token = _sender_token(client, owner["email"])
    expect_error(_confirm_sender(client, token), 409, "email_taken")
    assert _statuses(client, other) == {owner["email"]: "pending"}


def test_at_most_twenty_listed_senders(client):
    account = new_account(client)
    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda _: _authorise(client, account, fresh_email("s")), range(20)))
    assert [r.status for r in replies] == [202] * 20
    body = expect_error(
        _authorise(client, account, fresh_email("s")), 422, "too_many_authorised_emails"
    )
    assert "20" in body["message"]
    assert len(_listed(client, account)) == 20
    # AND removing one makes room again
    assert _remove(client, account, replies[0].json()["email"]).status == 204
    assert _authorise(client, account, fresh_email("s")).status == 202


def test_authorised_sender_input_is_checked(client):
    account = new_account(client)
    expect_error(_authorise(client, account, "not an address"), 422, "invalid_email")
    for body in (
        {},
        {"email": 5},
        {"email": fresh_email(), "x": 1},
        {"email": "a" * 300 + "@x.com"},
    ):
        reply = client.post("/account/authorised-emails", body, token=account["token"])
        expect_error(reply, 422, "validation_error")
    expect_error(_remove(client, account, "never-added@example.com"), 404, "not_found")
    expect_error(_remove(client, account, "not an address"), 404, "not_found")
    expect_error(
        _remove(client, account, account["email"]), 404, "not_found"
    )  # implicit, not an entry


def test_new_contact_email_leaves_the_explicit_senders(client):
    # GIVEN an account with a confirmed sender, a pending one, and one more confirmed
    account = new_account(client)
    address, pending, kept = (
        fresh_email("later-contact"),
        fresh_email("pending"),
        fresh_email("kept"),
    )
    assert _authorise_and_confirm(client, account, address).status == 200
    assert _authorise_and_confirm(client, account, kept).status == 200
    assert _authorise(client, account, pending).status == 202
    pending_token = _sender_token(client, pending)
    # WHEN the confirmed address becomes the contact email
    assert _request_change(client, account, address).status == 202
    confirmed = _confirm(client, _change_token(client, address))
    # THEN it is the contact email and no longer an explicit entry (it is implicit now)
    assert confirmed.status == 200, confirmed.body
    assert confirmed.json()["authorised_emails"] == [kept]
    assert _statuses(client, account) == {kept: "confirmed", pending: "pending"}
    # WHEN the pending address becomes the contact email
    assert _request_change(client, account, pending).status == 202
    assert _confirm(client, _change_token(client, pending)).status == 200
    # THEN its entry is gone, and so is its confirmation link
    assert _statuses(client, account) == {kept: "confirmed"}
    expect_error(_confirm_sender(client, pending_token), 410, "token_invalid")


def test_the_sender_routes_need_a_session_but_the_confirmation_does_not(client):
    expect_error(client.get("/account/authorised-emails"), 401, "unauthorized")
    expect_error(
        client.post("/account/authorised-emails", {"email": fresh_email()}), 401, "unauthorized"
    )
    reply = client.request("DELETE", "/account/authorised-emails/a@example.com")
    expect_error(reply, 401, "unauthorized")
    # The confirmation reaches its function without a session (and judges the link)
    expect_error(_confirm_sender(client, "nonsense"), 410, "token_invalid")


# --- inbound mail lookup (handler level: clientarea.accounts.account_for_sender) ----------


def test_only_confirmed_senders_map_inbound_mail_to_the_account(handler_client):
    from clientarea.accounts import senders as sender_rules
    from clientarea.storage import accounts as account_store
    from clientarea.storage.accounts import SenderModel

    account = new_account(handler_client)
    sender = fresh_email("Sender")
    # GIVEN an address asked for but not confirmed: no claim, no mapping
    assert _authorise(handler_client, account, sender).status == 202
    assert SenderModel.count(account_store.sender_claim_key(sender)) == 0
    assert sender_rules.account_for_sender(sender) is None
    # WHEN it is confirmed / THEN mail from it (any capitalisation) maps to the account
    assert _confirm_sender(handler_client, _sender_token(handler_client, sender)).status == 200
    assert SenderModel.count(account_store.sender_claim_key(sender)) == 1
    assert sender_rules.account_for_sender(sender.upper()).client_number == account["client_number"]
    assert (
        sender_rules.account_for_sender(account["email"]).client_number == account["client_number"]
    )
    assert sender_rules.account_for_sender(fresh_email("stranger")) is None
    assert sender_rules.account_for_sender("not an address") is None
    # WHEN it is removed / THEN it maps to nobody, and the claim is gone
    assert _remove(handler_client, account, sender).status == 204
    assert sender_rules.account_for_sender(sender) is None
    assert SenderModel.count(account_store.sender_claim_key(sender)) == 0


def test_a_claim_without_a_confirmed_entry_maps_nothing(handler_client):
    """A sender claim written before confirmation existed (the migration removes them)
    still gives its account nothing."""
    from clientarea import clock
    from clientarea.accounts import senders as sender_rules
    from clientarea.storage import accounts as account_store
    from clientarea.storage.accounts import AccountModel, SenderModel

    account = new_account(handler_client)
    legacy = fresh_email("legacy")
    key = legacy.casefold()
    item = AccountModel.get(account_store.account_key(account["client_number"]))
    item.update(
        actions=[
            AccountModel.authorised_emails[key].set(
                {"email": legacy, "added_at": "2026-01-01T00:00:00Z"}
            )
        ]
    )
    SenderModel(
        account_store.sender_claim_key(legacy),
        client_number=account["client_number"],
        email=legacy,
        added_at=clock.now(),
    ).save()
    assert sender_rules.account_for_sender(legacy) is None
    assert _statuses(handler_client, account) == {legacy: "pending"}
    # AND its owner may confirm it like any pending entry
    assert _authorise(handler_client, account, legacy).status == 202
    assert _confirm_sender(handler_client, _sender_token(handler_client, legacy)).status == 200
    assert sender_rules.account_for_sender(legacy).client_number == account["client_number"]


def test_contact_switch_removes_the_sender_claim_in_the_same_write(handler_client):
    from clientarea.accounts import senders as sender_rules
    from clientarea.storage import accounts as account_store
    from clientarea.storage.accounts import SenderModel

    account = new_account(handler_client)
    old, address = account["email"], fresh_email("next")
    assert _authorise_and_confirm(handler_client, account, address).status == 200
    assert _request_change(handler_client, account, address).status == 202
    assert _confirm(handler_client, _change_token(handler_client, address)).status == 200
    # THEN no sender claim is left for the new contact address
    assert SenderModel.count(account_store.sender_claim_key(address)) == 0
    # AND mail from the new contact maps to the account, from the old contact to nobody
    assert sender_rules.account_for_sender(address).client_number == account["client_number"]
    assert sender_rules.account_for_sender(old) is None


def test_two_accounts_racing_to_confirm_one_sender_exactly_one_wins(http_client):
    first, second = new_account(http_client), new_account(http_client)
    address = fresh_email("raced")
    assert _authorise(http_client, first, address).status == 202
    assert _authorise(http_client, second, address).status == 202
    links = [
        link.split("#token=", 1)[1]
        for mail in http_client.mails(address, count=2)
        for link in mail["links"]
        if "#token=" in link
    ]
    assert len(set(links)) == 2
    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda t: _confirm_sender(http_client, t), links))
    assert sorted(r.status for r in replies) == [200, 409]
    assert next(r for r in replies if r.status == 409).json()["code"] == "email_taken"
    statuses = [_statuses(http_client, first), _statuses(http_client, second)]
    assert sorted(s[address] for s in statuses) == ["confirmed", "pending"]


# --- attacks (issue 12) ---------------------------------------------------------------------


def test_an_address_claimed_without_its_mailbox_gains_the_claimer_nothing(client):
    """Issue 12, item 1: any client could authorise any address; genuine mail from
    that person (SPF, DKIM, DMARC all PASS) then opened tickets on the claimer's
    account, and the real owner got 409 email_taken for their own address."""
    from tests.integration.test_inbound_mail import deliver, simple_mail

    claimer, owner = new_account(client), new_account(client)
    address = fresh_email("colleague")
    # GIVEN a client who names an address whose mailbox they do not hold
    claimed = _authorise(client, claimer, address)
    assert claimed.status in {201, 202}, claimed.body
    # WHEN genuine mail from that address reaches support
    outcome = deliver(client, simple_mail(address, subject="Invoice 42 is wrong"))
    # THEN it opens nothing on the claimer's account
    assert outcome["result"] != "ticket_opened", outcome
    assert client.get("/tickets", token=claimer["token"]).json() == []
    # AND the real owner can still authorise it for their own account
    reply = _authorise(client, owner, address)
    assert reply.status == 202, reply.body
    assert _confirm_sender(client, _sender_token(client, address, count=2)).status == 200
    # AND from then on mail from it opens tickets on the owner's account, never the claimer's
    outcome = deliver(client, simple_mail(address, subject="Invoice 43 is wrong"))
    assert outcome["result"] == "ticket_opened", outcome
    assert [t["number"] for t in client.get("/tickets", token=owner["token"]).json()] == [
        outcome["number"]
    ]
    assert client.get("/tickets", token=claimer["token"]).json() == []
