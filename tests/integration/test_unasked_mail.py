"""Mail that anyone can make us send without a session (issue 12, item 2; API.md
"Conventions"): a registration's link, "someone tried to register", the recovery and
access-request acknowledgements, an authorised sender's confirmation link. At most 3 a
day to one address whatever the route (one shared counter), a per-IP limit on top,
never a stranger's typed text to an address nobody has verified, and the HTTP answer
the same whether or not the mail went out."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.clients import ApiClient, Reply
from tests.support.accounts import PASSWORD, fresh_email, log_in, register_and_verify

# What an attacker types where a name goes, hoping it reaches a victim's inbox.
PHISH = "Your mailbox is suspended: call +1 555 0100 now"
PER_ADDRESS = 3


def _register(client: ApiClient, email: str, *, ip: str | None = None, name: str = PHISH) -> Reply:
    body = {"email": email, "password": PASSWORD, "full_name": name, "locale": "en"}
    return client.post("/auth/register", body, **({"ip": ip} if ip else {}))


def _recover(client: ApiClient, new_email: str, name: str = PHISH) -> Reply:
    return client.post(
        "/recovery/requests",
        {
            "account_hint": "somebody",
            "applicant_type": "individual",
            "full_name": name,
            "new_email": new_email,
            "phone": "+380 44 000 00 00",
            "channel": "e_signature",
        },
    )


def _assert_no_typed_text(mails: list[dict[str, Any]]) -> None:
    for mail in mails:
        for part in ("subject", "text", "html"):
            assert PHISH not in mail[part], (mail["subject"], part)


def test_repeated_registrations_of_one_address_send_at_most_three_plain_mails(client):
    """The attack: 40 registrations for one address from one IP sent 40 mails whose
    greeting carried a phishing text typed in full_name."""
    victim = fresh_email("victim")
    replies = [_register(client, victim) for _ in range(8)]
    # THEN every answer is the registration's usual one
    assert {(r.status, r.body) for r in replies} == {(202, b"{}")}
    # AND at most three mails reached the address, none carrying the typed name
    mails = client.settled_mails(victim)
    assert 1 <= len(mails) <= PER_ADDRESS, len(mails)
    _assert_no_typed_text(mails)


def test_the_recovery_form_mails_any_new_email_at_most_three_times_without_the_name(client):
    victim = fresh_email("victim")
    replies = [_recover(client, victim) for _ in range(6)]
    # THEN every request is opened and answered alike (a reference and key each)
    assert {r.status for r in replies} == {201}
    assert len({tuple(sorted(r.json())) for r in replies}) == 1
    # AND at most three acknowledgements went out, none carrying the typed name
    mails = client.settled_mails(victim)
    assert 1 <= len(mails) <= PER_ADDRESS, len(mails)
    _assert_no_typed_text(mails)


def test_someone_tried_to_register_notices_are_limited_too(client):
    owner = fresh_email("owner")
    register_and_verify(client, owner)
    before = len(client.mails(owner, count=2))  # verification and welcome
    # WHEN the address is registered again and again
    replies = [_register(client, owner) for _ in range(6)]
    assert {(r.status, r.body) for r in replies} == {(202, b"{}")}
    # THEN its owner is told at most three times that day (the verification link sent
    # to it at registration counted as one)
    notices = [m for m in client.settled_mails(owner) if "tried to register" in m["subject"]]
    assert 1 <= len(notices) <= PER_ADDRESS - 1, len(notices)
    assert before == 2


def test_one_budget_per_address_whatever_the_route(client):
    # GIVEN an address that registrations, recovery requests and an authorised-sender
    # request all name
    victim = fresh_email("victim")
    asker = fresh_email("asker")
    register_and_verify(client, asker, full_name="Asker")
    token = log_in(client, asker)
    answers = [
        _register(client, victim),
        _recover(client, victim),
        _register(client, victim),
        _recover(client, victim),
        client.post("/account/authorised-emails", {"email": victim}, token=token),
    ]
    # THEN each route answers as it always does
    assert [r.status for r in answers] == [202, 201, 202, 201, 202]
    # AND the address got three mails in all
    mails = client.settled_mails(victim)
    assert len(mails) == PER_ADDRESS, [m["subject"] for m in mails]
    _assert_no_typed_text(mails)


def test_the_access_request_acknowledgement_draws_on_the_same_budget(client):
    owner = fresh_email("owner")
    register_and_verify(client, owner)
    form = {
        "full_name": PHISH,
        "address": "1 Street",
        "phone": "+380 44 000 00 00",
        "login_or_email": owner,
        "message": PHISH,
    }
    answers = [client.post("/support/access-requests", form) for _ in range(2)]
    answers += [_register(client, owner) for _ in range(2)]
    assert [r.status for r in answers] == [201, 201, 202, 202]
    unasked = [
        m
        for m in client.settled_mails(owner)
        if "tried to register" in m["subject"] or "access request" in m["subject"]
    ]
    # the verification link at registration was the first of the day's three
    assert len(unasked) == PER_ADDRESS - 1, [m["subject"] for m in unasked]
    _assert_no_typed_text(unasked)


def test_a_parallel_burst_gets_no_more_than_three_mails(http_client):
    victim = fresh_email("victim")
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda _: _register(http_client, victim), range(8)))
    assert {r.status for r in replies} == {202}
    mails = http_client.settled_mails(victim)
    assert 1 <= len(mails) <= PER_ADDRESS, len(mails)


def test_one_ip_mails_only_so_many_addresses_an_hour(handler_client, monkeypatch):
    monkeypatch.setenv("IP_REQUESTS_PER_HOUR", "2")
    victims = [fresh_email("victim") for _ in range(3)]
    # WHEN one IP registers three different addresses
    replies = [_register(handler_client, v, ip="198.51.100.9") for v in victims]
    # THEN the answers are all alike, and the third address got nothing
    assert {(r.status, r.body) for r in replies} == {(202, b"{}")}
    assert [len(handler_client.mails(v)) for v in victims] == [1, 1, 0]
    # AND another IP may still mail it
    assert _register(handler_client, victims[2], ip="198.51.100.10").status == 202
    assert len(handler_client.mails(victims[2])) == 1


def test_mail_to_an_unverified_new_contact_address_carries_no_typed_name(client):
    # GIVEN an account whose own name is a phishing text
    email = fresh_email("schemer")
    register_and_verify(client, email, full_name=PHISH)
    token = log_in(client, email)
    victim = fresh_email("victim")
    # WHEN it asks to move its contact email to a stranger's address
    reply = client.post(
        "/account/email-change", {"new_email": victim, "current_password": PASSWORD}, token=token
    )
    assert reply.status == 202
    # THEN the confirmation link reaches that address without the typed name
    mails = client.mails(victim, count=1)
    assert len(mails) == 1
    _assert_no_typed_text(mails)


# --- found by the attacker review of issue 12 -------------------------------------------------


def _staff_reply_to(client: ApiClient, number: str) -> None:
    from tests.support.accounts import staff_token

    staff = staff_token(client)
    body = {"message": "Hello, could you tell us more about what you need?"}
    reply = client.post(f"/staff/tickets/{number}/messages", body, token=staff)
    assert reply.status == 201, reply.body


LURE = "URGENT verify your card at evil.example/login"


def test_a_staff_reply_to_a_typed_sales_address_carries_no_typed_name_or_subject(client):
    """The attack: a sales question typed with a stranger's address, a phishing text as
    the name and a lure as its first line. Once staff answer it, our mail to that
    (never verified) address greeted the victim with the name and carried the lure in
    its subject and text."""
    victim = fresh_email("victim")
    form = {"email": victim, "full_name": PHISH, "message": f"{LURE}\nThanks"}
    asked = client.post("/support/sales-questions", form)
    assert asked.status == 201, asked.body
    _staff_reply_to(client, asked.json()["number"])
    # THEN the victim gets the staff's answer, and none of the stranger's text
    mails = client.mails(victim, count=1)
    assert len(mails) == 1
    assert asked.json()["number"] in mails[0]["subject"]
    assert "could you tell us more" in mails[0]["text"]
    _assert_no_typed_text(mails)
    for part in ("subject", "text", "html"):
        assert "evil.example" not in mails[0][part], part


def test_a_staff_reply_to_forged_sales_mail_carries_no_display_name_or_subject(client):
    """The same through inbound mail: a forged From (SPF, DKIM and DMARC all FAIL) with a
    phishing display name opens a sales ticket; the staff answer went to the forged
    address with that name and subject."""
    from tests.integration.test_inbound_mail import deliver, simple_mail

    victim = fresh_email("victim")
    name = PHISH.replace(":", "")  # a colon would make the From a group: refused as malformed
    raw = simple_mail(victim, subject=LURE).replace(b"From: Someone", f"From: {name}".encode())
    outcome = deliver(client, raw, to="sales", spf="FAIL", dkim="FAIL", dmarc="FAIL")
    assert outcome["result"] == "ticket_opened", outcome
    _staff_reply_to(client, outcome["number"])
    mails = client.mails(victim, count=1)
    assert len(mails) == 1
    for part in ("subject", "text", "html"):
        assert name not in mails[0][part] and "evil.example" not in mails[0][part], part


def test_plus_tags_of_one_mailbox_share_its_budget(client):
    """The attack: `victim+1@`, `victim+2@`, ... are one mailbox at most providers, and
    each tag got a fresh budget of three mails."""
    local = f"victim-{uuid.uuid4().hex[:10]}"
    tagged = [f"{local}+{i}@example.com" for i in range(6)]
    for address in tagged:
        assert _register(client, address).status == 202
    # THEN the mailbox got three mails in all (once the queues are empty)
    client.drain_queues()
    mails = [m for m in client.all_mails() if m["to"].lower().startswith(local + "+")]
    assert 1 <= len(mails) <= PER_ADDRESS, [m["to"] for m in mails]
