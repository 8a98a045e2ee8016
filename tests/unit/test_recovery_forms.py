"""clientarea.recovery.forms: the DOCX renders whatever a stored case holds."""

from __future__ import annotations

import io

import docx
import pytest
from clientarea.recovery import forms
from clientarea.recovery.rules import ApplicantType

UNPRINTABLE = "Olena\x00\x01\x0b\x0c\x1b[31m\ufffe\uffff\ud800Kovalenko"
MARKUP = "<w:p/>]]>&amp;<script>"


@pytest.mark.parametrize("applicant_type", list(ApplicantType))
def test_characters_xml_cannot_hold_show_as_replacement_characters(applicant_type) -> None:
    fields = dict.fromkeys(
        ["reference", "account_hint", "full_name", "company_name", "company_code", "phone"],
        UNPRINTABLE,
    )
    fields |= {"new_email": MARKUP, "date": "2026-11-22"}
    content = forms.render(applicant_type, "uk", fields=fields)
    document = docx.Document(io.BytesIO(content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert "Olena\ufffd\ufffd\ufffd\ufffd\ufffd[31m\ufffd\ufffd\ufffdKovalenko" in cells
    assert MARKUP in cells  # text, never markup


def test_printable_keeps_what_xml_can_hold() -> None:
    text = "Ольга\tO'Brien\n😀\u202e\x85"
    assert forms.printable(text) == text
