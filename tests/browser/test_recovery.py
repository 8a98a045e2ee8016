"""Seed 000, point 3: the owner lost the password and the contact mailbox. She applies
with documents uploaded straight to S3, staff approve in the console, and a reset
mailed to the new address lets her in again."""

from __future__ import annotations

import re
import uuid
import zlib
from pathlib import Path

import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import DEMO_PASSWORD, Mailbox, check_page, sign_in

NEW_PASSWORD = "recovered at last with documents 3"


def a_pdf(text: str) -> bytes:
    """A small, real one-page PDF (what a scanner would give, minus the scan)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def a_png(width: int = 64, height: int = 48) -> bytes:
    """A small, real PNG (a grey photo of a passport page, say)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    rows = b"".join(b"\x00" + bytes([160]) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_recovery_with_documents_approved_then_reset_at_the_new_address(
    page: Page, open_context, make_person, mailbox: Mailbox, tmp_path: Path
) -> None:
    # GIVEN a client who has lost both her password and her mailbox
    person = make_person(full_name="Oksana Melnyk")
    new_email = f"oksana-{uuid.uuid4().hex[:8]}@example.org"
    application = tmp_path / "application.pdf"
    application.write_bytes(a_pdf("Application for a new contact email"))
    passport = tmp_path / "passport-1-2.png"
    passport.write_bytes(a_png())

    # WHEN she opens the recovery page from the sign-in page and reads the requirements
    page.goto("/login")
    page.get_by_role("link", name="Recover access with documents").click()
    expect(page.get_by_role("heading", name="Recover access with documents")).to_be_visible()
    page.get_by_role("radio", name="Individual").check()
    expect(page.get_by_text("Copy of passport pages 1 and 2")).to_be_visible()
    check_page(page, "recovery")
    with page.expect_download() as blank:
        page.get_by_role("button", name="Download the blank application").click()
    assert blank.value.suggested_filename.endswith(".docx")
    assert Path(blank.value.path()).read_bytes()[:2] == b"PK"  # a DOCX is a zip

    # AND applies, sending scanned documents
    page.get_by_role("radio", name="Scanned documents").check()
    page.get_by_label("Your account").fill(person.login)
    page.get_by_label("Full name").fill("Oksana Melnyk")
    page.get_by_label("New contact email").fill(new_email)
    page.get_by_label("Phone number").fill("+380 44 123 4567")
    page.get_by_role("button", name="Open the application").click()

    # THEN she gets a reference and an access key, shown once
    expect(
        page.get_by_role("heading", name=re.compile(r"Recovery application RC-"))
    ).to_be_visible()
    expect(page.get_by_text("the key is shown only once")).to_be_visible()
    reference = page.locator("code").first.inner_text()
    assert re.fullmatch(r"RC-[A-Z0-9]+", reference)
    expect(page.locator(".lead .badge")).to_have_text("Awaiting documents")

    # WHEN she uploads each required document straight to S3, with a progress bar
    page.get_by_label(
        "Upload a file (Application written by hand and signed by the owner.)"
    ).set_input_files(application)
    expect(
        page.get_by_role("status").filter(has_text="application.pdf is uploaded.")
    ).to_be_visible()
    expect(page.get_by_role("progressbar", name="Uploading application.pdf")).to_have_attribute(
        "value", "100"
    )
    page.get_by_label(
        re.compile(r"^Upload a file \(Copy of passport pages 1 and 2")
    ).set_input_files(passport)
    expect(
        page.get_by_role("status").filter(has_text="passport-1-2.png is uploaded.")
    ).to_be_visible()
    expect(page.locator(".card").filter(has_text="passport pages 1 and 2")).to_contain_text(
        "Uploaded"
    )
    check_page(page, "recovery-status")

    # AND downloads her application, filled in, then sends it for review
    with page.expect_download() as filled:
        page.get_by_role("button", name="Download the application, filled in").click()
    assert Path(filled.value.path()).read_bytes()[:2] == b"PK"
    page.get_by_role("button", name="Send for review").click()
    expect(page.locator(".lead .badge")).to_have_text("Under review")

    # WHEN an administrator reviews it in the staff console
    console = open_context().new_page()
    sign_in(console, "admin", DEMO_PASSWORD)
    console.get_by_role("link", name="Recovery review", exact=True).click()
    console.get_by_role("link", name=reference).click()
    expect(console.get_by_text(f"Client number{person.client_number}")).to_be_visible()
    document_link = console.get_by_role("link", name="Open Handwritten application (scan)")
    assert (
        requests.get(document_link.get_attribute("href"), timeout=10).content
        == application.read_bytes()
    )
    check_page(console, "staff-recovery-case")
    console.get_by_label("Reason (sent to the applicant)").fill(
        "Identity confirmed by the passport copy."
    )
    console.get_by_role("button", name="Approve").click()
    expect(console.get_by_role("status")).to_contain_text("Approved: the contact email is changed")
    console.get_by_role("link", name="Recovery review", exact=True).click()
    console.get_by_role("button", name="Approved").click()
    expect(console.get_by_role("link", name=reference)).to_be_visible()
    check_page(console, "staff-recovery-queue")

    # THEN her status page, opened again with the reference and the key, says approved
    page.reload()
    expect(page.locator(".lead .badge")).to_have_text("Approved")

    # AND a reset asked for her login is mailed to the new address, and lets her in
    page.goto("/forgot-password")
    page.get_by_label("Login or email").fill(person.login)
    page.get_by_role("button", name="Send me a link").click()
    page.goto(mailbox.link(new_email, "/reset-password#token="))
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("heading", name="Your password has been changed")).to_be_visible()
    sign_in(page, new_email, NEW_PASSWORD)
    expect(page.get_by_text("Welcome, Oksana Melnyk.")).to_be_visible()
