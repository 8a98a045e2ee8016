"""What a manual recovery asks of an applicant: per applicant type, the channels they may
use and the documents each channel takes, with the limits S3 enforces on every upload.

```mermaid
stateDiagram-v2
    [*] --> awaiting_documents: POST /recovery/requests (reference + access key, upload forms)
    awaiting_documents --> awaiting_documents: uploads straight to S3 (presigned POST)
    awaiting_documents --> under_review: POST .../submit (every required document in; none for post)
    under_review --> approved: an admin approves (new_email; sessions, links, cessions revoked)
    under_review --> rejected: staff (any role) reject (the applicant is told why)
    approved --> [*]
    rejected --> [*]
```

The applicant's side is `clientarea.recovery.applicant`, the staff's
`clientarea.recovery.staff`, the documents in S3 `clientarea.recovery.documents`, the
application (texts and DOCX) `clientarea.recovery.forms`, the items
`clientarea.storage.recovery`.
"""

from enum import StrEnum
from typing import Any, NamedTuple

from clientarea import config
from clientarea.recovery import forms

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # 10 MiB per document
CONTENT_TYPES = ("application/pdf", "image/jpeg", "image/png")


class ApplicantType(StrEnum):
    INDIVIDUAL = "individual"
    SOLE_PROPRIETOR = "sole_proprietor"
    LEGAL_ENTITY = "legal_entity"


class Channel(StrEnum):
    E_SIGNATURE = "e_signature"
    SCANNED_DOCUMENTS = "scanned_documents"
    POST = "post"


class Slot(NamedTuple):
    """One document an applicant uploads; optional slots are "if you have it"."""

    name: str
    required: bool = True


_PERSON_DOCUMENTS: dict[Channel, tuple[Slot, ...]] = {
    # A qualified e-signature on the application proves identity by itself.
    Channel.E_SIGNATURE: (Slot("application_e_signature"),),
    # A handwritten application with certified passport copies; the photo pages at
    # 25 and 45 exist only in passports that old, so they cannot be required.
    Channel.SCANNED_DOCUMENTS: (
        Slot("application_handwritten"),
        Slot("passport_pages_1_2"),
        Slot("passport_photo_25", required=False),
        Slot("passport_photo_45", required=False),
    ),
}
DOCUMENTS: dict[ApplicantType, dict[Channel, tuple[Slot, ...]]] = {
    ApplicantType.INDIVIDUAL: _PERSON_DOCUMENTS,
    ApplicantType.SOLE_PROPRIETOR: _PERSON_DOCUMENTS,
    ApplicantType.LEGAL_ENTITY: {
        Channel.E_SIGNATURE: (Slot("official_letter_e_signature"),),
        Channel.POST: (),  # the signed and stamped original comes by post or courier
    },
}


def accepted_channels(applicant_type: str) -> tuple[str, ...]:
    """The channels an applicant type may use (empty for an unknown type)."""
    try:
        return tuple(DOCUMENTS[ApplicantType(applicant_type)])
    except ValueError:
        return ()


def slots(applicant_type: str, channel: str) -> tuple[Slot, ...]:
    """The document slots of an applicant type's channel."""
    return DOCUMENTS[ApplicantType(applicant_type)][Channel(channel)]


def requirements(locale: str) -> dict[str, Any]:
    """GET /recovery/requirements: per applicant type, the documents per channel (in the
    reader's language), and where to download the application template."""
    texts = forms.catalogue(locale)
    lang = texts["locale"]
    postal = config.recovery_postal_address()
    result: dict[str, Any] = {}
    for applicant_type, channels in DOCUMENTS.items():
        result[applicant_type] = {
            "name": texts["applicant_types"][applicant_type],
            "channels": [
                {
                    "channel": channel,
                    "description": texts["channels"][channel] % {"postal_address": postal},
                    "uploads_needed": bool(documents),
                    "documents": [
                        {
                            "document": slot.name,
                            "required": slot.required,
                            "description": texts["documents"][slot.name],
                        }
                        for slot in documents
                    ],
                }
                for channel, documents in channels.items()
            ],
            "accepted_content_types": list(CONTENT_TYPES),
            "max_upload_bytes": MAX_UPLOAD_BYTES,
            "template_url": f"/recovery/templates/{applicant_type}?locale={lang}",
        }
    return {"applicant_types": result}
