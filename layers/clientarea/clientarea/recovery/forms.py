"""The manual-recovery application and its words: applicant types, channels, documents
(the help-centre wording the procedure was specified from) and the downloadable
application as a Word document (DOCX), blank to fill in by hand or pre-filled with what
the applicant stated. The words are written here in English and translated through the
catalogs (`clientarea.i18n`).

The DOCX is built with python-docx from these texts alone: no template file to drift
from them, and nothing the applicant typed is interpreted (python-docx writes text runs,
so a value cannot inject markup into the document). XML cannot hold every character:
what it cannot (control characters, U+FFFE/U+FFFF, lone surrogates) is shown as U+FFFD
rather than fail the download. The API refuses such text at input; this keeps a case
stored before that rule, or by any other path, printable.
"""

from __future__ import annotations

import io
import re
from typing import Any

from clientarea import i18n
from clientarea.i18n import N_
from clientarea.locales import negotiate

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

TEXTS: dict[str, dict[str, str]] = {
    "applicant_types": {
        "individual": N_("Individual"),
        "sole_proprietor": N_("Sole proprietor"),
        "legal_entity": N_("Legal entity"),
    },
    "channels": {
        "e_signature": N_(
            "Sign the application with a qualified electronic signature and upload the signed PDF."
        ),
        "scanned_documents": N_(
            "Write the application by hand, sign it, and upload scans or photos of it and "
            "of the copies of your passport."
        ),
        # Translators: %(postal_address)s is the provider's postal address.
        "post": N_(
            "Send the original letter, with the company's stamp and the director's "
            "signature, by post or courier to: %(postal_address)s."
        ),
    },
    "documents": {
        "application_e_signature": N_(
            "Application on behalf of the owner, signed with a qualified electronic signature."
        ),
        "application_handwritten": N_("Application written by hand and signed by the owner."),
        "passport_pages_1_2": N_(
            'Copy of passport pages 1 and 2, marked "copy is true" and signed by you.'
        ),
        "passport_photo_25": N_(
            "Copy of the passport page with the photo pasted at the age of 25, marked "
            '"copy is true" and signed (if your passport has it).'
        ),
        "passport_photo_45": N_(
            "Copy of the passport page with the photo pasted at the age of 45, marked "
            '"copy is true" and signed (if your passport has it).'
        ),
        "official_letter_e_signature": N_(
            "Official letter on the company's letterhead, signed with the director's "
            "qualified electronic signature and the company's electronic seal."
        ),
    },
    "application": {
        "title": N_("Application for a change of the contact email address"),
        "intro": N_(
            "I have lost the password of the client area and no longer have access to its "
            "contact email address. I ask you to change the contact email address of the "
            "account named below to the new address given here."
        ),
        "intro_legal": N_(
            "The company named below has lost the password of its client area and no longer "
            "has access to its contact email address. It asks you to change the contact "
            "email address of the account named below to the new address given here."
        ),
        "reference": N_("Request reference"),
        "account_hint": N_("Account (login, client number, old email or a domain of its services)"),
        "full_name": N_("Full name"),
        "full_name_legal": N_("Director's full name"),
        "company_name": N_("Company name"),
        "company_code": N_("Company registration code"),
        "new_email": N_("New contact email address"),
        "phone": N_("Phone"),
        "date": N_("Date"),
        "signature": N_("Signature"),
        "signature_legal": N_("Director's signature and company stamp"),
        "note_individual": N_(
            "Sign this application with a qualified electronic signature, or write it by "
            "hand, sign it and attach copies of passport pages 1 and 2 and of the pages with "
            'the photos pasted at the ages of 25 and 45, each marked "copy is true" and signed.'
        ),
        "note_legal": N_(
            "Print this letter on the company's letterhead. Sign it with the director's "
            "electronic signature and the company's electronic seal, or with the director's "
            "signature and the company's stamp and send the original by post or courier."
        ),
    },
}


def catalogue(locale: str | None) -> dict[str, Any]:
    """The texts in `locale` (unknown → English), with the locale used under "locale"."""
    lang = negotiate(locale, None)
    words = i18n.translation(lang)
    texts: dict[str, Any] = {
        table: {key: words.gettext(english) for key, english in entries.items()}
        for table, entries in TEXTS.items()
    }
    texts["locale"] = lang
    return texts


BLANK = "_" * 40
# XML 1.0's Char production: tab, LF, CR, and U+0020 onwards but surrogates, U+FFFE/FFFF.
_NOT_XML = "[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"  # compiled on first use


def printable(value: str) -> str:
    """`value` with every character XML cannot hold replaced by U+FFFD."""
    return re.sub(_NOT_XML, "\ufffd", value)


def render(applicant_type: str, locale: str, *, fields: dict[str, str]) -> bytes:
    """The DOCX bytes; a field missing from `fields` is a line to fill in by hand."""
    # python-docx only when a document is asked for: no other request pays its import.
    from docx import Document  # noqa: PLC0415
    from docx.shared import Pt  # noqa: PLC0415

    texts = catalogue(locale)
    words = texts["application"]
    legal = applicant_type == "legal_entity"
    document = Document()
    document.core_properties.title = words["title"]
    document.core_properties.language = texts["locale"]
    document.add_heading(words["title"], level=1)
    document.add_paragraph(texts["applicant_types"][applicant_type])
    document.add_paragraph(words["intro_legal" if legal else "intro"])

    rows = [("reference", "reference"), ("account_hint", "account_hint")]
    if legal:
        rows += [("company_name", "company_name"), ("company_code", "company_code")]
        rows.append(("full_name", "full_name_legal"))
    else:
        rows.append(("full_name", "full_name"))
    rows += [("new_email", "new_email"), ("phone", "phone"), ("date", "date")]
    table = document.add_table(rows=0, cols=2)
    for name, label in rows:
        cells = table.add_row().cells
        cells[0].text = words[label]
        cells[1].text = printable(fields.get(name) or "") or BLANK

    document.add_paragraph()
    document.add_paragraph(f"{words['signature_legal' if legal else 'signature']}: {BLANK}")
    note = document.add_paragraph(words["note_legal" if legal else "note_individual"])
    for run in note.runs:
        run.font.size = Pt(9)
        run.italic = True
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def blank_application(applicant_type: str, locale: str) -> bytes:
    """The application template for an applicant type, to fill in by hand (DOCX)."""
    return render(applicant_type, locale, fields={})
