"""The manual-recovery texts: applicant types, channels, documents (the help-centre
wording the procedure was specified from) and the downloadable application, written
here in English and translated through the catalogs (`clientarea.i18n`)."""

from __future__ import annotations

from typing import Any

from clientarea import i18n
from clientarea.i18n import N_
from clientarea.locales import negotiate

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
