"""The manual-recovery application as a Word document (DOCX), per applicant type and
language: blank to fill in by hand, or pre-filled with what the applicant stated.

Built with python-docx from `recovery_texts` alone: no template file to drift from the
texts, and nothing the applicant typed is interpreted (python-docx writes text runs,
so a value cannot inject markup into the document). XML cannot hold every character:
what it cannot (control characters, U+FFFE/U+FFFF, lone surrogates) is shown as U+FFFD
rather than fail the download. The API refuses such text at input; this keeps a case
stored before that rule, or by any other path, printable.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

from docx import Document
from docx.shared import Pt

from clientarea import recovery_texts

if TYPE_CHECKING:
    from clientarea.recovery import ApplicantType

BLANK = "_" * 40
# XML 1.0's Char production: tab, LF, CR, and U+0020 onwards but surrogates, U+FFFE/FFFF.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def printable(value: str) -> str:
    """`value` with every character XML cannot hold replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", value)


def render(applicant_type: ApplicantType, locale: str, *, fields: dict[str, str]) -> bytes:
    """The DOCX bytes; a field missing from `fields` is a line to fill in by hand."""
    texts = recovery_texts.catalogue(locale)
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
