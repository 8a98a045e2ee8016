"""Sessions (ASVS 7.5, API.md "Accounts and sessions"): the owner sees and ends their
sessions, an idle session ends by itself, and a contact-email change ends every other
session. Through the handlers and over HTTP."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.clients import ApiClient, Reply
from tests.support.accounts import PASSWORD, fresh_email, register_and_verify
from tests.support.aws_calls import AwsCall, recorded_aws_calls
from tests.support.replies import expect_error

IDLE = 30 * 60  # SessionIdleTimeoutSeconds' default
WRITE_EVERY = 5 * 60  # last_seen_at is written at most this often per session
SESSION_FIELDS = {"session_id", "created_at", "last_seen_at", "user_agent", "ip", "current"}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _account(client: ApiClient) -> dict[str, Any]:
    email = fresh_email("sessions")
    created = register_and_verify(client, email)
    return {**created, "email": email}


def _login(client: ApiClient, email: str, agent: str, ip: str = "203.0.113.7") -> str:
    reply = client.post(
        "/auth/login",
        {"login": email, "password": PASSWORD},
        headers={"User-Agent": agent},
        ip=ip,
    )
    assert reply.status == 200, reply.body
    return reply.json()["session_token"]


def _sessions(client: ApiClient, token: str) -> list[dict[str, Any]]:
    reply = client.get("/account/sessions", token=token)
    assert reply.status == 200, reply.body
    return reply.json()


def _works(client: ApiClient, token: str) -> bool:
    reply = client.get("/account", token=token)
    assert reply.status in (200, 401), reply.body
    return reply.status == 200


# --- GET /account/sessions -----------------------------------------------------------------


def test_the_owner_sees_each_live_session_and_which_one_is_theirs(client):
    # GIVEN an account signed in from a laptop and from a phone
    account = _account(client)
    laptop = _login(client, account["email"], "Laptop Browser/1.0")
    phone = _login(client, account["email"], "Phone Browser/2.0")
    # WHEN the laptop lists the sessions
    listed = _sessions(client, laptop)
    # THEN both are there, with the contract's fields, the laptop's marked current
    assert len(listed) == 2
    for session in listed:
        assert set(session) == SESSION_FIELDS
        assert ISO.match(session["created_at"]) and ISO.match(session["last_seen_at"])
        assert re.fullmatch(r"[0-9a-f]{32}", session["session_id"])
    by_agent = {s["user_agent"]: s for s in listed}
    assert by_agent["Laptop Browser/1.0"]["current"] is True
    assert by_agent["Phone Browser/2.0"]["current"] is False
    # AND a session id is neither a token, nor part of one, nor its stored digest
    body = client.get("/account/sessions", token=laptop).body.decode()
    for token in (laptop, phone):
        assert token.split(".", 1)[1] not in body
    from clientarea import tokens

    for token in (laptop, phone):
        assert tokens.digest(token.split(".", 1)[1]) not in body
    # AND from the phone, the phone's is current
    assert {s["user_agent"]: s["current"] for s in _sessions(client, phone)} == {
        "Laptop Browser/1.0": False,
        "Phone Browser/2.0": True,
    }


def test_ended_sessions_are_not_listed(client):
    account = _account(client)
    kept = _login(client, account["email"], "Kept/1")
    gone = _login(client, account["email"], "Gone/1")
    assert client.post("/auth/logout", token=gone).status == 204
    assert [s["user_agent"] for s in _sessions(client, kept)] == ["Kept/1"]


def test_listing_needs_a_session_and_shows_only_ones_own(client):
    expect_error(client.get("/account/sessions"), 401, "unauthorized")
    mine, theirs = _account(client), _account(client)
    token = _login(client, mine["email"], "Mine/1")
    _login(client, theirs["email"], "Theirs/1")
    assert [s["user_agent"] for s in _sessions(client, token)] == ["Mine/1"]


# --- DELETE /account/sessions/{session_id} ------------------------------------------------


def test_the_owner_ends_one_other_session(client):
    account = _account(client)
    laptop = _login(client, account["email"], "Laptop/1")
    stolen = _login(client, account["email"], "Stolen/1")
    other = next(s for s in _sessions(client, laptop) if not s["current"])
    # WHEN the owner ends the other session
    reply = client.request("DELETE", f"/account/sessions/{other['session_id']}", token=laptop)
    # THEN 204, that session is refused from its very next request, the owner's goes on
    assert (reply.status, reply.body) == (204, b"")
    expect_error(client.get("/account", token=stolen), 401, "unauthorized")
    assert _works(client, laptop)
    # AND ending it again is 404
    again = client.request("DELETE", f"/account/sessions/{other['session_id']}", token=laptop)
    expect_error(again, 404, "not_found")


def test_another_accounts_session_id_is_404_and_stays_alive(client):
    victim, attacker = _account(client), _account(client)
    victim_token = _login(client, victim["email"], "Victim/1")
    attacker_token = _login(client, attacker["email"], "Attacker/1")
    victim_id = _sessions(client, victim_token)[0]["session_id"]
    # WHEN another account asks to end it (say its id leaked)
    reply = client.request("DELETE", f"/account/sessions/{victim_id}", token=attacker_token)
    # THEN 404, exactly as for an id nobody has, and the victim's session goes on
    unknown = client.request("DELETE", f"/account/sessions/{'0' * 32}", token=attacker_token)
    expect_error(reply, 404, "not_found")
    assert reply.body == unknown.body
    assert _works(client, victim_token)
    for bad in ("x", "%2e%2e", "A" * 200):
        assert client.request("DELETE", f"/account/sessions/{bad}", token=victim_token).status in (
            404,
            422,
        )


# --- POST /account/sessions/revoke-others --------------------------------------------------


def test_revoke_others_ends_every_session_but_this_one(client):
    account = _account(client)
    mine = _login(client, account["email"], "Mine/1")
    others = [_login(client, account["email"], f"Other/{i}") for i in range(3)]
    reply = client.post("/account/sessions/revoke-others", token=mine)
    assert (reply.status, reply.body) == (204, b"")
    for token in others:
        expect_error(client.get("/account", token=token), 401, "unauthorized")
    assert _works(client, mine)
    assert [s["user_agent"] for s in _sessions(client, mine)] == ["Mine/1"]
    # AND a new sign-in afterwards works as usual
    assert _works(client, _login(client, account["email"], "Later/1"))


# --- idle timeout ----------------------------------------------------------------------------


def test_an_idle_session_ends_after_30_minutes_of_inactivity(client):
    # GIVEN two sessions opened at one instant (the clock is stopped: the boundary is exact)
    account = _account(client)
    with client.frozen_clock():
        used = _login(client, account["email"], "Used/1")
        unused = _login(client, account["email"], "Unused/1")
        # WHEN 29:59 pass without a request, the first still works (and is used now)
        client.advance_clock(IDLE - 1)
        assert _works(client, used)
        # THEN at 30:00 the one nobody used is over; the used one goes on
        client.advance_clock(1)
        expect_error(client.get("/account", token=unused), 401, "unauthorized")
        assert _works(client, used)
        # AND a session ended by inactivity stays ended, and is not listed
        assert [s["user_agent"] for s in _sessions(client, used)] == ["Used/1"]
        client.advance_clock(IDLE)
        expect_error(client.get("/account", token=used), 401, "unauthorized")


def test_idle_time_counts_from_the_last_recorded_use(client):
    # last_seen_at is written at most once every 5 minutes: a use within 5 minutes of the
    # recorded one is not recorded, so the session may end up to 5 minutes early (never late).
    account = _account(client)
    with client.frozen_clock():
        token = _login(client, account["email"], "Busy/1")  # recorded at the login
        client.advance_clock(WRITE_EVERY - 1)
        assert _works(client, token)  # 4:59 later: not recorded
        client.advance_clock(IDLE - WRITE_EVERY + 1)  # 30:00 after the recorded use
        expect_error(client.get("/account", token=token), 401, "unauthorized")


def test_an_active_session_still_ends_12_hours_after_login(client):
    # GIVEN a session used every 25 minutes
    account = _account(client)
    with client.frozen_clock():
        token = _login(client, account["email"], "Active/1")
        used = 0
        while used + 25 * 60 < 12 * 3600:
            client.advance_clock(25 * 60)
            used += 25 * 60
            assert _works(client, token)
        # WHEN the absolute lifetime is reached (12:00:00), it ends however active it is
        client.advance_clock(12 * 3600 - 1 - used)
        assert _works(client, token)
        client.advance_clock(1)
        expect_error(client.get("/account", token=token), 401, "unauthorized")


def test_the_authorizer_writes_last_seen_at_at_most_once_every_5_minutes(handler_client):
    account = _account(handler_client)

    def session_writes(calls: list[AwsCall]) -> list[AwsCall]:
        return [c for c in calls if c.operation == "UpdateItem" and "session" in c.table.lower()]

    with handler_client.frozen_clock():
        token = _login(handler_client, account["email"], "Counted/1")
        before = _sessions(handler_client, token)[0]["last_seen_at"]
        with recorded_aws_calls() as calls:
            # WHEN the session is used 10 times within 5 minutes of its login
            for _ in range(10):
                handler_client.advance_clock(20)
                assert _works(handler_client, token)
            assert session_writes(calls) == []
            # THEN nothing was written; WHEN 5 minutes have passed since the login
            handler_client.advance_clock(WRITE_EVERY - 200)
            for _ in range(5):
                assert _works(handler_client, token)
        # THEN exactly one write, of the new time
        assert len(session_writes(calls)) == 1
        after = _sessions(handler_client, token)[0]["last_seen_at"]
    assert after > before


# --- contact-email change ----------------------------------------------------------------------


def _email_change_requested(client: ApiClient, token: str) -> tuple[str, str]:
    """A contact-email change asked for from session `token`: the new address, and the
    token of the link mailed to it."""
    new = fresh_email("moved")
    body = {"new_email": new, "current_password": PASSWORD}
    assert client.post("/account/email-change", body, token=token).status == 202
    return new, client.mail_link_token(new, subject_contains="confirm your new")


def test_a_contact_email_change_ends_every_other_session(client):
    # GIVEN an account signed in twice (its owner's, and one that should not be)
    account = _account(client)
    owner = _login(client, account["email"], "Owner/1")
    other = _login(client, account["email"], "Other/1")
    # WHEN the owner changes the contact email and the new address confirms
    new, link = _email_change_requested(client, owner)
    assert client.post("/account/email-change/confirm", {"token": link}).status == 200
    # THEN the other session is over; the one that asked for the change goes on
    expect_error(client.get("/account", token=other), 401, "unauthorized")
    assert client.get("/account", token=owner).json()["email"] == new
    assert [s["user_agent"] for s in _sessions(client, owner)] == ["Owner/1"]


def test_the_change_confirmed_after_its_requester_logged_out_ends_every_session(client):
    account = _account(client)
    requester = _login(client, account["email"], "Requester/1")
    other = _login(client, account["email"], "Other/1")
    new, link = _email_change_requested(client, requester)
    assert client.post("/auth/logout", token=requester).status == 204
    reply = client.post("/account/email-change/confirm", {"token": link})
    assert reply.status == 200, reply.body
    expect_error(client.get("/account", token=other), 401, "unauthorized")
    assert _works(client, _login(client, new, "New/1"))


@pytest.mark.parametrize(
    ("method", "route"),
    [
        ("GET", "/account/sessions"),
        ("POST", "/account/sessions/revoke-others"),
        ("DELETE", f"/account/sessions/{'0' * 32}"),
    ],
)
def test_session_routes_refuse_anonymous_and_staff_callers(client, method, route):
    from tests.support.accounts import staff_token

    reply: Reply = client.request(method, route)
    expect_error(reply, 401, "unauthorized")
    expect_error(client.request(method, route, token=staff_token(client)), 403, "forbidden")
