"""Every emailed link that expires, at its exact expiry instant (issue 12): valid one
second before, gone at the instant itself. The clock is frozen (`/_dev/clock`), so
"one second before" means exactly that however long a request takes; links that
checking would use up come in pairs issued at one frozen instant (same expiry).

Were an expiry check written `now > expires_at` instead of `now >= expires_at`, the link
would still work at the instant: each test here would fail (tried: see the report of
issue 12). Sessions' absolute lifetime and idle timeout are pinned the same way in
test_sessions.py.
"""

from __future__ import annotations

from tests.clients import Reply
from tests.support.accounts import PASSWORD, fresh_email, log_in, register_and_verify
from tests.support.replies import expect_error

TWO_HOURS = 2 * 3600
DAY = 24 * 3600
CESSION_WINDOW = 7 * DAY  # CessionTimeoutSeconds' default, as the dev server runs it
NEW_PASSWORD = "a passphrase set at the very end 8"


def _gone(reply: Reply) -> None:
    expect_error(reply, 410, "token_invalid")


def test_a_reset_link_works_at_1_59_59_and_is_gone_at_2_00_00(client, account):
    with client.frozen_clock():
        assert client.post("/password/forgot", {"login": account["email"]}).status == 202
        token = client.mail_link_token(account["email"], subject_contains="password")
        client.advance_clock(TWO_HOURS - 1)
        assert client.post("/password/reset/verify", {"token": token}).status == 200
        client.advance_clock(1)
        _gone(client.post("/password/reset/verify", {"token": token}))
        _gone(client.post("/password/reset", {"token": token, "new_password": NEW_PASSWORD}))
    # the password is unchanged
    assert (
        client.post("/auth/login", {"login": account["email"], "password": PASSWORD}).status == 200
    )


def test_a_verification_link_works_at_23_59_59_and_is_gone_at_24_00_00(client):
    early, late = fresh_email("expiry"), fresh_email("expiry")
    with client.frozen_clock():
        for email in (early, late):
            body = {"email": email, "password": PASSWORD, "full_name": "Expiry Test"}
            assert client.post("/auth/register", body).status == 202
        early_link, late_link = client.mail_link_token(early), client.mail_link_token(late)
        client.advance_clock(DAY - 1)
        assert client.post("/auth/verify-email", {"token": early_link}).status == 200
        client.advance_clock(1)
        _gone(client.post("/auth/verify-email", {"token": late_link}))
    # no account was created for the late one
    expect_error(
        client.post("/auth/login", {"login": late, "password": PASSWORD}),
        401,
        "invalid_credentials",
    )


def test_an_email_change_link_works_at_1_59_59_and_is_gone_at_2_00_00(client):
    links = []
    with client.frozen_clock():
        for _ in range(2):
            email, new = fresh_email("expiry"), fresh_email("new")
            register_and_verify(client, email)
            body = {"new_email": new, "current_password": PASSWORD}
            assert (
                client.post("/account/email-change", body, token=log_in(client, email)).status
                == 202
            )
            links.append(client.mail_link_token(new, subject_contains="confirm your new"))
        client.advance_clock(TWO_HOURS - 1)
        assert client.post("/account/email-change/confirm", {"token": links[0]}).status == 200
        client.advance_clock(1)
        _gone(client.post("/account/email-change/confirm", {"token": links[1]}))


def test_cession_links_work_until_the_window_ends_and_are_gone_at_its_end(client):
    from tests.integration.test_cession import activated, cession_links, new_party

    owner, recipient = new_party(client), new_party(client)
    with client.frozen_clock():
        service, order, owner_link, recipient_link = activated(client, owner, recipient)
        path = f"/orders/{order['order_id']}"
        assert client.get(path, token=owner.token).json()["expires_at"] is not None
        client.advance_clock(CESSION_WINDOW - 1)
        # one second before the window ends: a link works, and a resend is still possible
        assert client.post("/cession/confirm", {"token": owner_link}).status == 200
        owner_token = log_in(client, owner.email)  # the old session is long idle
        resend = client.post(f"{path}/resend", {"party": "recipient"}, token=owner_token)
        assert resend.status == 202, resend.body
        fresh_link = cession_links(client, recipient, service["domain"], count=2)[-1]
        assert fresh_link != recipient_link
        client.advance_clock(1)
        # at the window's end: every link is gone, old or re-sent, and nothing is re-sent
        _gone(client.post("/cession/confirm", {"token": fresh_link}))
        _gone(client.post("/cession/decline", {"token": fresh_link}))
        _gone(client.post("/cession/decline", {"token": recipient_link}))
        late = client.post(f"{path}/resend", {"party": "recipient"}, token=owner_token)
        expect_error(late, 409, "invalid_order_state")
