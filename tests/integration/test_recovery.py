"""Manual recovery (API.md "Manual recovery"): through the handlers and over HTTP.

Uploads go to the presigned POST URLs the API hands out: in-process they reach moto
through its request mock, over HTTP the dev server's moto server. Either way S3's POST
policy check is emulated by infra/local/moto_fixes.py (moto itself checks nothing).
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from typing import Any

import docx
import pytest
import requests

from tests.clients import ApiClient, InProcessClient
from tests.integration.test_cession import (
    WORKFLOW_SECONDS,
    Party,
    activated,
    give_service,
    new_party,
    order_cession,
    outcome_mails,
    service_ids,
    wait_for_status,
)
from tests.support.accounts import PASSWORD, admin_token, log_in, register_and_verify, staff_token
from tests.support.aws_calls import operations, recorded_aws_calls
from tests.support.replies import expect_error
from tests.support.waiting import wait_until

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = b"%PDF-1.7\n" + b"0" * 2048 + b"\n%%EOF\n"
KEY = "X-Recovery-Key"


# --- helpers ----------------------------------------------------------------------------


def new_owner(client: ApiClient, locale: str = "en") -> dict:
    email = f"owner-{uuid.uuid4().hex[:12]}@example.com"
    created = register_and_verify(client, email, locale=locale)
    return {**created, "email": email, "token": log_in(client, email)}


def application(hint: str, **changes: Any) -> dict:
    body = {
        "account_hint": hint,
        "applicant_type": "individual",
        "full_name": "Olena Kovalenko",
        "new_email": f"new-{uuid.uuid4().hex[:12]}@example.org",
        "phone": "+380 44 000 00 00",
        "channel": "scanned_documents",
    }
    body.update(changes)
    return body


def open_case(client: ApiClient, hint: str, **changes: Any) -> tuple[dict, dict]:
    body = application(hint, **changes)
    reply = client.post("/recovery/requests", body)
    assert reply.status == 201, reply.body
    return body, reply.json()


def upload(form: dict, content_type: str, data: bytes) -> requests.Response:
    """What a browser does with one of the API's upload forms."""
    fields = form["fields_by_content_type"][content_type]
    return requests.post(
        form["url"], data=fields, files={"file": ("document", data, content_type)}, timeout=30
    )


def upload_required(case: dict) -> None:
    for form in case["uploads"]:
        if form["required"]:
            assert upload(form, "application/pdf", PDF).status_code == 204


def submit(client: ApiClient, case: dict) -> Any:
    return client.post(
        f"/recovery/requests/{case['reference']}/submit", headers={KEY: case["access_key"]}
    )


def decide(client: ApiClient, token: str, reference: str, decision: str, reason: str = "") -> Any:
    return client.post(
        f"/staff/recovery-requests/{reference}/decision",
        {"decision": decision, "reason": reason},
        token=token,
    )


def under_review(client: ApiClient, hint: str, **changes: Any) -> tuple[dict, dict]:
    body, case = open_case(client, hint, **changes)
    upload_required(case)
    assert submit(client, case).status == 202
    return body, case


# --- requirements and templates -----------------------------------------------------------


def test_requirements_describe_each_applicant_type_in_the_readers_language(client):
    # WHEN a Ukrainian reader asks what to send
    reply = client.get("/recovery/requirements", headers={"Accept-Language": "uk"})
    # THEN each applicant type lists its channels and documents in the seed's wording
    assert reply.status == 200
    types = reply.json()["applicant_types"]
    assert set(types) == {"individual", "sole_proprietor", "legal_entity"}
    person = {c["channel"]: c for c in types["individual"]["channels"]}
    assert set(person) == {"e_signature", "scanned_documents"}
    scanned = {d["document"]: d for d in person["scanned_documents"]["documents"]}
    assert scanned["passport_pages_1_2"]["required"] is True
    assert "«Копія вірна»" in scanned["passport_pages_1_2"]["description"]
    assert "25" in scanned["passport_photo_25"]["description"]
    assert scanned["passport_photo_45"]["required"] is False
    assert "ЕЦП" in person["e_signature"]["description"]
    legal = {c["channel"]: c for c in types["legal_entity"]["channels"]}
    assert set(legal) == {"e_signature", "post"}
    assert legal["post"]["uploads_needed"] is False and legal["post"]["documents"] == []
    assert "печаткою" in legal["post"]["description"]
    assert types["legal_entity"]["template_url"] == "/recovery/templates/legal_entity?locale=uk"
    assert types["individual"]["accepted_content_types"] == [
        "application/pdf",
        "image/jpeg",
        "image/png",
    ]


def test_blank_template_is_a_docx_in_the_asked_language(client):
    # WHEN the legal-entity template is downloaded in Polish
    reply = client.get("/recovery/templates/legal_entity?locale=pl", headers={"Accept": DOCX})
    # THEN it is a Word document, offered as a download, with the Polish wording
    assert reply.status == 200
    assert reply.header("Content-Type") == DOCX
    assert "attachment" in reply.header("Content-Disposition")
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(reply.body)).paragraphs)
    assert "Wniosek o zmianę kontaktowego adresu e-mail" in text
    assert "pieczęcią" in text
    # AND an unknown applicant type is a 404
    assert client.get("/recovery/templates/robot", headers={"Accept": DOCX}).status == 404


def test_filled_application_carries_the_request_and_needs_the_key(client):
    # GIVEN a case opened in Ukrainian
    body, case = open_case(client, "somebody", full_name="Олена Коваленко")
    path = f"/recovery/requests/{case['reference']}/application"
    # WHEN the applicant downloads the application with the key
    reply = client.get(path, headers={KEY: case["access_key"], "Accept": DOCX})
    assert reply.status == 200
    document = docx.Document(io.BytesIO(reply.body))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    # THEN it is pre-filled with what they stated
    assert case["reference"] in cells
    assert "Олена Коваленко" in cells and body["new_email"] in cells
    # AND without the key it is the same 404 as an unknown case
    assert client.get(path, headers={KEY: "x" * 43, "Accept": DOCX}).status == 404


# --- opening a case ---------------------------------------------------------------------


def test_answer_is_the_same_whether_or_not_the_hint_names_an_account(client):
    owner = new_owner(client)
    service = give_service(
        client, Party(owner["client_number"], owner["login"], owner["email"], owner["token"])
    )
    shapes = []
    for hint in (
        owner["login"],
        str(owner["client_number"]),
        owner["email"],
        service["domain"],
        "nobody-" + uuid.uuid4().hex[:8],
        f"ghost-{uuid.uuid4().hex[:8]}@example.net",
    ):
        reply = client.post("/recovery/requests", application(hint))
        assert reply.status == 201, reply.body
        created = reply.json()
        shapes.append(
            (
                sorted(created),
                created["status"],
                [u["document"] for u in created["uploads"]],
                len(created["access_key"]),
                len(created["reference"]),
            )
        )
        assert created["reference"].startswith("RC-") and len(created["reference"]) == 13
    assert all(shape == shapes[0] for shape in shapes)
    assert shapes[0][1] == "awaiting_documents"
    assert shapes[0][2] == [
        "application_handwritten",
        "passport_pages_1_2",
        "passport_photo_25",
        "passport_photo_45",
    ]


def test_staff_see_which_account_the_hint_matched(client):
    owner = new_owner(client)
    staff = staff_token(client, reuse=True)
    service = give_service(
        client, Party(owner["client_number"], owner["login"], owner["email"], owner["token"])
    )
    for hint, how in (
        (owner["login"], "login"),
        (str(owner["client_number"]), "client_number"),
        (owner["email"].upper(), "email"),
        (service["domain"], "domain"),
    ):
        _, case = open_case(client, hint)
        seen = client.get(f"/staff/recovery-requests/{case['reference']}", token=staff).json()
        assert "account" in seen, seen
        assert seen["account"] == {
            "client_number": owner["client_number"],
            "matched_by": how,
            "full_name": "Test User",
        }
    _, unmatched = open_case(client, "nobody-" + uuid.uuid4().hex[:8])
    seen = client.get(f"/staff/recovery-requests/{unmatched['reference']}", token=staff).json()
    assert seen["account"] is None


def test_received_mail_goes_to_the_new_address_with_the_reference_only(client):
    body, case = open_case(client, "anyone", channel="e_signature")
    (mail,) = client.mails(body["new_email"])
    assert case["reference"] in mail["subject"] and case["reference"] in mail["text"]
    assert case["access_key"] not in mail["text"] and case["access_key"] not in mail["html"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"applicant_type": "robot"}, "applicant_type"),
        ({"channel": "pigeon"}, "channel"),
        ({"channel": "post"}, None),  # individuals do not send by post
        ({"applicant_type": "legal_entity", "channel": "post"}, None),  # no company fields
        (
            {"applicant_type": "legal_entity", "channel": "post", "company_name": "ТОВ Ромашка"},
            None,
        ),
        ({"new_email": "not-an-address"}, None),
        ({"phone": ""}, "phone"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_applications_are_422(client, changes, field):
    reply = client.post("/recovery/requests", application("anyone", **changes))
    assert reply.status == 422, reply.body
    error = reply.json()
    assert error["code"] in {"validation_error", "invalid_email"}
    if field is not None:
        assert any(field in item["loc"] for item in error["errors"])


def test_legal_entity_by_post_needs_no_upload(client):
    # GIVEN a company that sends its stamped letter by post
    _, case = open_case(
        client,
        "anyone",
        applicant_type="legal_entity",
        channel="post",
        company_name="ТОВ Ромашка",
        company_code="12345678",
    )
    assert case["uploads"] == []
    # WHEN it submits at once
    reply = submit(client, case)
    # THEN the case is under review
    assert reply.status == 202 and reply.json() == {"status": "under_review"}


# --- following a case -----------------------------------------------------------------


def test_wrong_key_and_unknown_reference_are_the_same_404(client):
    _, case = open_case(client, "anyone")
    path = f"/recovery/requests/{case['reference']}"
    wrong = client.get(path, headers={KEY: "A" * 43})
    missing_key = client.get(path)
    unknown = client.get("/recovery/requests/RC-AAAAAAAAAA", headers={KEY: case["access_key"]})
    malformed = client.get("/recovery/requests/whatever", headers={KEY: case["access_key"]})
    for reply in (wrong, missing_key, unknown, malformed):
        assert reply.status == 404 and reply.json()["code"] == "not_found"
    assert wrong.body == unknown.body == missing_key.body == malformed.body
    assert client.post(f"{path}/submit", headers={KEY: "A" * 43}).status == 404


def test_submit_without_documents_is_409_documents_missing(client):
    # GIVEN a case with only the application uploaded
    _, case = open_case(client, "anyone")
    first = case["uploads"][0]
    sent = upload(first, "image/jpeg", b"\xff\xd8\xff" + b"0" * 100)
    assert sent.status_code == 204, sent.text
    # WHEN it is submitted
    reply = submit(client, case)
    # THEN S3 is missing the passport copy: 409, and the case still awaits documents
    assert reply.status == 409 and reply.json()["code"] == "documents_missing"
    view = client.get(f"/recovery/requests/{case['reference']}", headers={KEY: case["access_key"]})
    assert view.json()["status"] == "awaiting_documents"
    documents = {d["document"]: d for d in view.json()["documents"]}
    assert documents["application_handwritten"]["uploaded"] is True
    assert documents["passport_pages_1_2"]["uploaded"] is False


def test_upload_then_submit_moves_to_under_review_once(client):
    _, case = open_case(client, "anyone")
    upload_required(case)  # the optional photo pages are not needed
    view = client.get(f"/recovery/requests/{case['reference']}", headers={KEY: case["access_key"]})
    assert view.status == 200
    assert [d["uploaded"] for d in view.json()["documents"]] == [True, True, False, False]
    assert view.json()["documents"][0]["size"] == len(PDF)
    assert len(view.json()["uploads"]) == 4  # fresh forms while documents are awaited
    reply = submit(client, case)
    assert reply.status == 202 and reply.json() == {"status": "under_review"}
    after = client.get(f"/recovery/requests/{case['reference']}", headers={KEY: case["access_key"]})
    assert after.json()["status"] == "under_review" and after.json()["uploads"] == []
    # AND a second submit is refused
    again = submit(client, case)
    assert again.status == 409 and again.json()["code"] == "invalid_recovery_state"


@pytest.mark.parametrize(
    ("declared", "data", "status", "code"),
    [
        ("image/gif", b"GIF89a" + b"0" * 100, 403, "AccessDenied"),  # not an accepted type
        ("application/pdf", b"", 400, "EntityTooSmall"),
        ("application/pdf", b"0" * (10 * 1024 * 1024 + 1), 400, "EntityTooLarge"),
    ],
)
def test_s3_refuses_a_wrong_type_or_size(client, declared, data, status, code):
    # GIVEN a case's upload form for the application
    _, case = open_case(client, "anyone", channel="e_signature")
    (form,) = case["uploads"]
    assert form["max_bytes"] == 10 * 1024 * 1024
    fields = dict(form["fields_by_content_type"]["application/pdf"])
    fields["Content-Type"] = declared  # a browser sending another type with the PDF form
    # WHEN the file is posted to S3
    reply = requests.post(
        form["url"], data=fields, files={"file": ("f", data, declared)}, timeout=60
    )
    # THEN S3 refuses it, and nothing is stored
    assert reply.status_code == status, reply.text
    assert f"<Code>{code}</Code>" in reply.text
    view = client.get(f"/recovery/requests/{case['reference']}", headers={KEY: case["access_key"]})
    assert view.json()["documents"][0]["uploaded"] is False


def test_s3_refuses_a_tampered_policy_or_key(client):
    _, case = open_case(client, "anyone", channel="e_signature")
    (form,) = case["uploads"]
    fields = dict(form["fields_by_content_type"]["application/pdf"])
    other = dict(fields, key=fields["key"].replace(case["reference"], "RC-ZZZZZZZZZZ"))
    reply = requests.post(form["url"], data=other, files={"file": ("f", PDF)}, timeout=30)
    assert reply.status_code == 403 and "Policy Condition failed" in reply.text
    forged = dict(fields, policy=fields["policy"][:-4] + "AAA=")
    reply = requests.post(form["url"], data=forged, files={"file": ("f", PDF)}, timeout=30)
    assert reply.status_code == 403 and "SignatureDoesNotMatch" in reply.text


# --- staff --------------------------------------------------------------------------------


def test_clients_get_403_on_staff_routes_and_nobody_without_a_session(client):
    owner = new_owner(client)
    for path in ("/staff/recovery-requests", "/staff/recovery-requests/RC-AAAAAAAAAA"):
        assert client.get(path, token=owner["token"]).status == 403
        assert client.get(path).status == 401
    reply = decide(client, owner["token"], "RC-AAAAAAAAAA", "approve")
    assert reply.status == 403


def test_staff_list_by_status_and_open_a_case_with_download_links(client):
    staff = staff_token(client, reuse=True)
    _, waiting = open_case(client, "anyone")
    _, reviewed = under_review(client, "anyone")
    listed = client.get("/staff/recovery-requests?status=under_review", token=staff)
    assert listed.status == 200
    references = [case["reference"] for case in listed.json()]
    assert reviewed["reference"] in references and waiting["reference"] not in references
    awaiting = client.get("/staff/recovery-requests?status=awaiting_documents", token=staff)
    assert waiting["reference"] in [case["reference"] for case in awaiting.json()]
    assert client.get("/staff/recovery-requests?status=lost", token=staff).status == 422
    # WHEN staff open the case
    seen = client.get(f"/staff/recovery-requests/{reviewed['reference']}", token=staff)
    assert seen.status == 200
    documents = {d["document"]: d for d in seen.json()["documents"]}
    # THEN uploaded documents come with a short-lived link that serves the file
    link = documents["passport_pages_1_2"]["download_url"]
    assert "X-Amz-Expires=300" in link
    fetched = requests.get(link, timeout=30)
    assert fetched.status_code == 200 and fetched.content == PDF
    assert documents["passport_photo_45"]["download_url"] is None
    assert client.get("/staff/recovery-requests/RC-AAAAAAAAAA", token=staff).status == 404


SWAPPED = b"%PDF-1.7\n" + b"forged passport " * 300 + b"\n%%EOF\n"


def test_a_document_swapped_after_submit_is_not_what_staff_see(client):
    # GIVEN a submitted case (the audit trail records what was handed in)
    owner = new_owner(client)
    _, case = under_review(client, owner["login"])
    form = next(f for f in case["uploads"] if f["document"] == "passport_pages_1_2")
    # WHEN the applicant re-uses the still-valid upload form with another file
    upload(form, "application/pdf", SWAPPED)
    # THEN staff get exactly the file that was submitted, and the audit's size and
    # MD5 (S3's ETag) are those of the file they download
    staff = staff_token(client, reuse=True)
    seen = client.get(f"/staff/recovery-requests/{case['reference']}", token=staff).json()
    documents = {d["document"]: d for d in seen["documents"]}
    passport = documents["passport_pages_1_2"]
    fetched = requests.get(passport["download_url"], timeout=30).content
    assert fetched == PDF
    (submitted,) = [e for e in seen["audit"] if e["action"] == "submitted"]
    recorded = submitted["detail"]["documents"]["passport_pages_1_2"]
    assert recorded["bytes"] == passport["size"] == len(fetched)
    assert recorded["etag"] == passport["etag"] == hashlib.md5(fetched).hexdigest()
    # AND a slot left empty at submit stays empty, whatever arrives later
    photo = next(f for f in case["uploads"] if f["document"] == "passport_photo_25")
    upload(photo, "image/jpeg", b"\xff\xd8\xff" + b"0" * 100)
    seen = client.get(f"/staff/recovery-requests/{case['reference']}", token=staff).json()
    documents = {d["document"]: d for d in seen["documents"]}
    assert documents["passport_photo_25"]["uploaded"] is False
    assert documents["passport_photo_25"]["download_url"] is None
    # AND the applicant sees the submitted documents too
    view = client.get(f"/recovery/requests/{case['reference']}", headers={KEY: case["access_key"]})
    sizes = {d["document"]: d["size"] for d in view.json()["documents"]}
    assert sizes["passport_pages_1_2"] == len(PDF) and sizes["passport_photo_25"] is None
    # AND after the decision staff still get the original (the closed copy is made of it)
    assert decide(client, staff, case["reference"], "reject", "unreadable").status == 200
    seen = client.get(f"/staff/recovery-requests/{case['reference']}", token=staff).json()
    for document in seen["documents"]:
        if document["uploaded"]:
            assert requests.get(document["download_url"], timeout=30).content == PDF


def test_approval_moves_the_email_and_revokes_sessions_and_reset_links(client):
    # GIVEN an owner with a live session and a pending reset link
    owner = new_owner(client, locale="uk")
    assert client.post("/password/forgot", {"login": owner["email"]}).status == 202
    reset_token = client.mail_link_token(owner["email"], subject_contains="пароля")
    body, case = under_review(client, owner["login"], channel="scanned_documents")
    staff = admin_token(client, reuse=True)
    # WHEN an admin approves
    reply = decide(client, staff, case["reference"], "approve", "documents verified")
    # THEN the case is approved and its contact email is the new one
    assert reply.status == 200, reply.body
    assert reply.json()["status"] == "approved"
    # AND the old session is dead, the old reset link too
    assert client.get("/account", token=owner["token"]).status == 401
    assert client.post("/password/reset/verify", {"token": reset_token}).status == 410
    # AND the owner logs in with the new address (the password is unchanged)
    token = log_in(client, body["new_email"], PASSWORD)
    assert client.get("/account", token=token).json()["email"] == body["new_email"]
    # AND both addresses are told, the old one in the account's language
    (old_notice,) = [m for m in client.mails(owner["email"]) if case["reference"] in m["subject"]]
    assert "схвалено" in old_notice["subject"]
    new_mails = client.mails(body["new_email"], count=2)
    assert any("approved" in m["subject"] for m in new_mails)
    # AND deciding twice is refused
    again = decide(client, staff, case["reference"], "reject", "too late")
    assert again.status == 409 and again.json()["code"] == "invalid_recovery_state"
    # AND the applicant sees the outcome
    view = client.get(f"/recovery/requests/{case['reference']}", headers={KEY: case["access_key"]})
    assert view.json()["status"] == "approved" and view.json()["decision_reason"] is None


def test_rejection_tells_the_applicant_why(client):
    owner = new_owner(client)
    body, case = under_review(client, owner["login"])
    staff = staff_token(client, reuse=True)
    reason = "The passport copy is not marked «copy is true»."
    # a rejection needs a reason
    assert decide(client, staff, case["reference"], "reject").status == 422
    reply = decide(client, staff, case["reference"], "reject", reason)
    assert reply.status == 200 and reply.json()["status"] == "rejected"
    view = client.get(f"/recovery/requests/{case['reference']}", headers={KEY: case["access_key"]})
    assert view.json()["status"] == "rejected"
    assert view.json()["decision_reason"] == reason
    mails = client.mails(body["new_email"], count=2)
    rejected = [m for m in mails if "rejected" in m["subject"]]
    assert rejected and reason in rejected[0]["text"]
    # AND the account is untouched: the owner's session still works
    assert client.get("/account", token=owner["token"]).json()["email"] == owner["email"]
    assert (
        decide(client, admin_token(client, reuse=True), case["reference"], "approve").status == 409
    )


def test_only_an_admin_approves_a_support_agent_reviews_and_rejects(client):
    # GIVEN a case naming an account, and a support agent
    owner = new_owner(client)
    body, case = under_review(client, owner["login"])
    support = staff_token(client, reuse=True)
    path = f"/staff/recovery-requests/{case['reference']}"
    # WHEN the agent approves (one person handing any account to any address)
    reply = decide(client, support, case["reference"], "approve", "looks fine")
    # THEN 403, and nothing changed: the case waits, the account keeps its address
    expect_error(reply, 403, "forbidden")
    assert client.get(path, token=support).json()["status"] == "under_review"
    assert client.get("/account", token=owner["token"]).json()["email"] == owner["email"]
    assert [m for m in client.mails(body["new_email"]) if "approved" in m["subject"]] == []
    # AND an admin may approve it
    reply = decide(
        client, admin_token(client, reuse=True), case["reference"], "approve", "verified"
    )
    assert (reply.status, reply.json()["status"]) == (200, "approved")
    # AND the agent may still reject a case
    _, other = under_review(client, new_owner(client)["login"])
    reply = decide(client, support, other["reference"], "reject", "unreadable scan")
    assert (reply.status, reply.json()["status"]) == (200, "rejected")


def test_approval_cancels_the_accounts_open_cession_orders(client):
    """Whoever held the old mailbox holds the cession links mailed there: an approval
    must not leave them a way to move the account's services (or fill it) afterwards."""
    # GIVEN an account with an activated cession of its service (links in the old mailbox),
    owner = new_party(client)
    other, giver = new_party(client), new_party(client)
    service, outgoing, owner_link, other_link = activated(client, owner, other)
    # one not yet activated,
    waiting_service = give_service(client, owner)
    waiting = order_cession(client, owner, other, waiting_service).json()
    # and an activated cession TO it,
    incoming_service, incoming, giver_link, owner_in_link = activated(client, giver, owner)
    # and a finished one, which stays as it is
    done_service = give_service(client, owner)
    done = order_cession(client, owner, other, done_service).json()
    assert client.post(f"/orders/{done['order_id']}/cancel", token=owner.token).status == 200
    body, case = under_review(client, owner.login)
    # WHEN an admin approves the recovery
    reply = decide(
        client, admin_token(client, reuse=True), case["reference"], "approve", "verified"
    )
    assert reply.status == 200, reply.body
    # THEN every open order is cancelled, for both parties
    wait_for_status(client, other, outgoing["order_id"], "cancelled")
    wait_for_status(client, other, waiting["order_id"], "cancelled")
    wait_for_status(client, giver, incoming["order_id"], "cancelled")
    assert client.get(f"/orders/{done['order_id']}", token=other.token).json()["status"] == (
        "cancelled"
    )
    # AND no link mailed before works: nothing can move
    for link in (owner_link, other_link, giver_link, owner_in_link):
        late = client.post("/cession/confirm", {"token": link})
        assert (late.status, late.json()["code"]) == (410, "token_invalid")
    renewed = Party(
        owner.client_number, owner.login, body["new_email"], log_in(client, body["new_email"])
    )
    assert {service["service_id"], waiting_service["service_id"]} <= service_ids(client, renewed)
    assert incoming_service["service_id"] in service_ids(client, giver)
    # AND the services are free again (a new order may hold them)
    assert order_cession(client, renewed, other, service).status == 201
    # AND both parties of each order are told, the account at its new address
    for party, domain in (
        (other, service["domain"]),
        (renewed, service["domain"]),
        (other, waiting_service["domain"]),
        (renewed, waiting_service["domain"]),
        (giver, incoming_service["domain"]),
        (renewed, incoming_service["domain"]),
    ):
        assert outcome_mails(client, party, domain, "cancelled"), (party.email, domain)
    # AND the workflows of the activated orders end cleanly (in-process: moto's executions)
    if isinstance(client, InProcessClient):
        _assert_executions_succeeded(client, [outgoing["order_id"], incoming["order_id"]])


def test_orders_beyond_one_transaction_are_cancelled_right_after_it(handler_client, monkeypatch):
    from clientarea.cession import withdrawal

    # (DynamoDB takes 100 items per transaction: past WITHDRAW_IN_TRANSACTION orders, the
    # rest are cancelled each on its own once the approval has committed)
    monkeypatch.setattr(withdrawal, "WITHDRAW_IN_TRANSACTION", 1)
    client = handler_client
    owner, other = new_party(client), new_party(client)
    first = order_cession(client, owner, other, give_service(client, owner)).json()
    service, second, owner_link, other_link = activated(client, owner, other)
    _, case = under_review(client, owner.login)
    reply = decide(
        client, admin_token(client, reuse=True), case["reference"], "approve", "verified"
    )
    assert reply.status == 200, reply.body
    for order in (first, second):
        assert client.get(f"/orders/{order['order_id']}", token=other.token).json()["status"] == (
            "cancelled"
        )
    for link in (owner_link, other_link):
        assert client.post("/cession/confirm", {"token": link}).status == 410
    assert outcome_mails(client, other, service["domain"], "cancelled")
    _assert_executions_succeeded(client, [second["order_id"]])


def _assert_executions_succeeded(client: InProcessClient, order_ids: list[str]) -> None:

    import boto3

    sfn = boto3.client("stepfunctions", region_name="eu-central-1")
    machine = client.deployment.physical.refs["CessionStateMachine"]
    executions = {
        e["name"]: e["executionArn"]
        for e in sfn.list_executions(stateMachineArn=machine)["executions"]
    }
    for order_id in order_ids:

        def ended(arn: str = executions[order_id]) -> str | None:
            status = sfn.describe_execution(executionArn=arn)["status"]
            return None if status == "RUNNING" else status

        status = wait_until(ended, timeout=WORKFLOW_SECONDS, message=f"{order_id} still runs")
        assert status == "SUCCEEDED", (order_id, status)


def test_decisions_need_a_case_under_review_and_an_account(client):
    staff = admin_token(client, reuse=True)
    _, waiting = open_case(client, "anyone")
    reply = decide(client, staff, waiting["reference"], "approve")
    assert reply.status == 409 and reply.json()["code"] == "invalid_recovery_state"
    _, unmatched = under_review(client, "nobody-" + uuid.uuid4().hex[:8])
    reply = decide(client, staff, unmatched["reference"], "approve")
    assert reply.status == 409 and reply.json()["code"] == "no_matching_account"
    assert decide(client, staff, "RC-AAAAAAAAAA", "approve").status == 404
    assert decide(client, staff, waiting["reference"], "maybe").status == 422


def test_approval_is_409_email_taken_when_the_address_belongs_to_another_account(client):
    owner = new_owner(client)
    # the new address is (or has meanwhile become) another account's contact email
    taken = f"taken-{uuid.uuid4().hex[:12]}@example.org"
    register_and_verify(client, taken)
    _, case = under_review(client, owner["login"], new_email=taken)
    staff = admin_token(client, reuse=True)
    reply = decide(client, staff, case["reference"], "approve")
    assert reply.status == 409 and reply.json()["code"] == "email_taken"
    assert client.get("/account", token=owner["token"]).status == 200


def test_every_step_is_in_the_audit_trail_and_no_route_changes_it(client):
    owner = new_owner(client)
    _, case = under_review(client, owner["login"])
    staff = staff_token(client, reuse=True)
    path = f"/staff/recovery-requests/{case['reference']}"
    client.get(path, token=staff)
    decide(client, staff, case["reference"], "reject", "unreadable scan")
    trail = client.get(path, token=staff).json()["audit"]
    actions = [(entry["action"], entry["actor"].split(":")[0]) for entry in trail]
    assert actions == [
        ("created", "applicant"),
        ("submitted", "applicant"),
        ("viewed", "staff"),
        ("rejected", "staff"),
        ("viewed", "staff"),
    ]
    assert all(entry["source_ip"] and entry["at"] for entry in trail)
    assert set(trail[1]["detail"]["documents"]) == {"application_handwritten", "passport_pages_1_2"}
    assert trail[3]["detail"]["reason"] == "unreadable scan"
    # No route writes the trail: every method on it is refused.
    for method in ("PUT", "PATCH", "DELETE"):
        assert client.request(method, path, token=staff).status in {403, 404, 405}
        assert client.request(method, f"{path}/audit", token=staff).status in {403, 404, 405}


def test_decided_documents_move_under_closed_for_the_retention_rule(handler_client):
    import boto3
    from clientarea import config

    owner = new_owner(handler_client)
    _, case = under_review(handler_client, owner["login"])
    # (a file sent after submit: a newer version, which must not become the closed copy)
    form = next(f for f in case["uploads"] if f["document"] == "passport_pages_1_2")
    assert upload(form, "application/pdf", SWAPPED).status_code == 204
    staff = staff_token(handler_client)
    assert decide(handler_client, staff, case["reference"], "reject", "blurred").status == 200
    s3 = boto3.client("s3")
    bucket = config.recovery_bucket()
    listed = s3.list_object_versions(Bucket=bucket, Prefix=f"requests/{case['reference']}/")
    # nothing is left under requests/: no version, no delete marker
    assert listed.get("Versions", []) == listed.get("DeleteMarkers", []) == []
    closed = s3.list_object_versions(Bucket=bucket, Prefix=f"closed/{case['reference']}/")
    assert sorted(item["Key"] for item in closed["Versions"]) == [
        f"closed/{case['reference']}/application_handwritten",
        f"closed/{case['reference']}/passport_pages_1_2",
    ]
    for item in closed["Versions"]:
        assert s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read() == PDF
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert rules["ExpireClosedCases"]["Filter"]["Prefix"] == "closed/"
    assert rules["ExpireClosedCases"]["Expiration"]["Days"] == 90
    assert rules["ExpireClosedCases"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1
    assert rules["RemoveExpiredDeleteMarkers"]["Expiration"]["ExpiredObjectDeleteMarker"]
    # staff still download them after the decision
    seen = handler_client.get(f"/staff/recovery-requests/{case['reference']}", token=staff).json()
    link = seen["documents"][0]["download_url"]
    assert requests.get(link, timeout=30).content == PDF


def test_requests_are_throttled_per_address(handler_client, monkeypatch):
    monkeypatch.setenv("IP_REQUESTS_PER_HOUR", "2")
    for _ in range(2):
        assert (
            handler_client.post("/recovery/requests", application("x"), ip="198.51.100.9").status
            == 201
        )
    reply = handler_client.post("/recovery/requests", application("x"), ip="198.51.100.9")
    assert reply.status == 429 and reply.header("Retry-After")
    assert (
        handler_client.post("/recovery/requests", application("x"), ip="198.51.100.10").status
        == 201
    )


def test_matched_and_unmatched_hints_make_the_same_aws_calls(handler_client):
    """The answer's timing cannot tell a match: the same calls, in the same order."""
    owner = new_owner(handler_client)
    sequences = []
    for hint in (owner["login"], "nobody-" + uuid.uuid4().hex[:8], str(owner["client_number"])):
        with recorded_aws_calls() as calls:
            reply = handler_client.deployment.api.handle(
                "POST",
                "/recovery/requests",
                {"Content-Type": "application/json"},
                json.dumps(application(hint)).encode(),
            )
        assert reply.status == 201
        sequences.append(operations(calls))
    assert sequences[0] == sequences[1] == sequences[2]
    assert sequences[0] == [
        "UpdateItem",  # requests per IP
        "UpdateItem",  # unasked mails per IP
        "UpdateItem",  # unasked mails to the new address
        "TransactGetItems",
        "Query",
        "TransactWriteItems",
        "SendMessage",
    ]


def test_opening_a_case_is_never_replayed_so_no_access_key_is_stored(client):
    """An Idempotency-Key replay would keep the 201 (with the access key) in the
    idempotency table: this route is exempt, like login."""
    body = application("anyone")
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = client.post("/recovery/requests", body, headers=key)
    second = client.post("/recovery/requests", body, headers=key)
    assert first.status == second.status == 201
    assert first.json()["reference"] != second.json()["reference"]
