"""Support (API.md "Support"): client-area tickets, the "I can't log in" form, sales
questions and the staff routes, through the handlers and over HTTP."""

from __future__ import annotations

import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from infra.local.server import dev_route
from tests.clients import ApiClient, InProcessClient
from tests.support.accounts import log_in, register_and_verify, staff_token

NUMBER = re.compile(r"^TKT-\d{3,}-\d{3}$")


def new_client(client: ApiClient, locale: str = "en", full_name: str = "Test User") -> dict:
    email = f"support-{uuid.uuid4().hex[:12]}@example.com"
    created = register_and_verify(client, email, locale=locale, full_name=full_name)
    return {**created, "email": email, "token": log_in(client, email)}


def give_service(client: ApiClient, client_number: int) -> dict:
    body = {"client_number": client_number, "domain": f"s-{uuid.uuid4().hex[:8]}.example"}
    if isinstance(client, InProcessClient):
        reply = dev_route("POST", "/_dev/services", json.dumps(body).encode())
        assert reply is not None
        return reply.json()
    return client.post("/_dev/services", body).json()


def open_ticket(client: ApiClient, owner: dict, **fields) -> str:
    body = {"department": "technical", "subject": "Site down", "message": "It is down.", **fields}
    reply = client.post("/tickets", body, token=owner["token"])
    assert reply.status == 201, reply.body
    return reply.json()["number"]


def mails_to(client: ApiClient, to: str, count: int = 0, timeout: float = 10) -> list[dict]:
    return client.mails(to, count=count, timeout=timeout if count else 0)


# --- client-area tickets ------------------------------------------------------------------


def test_open_list_and_read_a_ticket(client):
    owner = new_client(client)
    reply = client.post(
        "/tickets",
        {"department": "billing", "subject": "Invoice 2026/11", "message": "Wrong VAT number."},
        token=owner["token"],
    )
    assert reply.status == 201
    created = reply.json()
    assert created["status"] == "open" and NUMBER.match(created["number"])

    listed = client.get("/tickets", token=owner["token"])
    assert listed.status == 200
    assert [t["number"] for t in listed.json()] == [created["number"]]

    ticket = client.get(f"/tickets/{created['number']}", token=owner["token"]).json()
    assert ticket["subject"] == "Invoice 2026/11" and ticket["department"] == "billing"
    assert ticket["status"] == "open" and ticket["service_id"] is None
    (message,) = ticket["messages"]
    assert message["author"] == "client" and message["channel"] == "web"
    assert message["body"] == "Wrong VAT number."
    # The number is also accepted in lower case, as people type it.
    lower = client.get(f"/tickets/{created['number'].lower()}", token=owner["token"])
    assert lower.status == 200 and lower.json()["number"] == created["number"]


def test_ticket_numbers_are_unique_even_when_opened_at_once(client):
    owner = new_client(client)
    with ThreadPoolExecutor(max_workers=4) as pool:
        numbers = list(pool.map(lambda _: open_ticket(client, owner), range(8)))
    assert len(set(numbers)) == 8
    assert all(NUMBER.match(n) for n in numbers)
    listed = {t["number"] for t in client.get("/tickets", token=owner["token"]).json()}
    assert listed == set(numbers)


def test_a_number_is_never_given_out_twice_even_if_the_counter_went_back(handler_client):
    """The ticket item is written under attribute_not_exists: a counter set back (a
    restore, a bug) makes opening fail with 409, never overwrite an existing ticket."""
    from clientarea.storage.tickets import TicketCounterModel

    owner = new_client(handler_client)
    first = open_ticket(handler_client, owner, subject="The first one")
    TicketCounterModel("counter#ticket", "counter").update(
        actions=[TicketCounterModel.value.set(0)]
    )
    again = handler_client.post(
        "/tickets",
        {"department": "technical", "subject": "Later", "message": "x"},
        token=owner["token"],
    )
    assert again.status == 409 and again.json()["code"] == "conflict"
    kept = handler_client.get(f"/tickets/{first}", token=owner["token"]).json()
    assert kept["subject"] == "The first one" and len(kept["messages"]) == 1


def test_another_clients_ticket_is_exactly_like_no_ticket(client):
    owner, stranger = new_client(client), new_client(client)
    number = open_ticket(client, owner)
    missing = client.get("/tickets/TKT-999-999", token=stranger["token"])
    assert missing.status == 404 and missing.json()["code"] == "not_found"
    for method, path, body in (
        ("GET", f"/tickets/{number}", None),
        ("POST", f"/tickets/{number}/messages", {"message": "let me in"}),
        ("POST", f"/tickets/{number}/close", None),
    ):
        reply = client.request(method, path, json=body, token=stranger["token"])
        assert (reply.status, reply.json()) == (404, missing.json()), path
    assert client.get("/tickets", token=stranger["token"]).json() == []
    # Nothing the stranger did touched the ticket.
    ticket = client.get(f"/tickets/{number}", token=owner["token"]).json()
    assert ticket["status"] == "open" and len(ticket["messages"]) == 1
    for junk in ("nonsense", "TKT-1-1", "TKT-100-0011"):
        assert client.get(f"/tickets/{junk}", token=owner["token"]).status == 404


def test_a_percent_encoded_ticket_number_names_the_same_ticket(handler_client):
    # In-process only: over HTTP, `requests` decodes %-escapes of unreserved characters
    # (all of a ticket number's) before sending, so the server never sees them.
    client = handler_client
    # GIVEN a ticket, and its number with every character percent-encoded (API Gateway
    # hands the path to the function as the client wrote it, still encoded)
    owner = new_client(client)
    number = open_ticket(client, owner)
    encoded = "".join(f"%{byte:02X}" for byte in number.encode())
    assert len(encoded) > 32  # over the number's length limit unless decoded
    # WHEN the client reads and answers it by the encoded number
    read = client.get(f"/tickets/{encoded}", token=owner["token"])
    added = client.post(
        f"/tickets/{encoded}/messages", {"message": "still down"}, token=owner["token"]
    )
    # THEN it is the same ticket
    assert read.status == 200, read.body
    assert read.json()["number"] == number
    assert added.status == 201, added.body


def test_service_id_must_be_one_of_the_callers_services(client):
    owner, other = new_client(client), new_client(client)
    mine = give_service(client, owner["client_number"])
    theirs = give_service(client, other["client_number"])
    number = open_ticket(client, owner, service_id=mine["service_id"])
    ticket = client.get(f"/tickets/{number}", token=owner["token"]).json()
    assert ticket["service_id"] == mine["service_id"]
    for service_id in (theirs["service_id"], "svc-0000000000000000"):
        reply = client.post(
            "/tickets",
            {"department": "technical", "subject": "x", "message": "y", "service_id": service_id},
            token=owner["token"],
        )
        assert reply.status == 404 and reply.json()["code"] == "not_found"
    assert len(client.get("/tickets", token=owner["token"]).json()) == 1


def test_messages_then_close_then_a_closed_ticket_takes_no_more(client):
    owner = new_client(client)
    number = open_ticket(client, owner)
    added = client.post(
        f"/tickets/{number}/messages", {"message": "Still down."}, token=owner["token"]
    )
    assert added.status == 201
    assert added.json()["body"] == "Still down." and added.json()["author"] == "client"

    closed = client.post(f"/tickets/{number}/close", token=owner["token"])
    assert closed.status == 200
    assert closed.json()["status"] == "closed" and len(closed.json()["messages"]) == 2

    empty = client.post(f"/tickets/{number}/messages", {"message": ""}, token=owner["token"])
    assert empty.status == 422 and empty.json()["code"] == "validation_error"
    late = client.post(f"/tickets/{number}/messages", {"message": "One more"}, token=owner["token"])
    assert late.status == 409 and late.json()["code"] == "ticket_closed"
    again = client.post(f"/tickets/{number}/close", token=owner["token"])
    assert again.status == 200 and again.json()["status"] == "closed"
    assert len(client.get(f"/tickets/{number}", token=owner["token"]).json()["messages"]) == 2


def test_ticket_errors_in_the_clients_language(client):
    owner = new_client(client, locale="uk")
    number = open_ticket(client, owner)
    client.post(f"/tickets/{number}/close", token=owner["token"])
    late = client.post(f"/tickets/{number}/messages", {"message": "x"}, token=owner["token"])
    assert late.json()["message"] == "Це звернення закрито. Будь ласка, створіть нове звернення."


@pytest.mark.parametrize(
    "body",
    [
        {"department": "legal", "subject": "x", "message": "y"},
        {"department": "technical", "message": "y"},
        {"department": "technical", "subject": "", "message": "y"},
        {"department": "technical", "subject": "x", "message": ""},
        {"department": "technical", "subject": "x" * 201, "message": "y"},
        {"department": "technical", "subject": "x", "message": "y", "priority": "urgent"},
    ],
)
def test_invalid_tickets_are_422(handler_client, body):
    owner = new_client(handler_client)
    reply = handler_client.post("/tickets", body, token=owner["token"])
    assert reply.status == 422 and reply.json()["code"] == "validation_error"
    assert reply.json()["errors"]


def test_ticket_routes_need_a_session(client):
    for method, path in (
        ("GET", "/tickets"),
        ("POST", "/tickets"),
        ("GET", "/tickets/TKT-100-001"),
        ("POST", "/tickets/TKT-100-001/messages"),
        ("POST", "/tickets/TKT-100-001/close"),
    ):
        reply = client.request(method, path, json={} if method == "POST" else None)
        assert reply.status == 401, path


# --- "I can't log in" ------------------------------------------------------------------------


def _access_request(client: ApiClient, login_or_email: str, **extra) -> dict:
    body = {
        "full_name": "Olena Kovalenko",
        "address": "вул. Юрія Поправки 4/39А, Київ",
        "phone": "+380 44 000 00 00",
        "login_or_email": login_or_email,
        "message": "I lost my password and my old mailbox.",
        **extra,
    }
    reply = client.post("/support/access-requests", body)
    assert reply.status == 201, reply.body
    assert set(reply.json()) == {"number"} and NUMBER.match(reply.json()["number"])
    return reply.json()


def test_access_request_is_acknowledged_only_at_the_accounts_own_contact_address(client):
    owner = new_client(client, locale="pl")
    # Verification and welcome mails first, so that the count below is only the acks.
    before = len(mails_to(client, owner["email"], count=2))
    outsider = f"someone-{uuid.uuid4().hex[:8]}@example.org"

    by_email = _access_request(client, owner["email"])
    acks = mails_to(client, owner["email"], count=before + 1)
    assert len(acks) == before + 1
    assert by_email["number"] in acks[-1]["subject"]
    assert "Panelu Klienta" in acks[-1]["text"]  # the account's language

    # A login plus the right contact address: acknowledged too.
    _access_request(client, owner["login"], email=owner["email"].upper())
    assert len(mails_to(client, owner["email"], count=before + 2)) == before + 2

    # A login plus any other address, an unknown login, an unknown address: nothing
    # is sent anywhere, and the answers look the same.
    answers = [
        _access_request(client, owner["login"], email=outsider),
        _access_request(client, owner["login"]),
        _access_request(client, f"nobody{uuid.uuid4().hex[:6]}"),
        _access_request(client, outsider),
    ]
    assert all(set(a) == {"number"} for a in answers)
    assert len({a["number"] for a in answers}) == 4
    assert mails_to(client, outsider) == []
    assert len(mails_to(client, owner["email"])) == before + 2
    # The owner does not see the request in the client area (it is not theirs yet).
    assert client.get("/tickets", token=owner["token"]).json() == []

    # Staff see who the request names and what the applicant typed, and their reply
    # (a person's decision, not an automatic mail) goes to the address given.
    staff = staff_token(client)
    request = client.get(f"/staff/tickets/{answers[0]['number']}", token=staff).json()
    assert request["origin"] == "access_request" and request["client_number"] is None
    assert request["claimed_client_number"] == owner["client_number"]
    assert request["applicant"]["phone"] == "+380 44 000 00 00"
    reply = {"message": "Please send us the application form."}
    assert (
        client.post(f"/staff/tickets/{answers[0]['number']}/messages", reply, token=staff).status
        == 201
    )
    (to_outsider,) = mails_to(client, outsider, count=1)
    assert "Please send us the application form." in to_outsider["text"]
    assert len(mails_to(client, owner["email"], count=before + 3, timeout=1)) == before + 2


def test_access_request_acknowledgements_are_capped_per_account(handler_client):
    owner = new_client(handler_client)
    before = len(mails_to(handler_client, owner["email"]))
    for _ in range(5):
        _access_request(handler_client, owner["email"])  # still 201 every time
    # At most 3 unasked mails a day to one address, whatever the route: the
    # registration's verification link was the first.
    assert len(mails_to(handler_client, owner["email"])) == before + 2


def test_public_forms_are_throttled_per_ip(handler_client, monkeypatch):
    monkeypatch.setenv("IP_REQUESTS_PER_HOUR", "2")
    for path, body in (
        (
            "/support/access-requests",
            {
                "full_name": "A",
                "address": "B",
                "phone": "123",
                "login_or_email": "x",
                "message": "m",
            },
        ),
        ("/support/sales-questions", {"email": "q@example.org", "message": "Price of H1?"}),
    ):
        for _ in range(2):
            assert handler_client.post(path, body, ip="198.51.100.9").status == 201
        refused = handler_client.post(path, body, ip="198.51.100.9")
        assert refused.status == 429 and refused.json()["code"] == "rate_limited"
        assert int(refused.header("Retry-After")) > 0
        assert handler_client.post(path, body, ip="198.51.100.10").status == 201


@pytest.mark.parametrize(
    "body",
    [
        {"full_name": "A", "address": "B", "login_or_email": "x", "message": "m"},
        {"full_name": "", "address": "B", "phone": "123", "login_or_email": "x", "message": "m"},
        {"full_name": "A", "address": "B", "phone": "1", "login_or_email": "x", "message": "m"},
    ],
)
def test_invalid_access_requests_are_422(handler_client, body):
    reply = handler_client.post("/support/access-requests", body)
    assert reply.status == 422 and reply.json()["code"] == "validation_error"


# --- sales questions ---------------------------------------------------------------------------


def test_sales_question_from_anyone_is_answered_by_staff_at_the_given_address(client):
    asker = f"buyer-{uuid.uuid4().hex[:8]}@example.org"
    reply = client.post(
        "/support/sales-questions",
        {"email": asker, "message": "Quanto me poderá custar um upgrade de Plano H0 para H1?"},
        headers={"Accept-Language": "pt-PT,pt;q=0.9"},
    )
    assert reply.status == 201 and set(reply.json()) == {"number"}
    number = reply.json()["number"]
    # No acknowledgement: anyone can type any address into this form.
    assert mails_to(client, asker) == []

    staff = staff_token(client)
    ticket = client.get(f"/staff/tickets/{number}", token=staff).json()
    assert ticket["department"] == "sales" and ticket["origin"] == "sales_question"
    assert ticket["client_number"] is None
    assert asker not in json.dumps(ticket)  # the address stays out of staff views too

    answered = client.post(
        f"/staff/tickets/{number}/messages", {"message": "O upgrade custa 2 EUR/mês."}, token=staff
    )
    assert answered.status == 201
    (mail,) = mails_to(client, asker, count=1)
    assert number in mail["subject"] and "O upgrade custa 2 EUR/mês." in mail["text"]
    assert "Olá" in mail["text"]  # in the language the question was asked in
    assert mail["reply_to"] == "sales@clientarea.test"


def test_sales_question_with_a_bad_address_is_422(client):
    reply = client.post("/support/sales-questions", {"email": "not an address", "message": "x"})
    assert reply.status == 422 and reply.json()["code"] == "invalid_email"
    missing = client.post("/support/sales-questions", {"message": "x"})
    assert missing.status == 422 and missing.json()["code"] == "validation_error"


# --- staff ----------------------------------------------------------------------------------


def test_staff_queue_read_and_reply_in_the_clients_language(client):
    owner = new_client(client, locale="uk")
    number = open_ticket(client, owner, subject="Не працює пошта")
    staff = staff_token(client)

    queue = client.get("/staff/tickets?status=open", token=staff)
    assert queue.status == 200 and number in {t["number"] for t in queue.json()}
    default = client.get("/staff/tickets", token=staff).json()
    assert number in {t["number"] for t in default}  # open is the default

    ticket = client.get(f"/staff/tickets/{number}", token=staff)
    assert ticket.status == 200
    assert ticket.json()["client_number"] == owner["client_number"]
    assert ticket.json()["messages"][0]["body"] == "It is down."

    before = len(mails_to(client, owner["email"]))
    reply = client.post(
        f"/staff/tickets/{number}/messages", {"message": "Перезапустили сервер."}, token=staff
    )
    assert reply.status == 201 and reply.json()["author"] == "staff"
    mail = mails_to(client, owner["email"], count=before + 1)[-1]
    assert number in mail["subject"] and "Перезапустили сервер." in mail["text"]
    assert "Служба підтримки відповіла" in mail["text"]
    assert mail["reply_to"] == "support@clientarea.test"
    assert f"/tickets/{number}" in " ".join(mail["links"])

    seen = client.get(f"/tickets/{number}", token=owner["token"]).json()
    assert seen["status"] == "answered"
    assert [m["author"] for m in seen["messages"]] == ["client", "staff"]
    answered = client.get("/staff/tickets?status=answered", token=staff).json()
    assert number in {t["number"] for t in answered}
    # The client answers: back in the open queue.
    client.post(f"/tickets/{number}/messages", {"message": "Дякую!"}, token=owner["token"])
    reopened = client.get("/staff/tickets?status=open", token=staff).json()
    assert number in {t["number"] for t in reopened}


def test_staff_errors(client):
    owner = new_client(client)
    number = open_ticket(client, owner)
    staff = staff_token(client)
    assert client.get("/staff/tickets/TKT-999-998", token=staff).status == 404
    missing = client.post("/staff/tickets/TKT-999-998/messages", {"message": "x"}, token=staff)
    assert missing.status == 404
    bad_status = client.get("/staff/tickets?status=pending", token=staff)
    assert bad_status.status == 422 and bad_status.json()["code"] == "validation_error"
    empty = client.post(f"/staff/tickets/{number}/messages", {"message": ""}, token=staff)
    assert empty.status == 422
    client.post(f"/tickets/{number}/close", token=owner["token"])
    closed = client.post(f"/staff/tickets/{number}/messages", {"message": "x"}, token=staff)
    assert closed.status == 409 and closed.json()["code"] == "ticket_closed"
    bad_number = client.get("/staff/clients/abc/products", token=staff)
    assert bad_number.status == 422


def test_staff_routes_refuse_clients_and_client_routes_refuse_staff(client):
    owner = new_client(client)
    number = open_ticket(client, owner)
    for path in (
        "/staff/tickets",
        f"/staff/tickets/{number}",
        f"/staff/clients/{owner['client_number']}/products",
    ):
        assert client.get(path, token=owner["token"]).status == 403, path
        assert client.get(path).status == 401, path
    reply = client.post(f"/staff/tickets/{number}/messages", {"message": "x"}, token=owner["token"])
    assert reply.status == 403
    staff = staff_token(client)
    assert client.get("/tickets", token=staff).status == 403


def test_staff_views_carry_no_personal_data(client):
    """GIVEN a client with a name, phone and address, a service and a ticket
    WHEN staff list, read and answer the ticket and look at the client's products
    THEN no email, name, login, phone, address or password hash is in any answer."""
    full_name = f"Ірина Шевченко-{uuid.uuid4().hex[:6]}"
    owner = new_client(client, full_name=full_name)
    phone, address = "+351 912 345 678", f"Rua das Flores {uuid.uuid4().hex[:6]}, Porto"
    patched = client.patch("/account", {"phone": phone, "address": address}, token=owner["token"])
    assert patched.status == 200
    service = give_service(client, owner["client_number"])
    number = open_ticket(client, owner, service_id=service["service_id"])
    staff = staff_token(client)

    answers = [
        client.get("/staff/tickets?status=open", token=staff),
        client.get(f"/staff/tickets/{number}", token=staff),
        client.post(f"/staff/tickets/{number}/messages", {"message": "Done."}, token=staff),
        client.get("/staff/tickets?status=answered", token=staff),
        client.get(f"/staff/clients/{owner['client_number']}/products", token=staff),
    ]
    assert all(a.status in (200, 201) for a in answers)
    personal = [owner["email"], owner["email"].split("@")[0], full_name, phone, address]
    personal += [owner["login"], "argon2", "password"]
    for answer in answers:
        body = answer.body.decode()
        for value in personal:
            assert value.lower() not in body.lower(), (value, body[:200])
        for key in ("email", "full_name", "phone", "address", "login", "password_hash"):
            assert f'"{key}"' not in body

    products = answers[-1].json()
    assert products == [
        {
            "service_id": service["service_id"],
            "product": service["product"],
            "domain": service["domain"],
            "status": "active",
        }
    ]
    assert all(set(p) == {"service_id", "product", "domain", "status"} for p in products)
    unknown = client.get("/staff/clients/999999999/products", token=staff)
    assert unknown.status == 200 and unknown.json() == []


def test_an_idempotency_key_opens_one_ticket(client):
    owner = new_client(client)
    body = {"department": "technical", "subject": "Once", "message": "Only once, please."}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = client.post("/tickets", body, token=owner["token"], headers=key)
    again = client.post("/tickets", body, token=owner["token"], headers=key)
    assert first.status == again.status == 201
    assert first.json() == again.json()
    assert len(client.get("/tickets", token=owner["token"]).json()) == 1
