"""Manual recovery: the owner lost the password AND the contact mailbox, and proves who
they are with documents; staff decide, and an approval moves the contact email.

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

One function per transition (`_submit`, `_approve`, `_reject`), each first checking
its own state; the decision dispatch fails closed on anything else. Approving hands an
account to whoever holds `new_email`, so it takes the `admin` role (a `support` agent
reviews and rejects): no single agent can give any account away. The state change
and its audit entry are written in one DynamoDB transaction, conditioned on the state
read, so two racing decisions cannot both win.

What an applicant can learn: nothing about accounts. `create()` answers the same
whether or not the hint names an account, after the same AWS calls (one
TransactGetItems for every reading of the hint as client number, login or email, one
Query for it as a domain); the match is stored for staff only. A case is opened with
its reference and a 256-bit access key (stored as a SHA-256 digest, compared in
constant time); an unknown reference and a wrong key are the same 404, and each
failure counts against the caller's address like a guessed link token.

Documents go from the browser straight to a private, encrypted S3 bucket by presigned
POST: one key per document slot (a re-upload replaces), one signed form per accepted
content type with `Content-Type` pinned by `eq` and a `content-length-range`, so S3
itself refuses a wrong type or a too-large file. A form stays valid for an hour, also
after the case is submitted, and S3 cannot revoke it: so the bucket is versioned and
submit freezes what was handed in. It lists the case's object versions (metadata only:
the public function can read no document) and stores each document's current version
id, size, ETag (the MD5 S3 computed) and upload time on the case and in the audit
entry, in the transaction that submits it; staff views and download links use exactly
those versions, and a later upload is only a newer version nobody is shown.

When a case is decided the frozen versions are copied under `closed/` (a copy is a new
object, created now) and every version under `requests/` is deleted for good: the
bucket's lifecycle rule expires `closed/` objects `RecoveryRetentionDays` after
creation, that is after the case closed plus the retention period (and removes the
expired version a day later; versions that never became a closed copy, such as a file
sent after submit to a case never decided, expire from `requests/` by the backstop).

Every step is appended to the audit table (who, when, what, from which IP); nothing
updates or deletes audit items, and the functions may only PutItem and Query there.
"""

from __future__ import annotations

import contextlib
import hmac
import re
import secrets
from base64 import b32encode
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from clientarea import (
    availability,
    clock,
    config,
    recovery_texts,
    services,
    telemetry,
    throttling,
    tokens,
)
from clientarea.accounts import contact_switch, identity
from clientarea.accounts import profile as account_profile
from clientarea.errors import (
    ConditionsFailed,
    Conflict,
    DocumentsMissing,
    Forbidden,
    InvalidEmail,
    InvalidRecoveryState,
    NoMatchingAccount,
    NotFound,
)
from clientarea.mail import outbox
from clientarea.roles import STAFF_ROLES, Role
from clientarea.storage import accounts as account_store
from clientarea.storage.unit_of_work import UnitOfWork
from clientarea.tables import (
    AccountModel,
    ClaimModel,
    ProjectedTransactGet,
    RecoveryAuditModel,
    RecoveryRequestModel,
    connection,
    transaction,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CopySourceTypeDef, ObjectIdentifierTypeDef

    from clientarea.sessions import Principal

logger = Logger(child=True)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # 10 MiB per document
CONTENT_TYPES = ("application/pdf", "image/jpeg", "image/png")
UPLOAD_TTL = timedelta(hours=1)  # GET /recovery/requests/{reference} hands out fresh forms
DOWNLOAD_TTL = timedelta(minutes=5)  # staff's document links
DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
OPEN_PREFIX = "requests/"
CLOSED_PREFIX = "closed/"
APPLICANT = "applicant"

_REFERENCE = re.compile(r"^RC-[A-Z2-7]{10}$")
_ACCESS_KEY = re.compile(r"^[0-9A-Za-z_-]{43}$")  # tokens.new_secret(): 256 bits, URL-safe


class RecoveryStatus(StrEnum):
    AWAITING_DOCUMENTS = "awaiting_documents"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"


class ApplicantType(StrEnum):
    INDIVIDUAL = "individual"
    SOLE_PROPRIETOR = "sole_proprietor"
    LEGAL_ENTITY = "legal_entity"


class Channel(StrEnum):
    E_SIGNATURE = "e_signature"
    SCANNED_DOCUMENTS = "scanned_documents"
    POST = "post"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True)
class Slot:
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


def _slots(applicant_type: str, channel: str) -> tuple[Slot, ...]:
    return DOCUMENTS[ApplicantType(applicant_type)][Channel(channel)]


def requests_per_ip() -> throttling.Limit:
    return throttling.Limit("recovery_requests_ip", config.ip_requests_per_hour(), 3600)


@cache
def _s3() -> S3Client:
    import boto3  # noqa: PLC0415 - only the requests that call this service pay for it

    return boto3.client("s3")


# --- requirements -------------------------------------------------------------------


def requirements(locale: str) -> dict[str, Any]:
    """GET /recovery/requirements: per applicant type, the documents per channel (in the
    reader's language), and where to download the application template."""
    texts = recovery_texts.catalogue(locale)
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
                    "uploads_needed": bool(slots),
                    "documents": [
                        {
                            "document": slot.name,
                            "required": slot.required,
                            "description": texts["documents"][slot.name],
                        }
                        for slot in slots
                    ],
                }
                for channel, slots in channels.items()
            ],
            "accepted_content_types": list(CONTENT_TYPES),
            "max_upload_bytes": MAX_UPLOAD_BYTES,
            "template_url": f"/recovery/templates/{applicant_type}?locale={lang}",
        }
    return {"applicant_types": result}


# --- the applicant's side -----------------------------------------------------------


@dataclass(frozen=True)
class Application:
    """What an applicant states (already validated for shape by the handler)."""

    account_hint: str
    applicant_type: str
    full_name: str
    new_email: str
    phone: str
    channel: str
    company_name: str | None = None
    company_code: str | None = None


@dataclass(frozen=True)
class Created:
    reference: str
    access_key: str
    status: str
    uploads: list[dict[str, Any]]


@dataclass(frozen=True)
class ApplicantView:
    reference: str
    status: str
    applicant_type: str
    channel: str
    documents: list[dict[str, Any]]
    uploads: list[dict[str, Any]]
    created_at: str
    submitted_at: str | None
    decided_at: str | None
    decision_reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def create(application: Application, *, locale: str, client_ip: str) -> Created:
    """Open a case. The same answer, after the same AWS calls, whether or not the hint
    names an account: the match is stored for staff and never shown to the applicant."""
    throttling.hit(requests_per_ip(), client_ip)
    new_email = identity.normalise_email(application.new_email)
    # The acknowledgement goes to an address the applicant merely typed: it draws on
    # that address's unasked-mail budget (counted before anything is stored), and past
    # it the case is opened all the same, unannounced.
    acknowledge = throttling.may_mail_unasked(new_email, client_ip=client_ip)
    matched_client_number, matched_by = _match(application.account_hint)
    reference = _new_reference()
    access_key = tokens.new_secret()
    now = clock.now()
    case = RecoveryRequestModel(
        reference,
        key_digest=tokens.digest(access_key),
        status=RecoveryStatus.AWAITING_DOCUMENTS,
        applicant_type=application.applicant_type,
        channel=application.channel,
        full_name=application.full_name,
        new_email=new_email,
        phone=application.phone,
        company_name=application.company_name,
        company_code=application.company_code,
        locale=locale,
        account_hint=application.account_hint,
        matched_client_number=matched_client_number,
        matched_by=matched_by,
        document_prefix=OPEN_PREFIX,
        created_at=now,
    )
    with transaction() as tx:
        tx.save(case, condition=RecoveryRequestModel.reference.does_not_exist())
        tx.save(
            _audit(
                reference,
                "created",
                APPLICANT,
                client_ip,
                applicant_type=application.applicant_type,
                channel=application.channel,
            ),
            condition=RecoveryAuditModel.entry.does_not_exist(),
        )
    telemetry.count(telemetry.Metric.RECOVERY_CASE_OPENED)
    if acknowledge:
        # Greets neutrally: nothing the applicant typed goes to an unverified address.
        outbox.send(
            "recovery_received",
            new_email,
            locale,
            reference=reference,
            status_link=outbox.page(f"/recovery/{reference}"),
            uploads_needed=bool(_slots(application.applicant_type, application.channel)),
        )
    return Created(
        reference=reference,
        access_key=access_key,
        status=RecoveryStatus.AWAITING_DOCUMENTS,
        uploads=_upload_forms(case),
    )


def _new_reference() -> str:
    # 50 random bits in base32 without padding: readable over the phone, not guessable.
    return "RC-" + b32encode(secrets.token_bytes(10)).decode()[:10]


def _match(hint: str) -> tuple[int | None, str | None]:
    """Which account the hint names, read every way at once (same calls for any hint).

    Order of precedence: a client number, a login, a contact email, a service domain.
    """
    text = hint.strip()
    number_key = account_store.account_key(text) if text.isdigit() else "account#-"
    login_key = account_store.login_claim_key(text) if text else "login#-"
    email_key = "email#-"
    if "@" in text:
        with contextlib.suppress(InvalidEmail):  # then no account has it as contact email
            email_key = account_store.email_claim_key(identity.normalise_email(text))
    # Only whose each item is: this function may read no other attribute of an account.
    with ProjectedTransactGet(connection=connection()) as read:
        by_number = read.get(AccountModel, number_key, attributes_to_get=identity.CLAIM)
        by_login = read.get(ClaimModel, login_key, attributes_to_get=identity.CLAIM)
        by_email = read.get(ClaimModel, email_key, attributes_to_get=identity.CLAIM)
    by_domain = services.find_by_domain(text) if text else None
    for how, future in (("client_number", by_number), ("login", by_login), ("email", by_email)):
        try:
            return int(future.get().client_number), how
        except DoesNotExist:
            continue
    if by_domain is not None:
        return by_domain, "domain"
    return None, None


def _case_for_applicant(reference: str, access_key: str | None, client_ip: str) -> Any:
    """The case if the key opens it; else NotFound, the same for every failure.

    Counted against the caller's address before the key is checked (one per-IP budget
    for guessing any secret: link tokens and access keys alike), so that an address
    over its allowance learns nothing more, not even that a key was right."""
    throttling.hit(tokens.guesses_per_ip(), client_ip)
    item = None
    if _REFERENCE.match(reference or ""):
        try:
            item = RecoveryRequestModel.get(reference, consistent_read=True)
        except DoesNotExist:
            item = None
    offered = tokens.digest(access_key) if access_key and _ACCESS_KEY.match(access_key) else ""
    if item is None or not offered or not hmac.compare_digest(item.key_digest, offered):
        raise NotFound
    return item


def view(reference: str, access_key: str | None, *, client_ip: str) -> ApplicantView:
    """GET /recovery/requests/{reference}: status, documents received, and while
    documents are awaited, fresh upload forms."""
    case = _case_for_applicant(reference, access_key, client_ip)
    return _applicant_view(case, _documents(case, _held(case)))


def _applicant_view(case: Any, documents: list[dict[str, Any]]) -> ApplicantView:
    awaiting = case.status == RecoveryStatus.AWAITING_DOCUMENTS
    return ApplicantView(
        reference=case.reference,
        status=case.status,
        applicant_type=case.applicant_type,
        channel=case.channel,
        documents=documents,
        uploads=_upload_forms(case) if awaiting else [],
        created_at=clock.iso(case.created_at),
        submitted_at=_iso(case.submitted_at),
        decided_at=_iso(case.decided_at),
        decision_reason=case.decision_reason if case.status == RecoveryStatus.REJECTED else None,
    )


def submit(reference: str, access_key: str | None, *, client_ip: str) -> str:
    """POST /recovery/requests/{reference}/submit: hand the case to staff, frozen as it is."""
    case = _case_for_applicant(reference, access_key, client_ip)
    if case.status != RecoveryStatus.AWAITING_DOCUMENTS:
        raise InvalidRecoveryState
    _submit(case, _latest_versions(case), client_ip)
    return RecoveryStatus.UNDER_REVIEW


def _submit(case: Any, held: dict[str, dict[str, Any]], client_ip: str) -> None:
    if case.status != RecoveryStatus.AWAITING_DOCUMENTS:
        raise InvalidRecoveryState
    slots = _slots(case.applicant_type, case.channel)
    missing = [slot.name for slot in slots if slot.required and slot.name not in held]
    if missing:
        raise DocumentsMissing(missing=", ".join(missing))
    frozen = {slot.name: held[slot.name] for slot in slots if slot.name in held}
    _transition(
        case,
        RecoveryStatus.AWAITING_DOCUMENTS,
        [
            RecoveryRequestModel.status.set(RecoveryStatus.UNDER_REVIEW),
            RecoveryRequestModel.submitted_at.set(clock.now()),
            RecoveryRequestModel.submitted_documents.set(frozen),
        ],
        _audit(case.reference, "submitted", APPLICANT, client_ip, documents=frozen),
    )


def _transition(case: Any, expected: RecoveryStatus, actions: list[Any], entry: Any) -> None:
    """Apply a state change and its audit entry together, only from `expected`."""
    try:
        with transaction() as tx:
            tx.update(case, actions=actions, condition=RecoveryRequestModel.status == expected)
            tx.save(entry, condition=RecoveryAuditModel.entry.does_not_exist())
    except TransactWriteError as exc:
        raise InvalidRecoveryState from exc


# --- documents in S3 ------------------------------------------------------------------


def _object_key(case: Any, slot: str) -> str:
    return f"{case.document_prefix}{case.reference}/{slot}"


def _latest_versions(case: Any) -> dict[str, dict[str, Any]]:
    """What S3 holds now for each slot of the case: the current version's id, size, ETag
    and upload time (ListObjectVersions: metadata only, no document is read)."""
    prefix = f"{case.document_prefix}{case.reference}/"
    held: dict[str, dict[str, Any]] = {}
    pages = _s3().get_paginator("list_object_versions")
    for page in pages.paginate(Bucket=config.recovery_bucket(), Prefix=prefix):
        for item in page.get("Versions", []):
            if item.get("IsLatest"):  # a deleted object's latest is a delete marker
                held[item["Key"].removeprefix(prefix)] = {
                    "version_id": item["VersionId"],
                    "bytes": int(item["Size"]),
                    "etag": str(item["ETag"]).strip('"'),
                    "uploaded_at": clock.iso(item["LastModified"]),
                }
    return held


def _held(case: Any) -> dict[str, dict[str, Any]]:
    """The case's documents: as frozen at submit, else (still awaiting them) as S3 has them."""
    if case.submitted_documents is not None:
        return cast("dict[str, dict[str, Any]]", case.submitted_documents.as_dict())
    return _latest_versions(case)


def _documents(case: Any, held: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every document slot of the case and what is held for it."""
    documents = []
    for slot in _slots(case.applicant_type, case.channel):
        item = held.get(slot.name)
        documents.append(
            {
                "document": slot.name,
                "required": slot.required,
                "uploaded": item is not None,
                "size": int(item["bytes"]) if item else None,
                "uploaded_at": item["uploaded_at"] if item else None,
                "etag": item["etag"] if item else None,
            }
        )
    return documents


def _upload_forms(case: Any) -> list[dict[str, Any]]:
    """One presigned POST per document slot, with one signed form per content type:
    S3 checks the `eq` on Content-Type and the size range itself."""
    bucket = config.recovery_bucket()
    expires_at = clock.now() + UPLOAD_TTL
    uploads = []
    for slot in _slots(case.applicant_type, case.channel):
        key = _object_key(case, slot.name)
        forms: dict[str, dict[str, str]] = {}
        url = ""
        for content_type in CONTENT_TYPES:
            post = _s3().generate_presigned_post(
                bucket,
                key,
                Fields={"Content-Type": content_type},
                Conditions=[
                    {"Content-Type": content_type},
                    ["content-length-range", 1, MAX_UPLOAD_BYTES],
                ],
                ExpiresIn=int(UPLOAD_TTL.total_seconds()),
            )
            url = post["url"]
            forms[content_type] = post["fields"]
        uploads.append(
            {
                "document": slot.name,
                "required": slot.required,
                "method": "POST",
                "url": url,
                "fields_by_content_type": forms,
                "max_bytes": MAX_UPLOAD_BYTES,
                "expires_at": clock.iso(expires_at),
            }
        )
    return uploads


def _download_links(case: Any, held: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The documents with a short-lived link to each: while the case is open, to the very
    version frozen at submit (or listed just now); once decided, to its closed copy."""
    links = []
    for doc in _documents(case, held):
        url = None
        if doc["uploaded"]:
            params = {
                "Bucket": config.recovery_bucket(),
                "Key": _object_key(case, doc["document"]),
                # Never rendered inline by the staff's browser.
                "ResponseContentDisposition": f'attachment; filename="{doc["document"]}"',
            }
            version_id = held[doc["document"]].get("version_id")
            if case.document_prefix == OPEN_PREFIX and version_id:
                params["VersionId"] = version_id
            url = _s3().generate_presigned_url(
                "get_object", Params=params, ExpiresIn=int(DOWNLOAD_TTL.total_seconds())
            )
        links.append({**doc, "download_url": url})
    return links


def _close_documents(case: Any) -> None:
    """Copy the decided case's documents, as frozen at submit, under `closed/` (the copy
    is created now, so the lifecycle rule's "days after creation" counts from the
    closing of the case), then delete every version left under `requests/` for good."""
    bucket = config.recovery_bucket()
    source_prefix = f"{OPEN_PREFIX}{case.reference}/"
    try:
        for name, item in _held(case).items():
            source: CopySourceTypeDef = {"Bucket": bucket, "Key": f"{source_prefix}{name}"}
            if item.get("version_id"):
                source["VersionId"] = item["version_id"]
            _s3().copy_object(
                Bucket=bucket, Key=f"{CLOSED_PREFIX}{case.reference}/{name}", CopySource=source
            )
        _delete_every_version(bucket, source_prefix)
    except ClientError as exc:
        # The case is decided either way; the `requests/` backstop rule still expires
        # whatever could not be moved. A refused permission is reported as such (alarm).
        if availability.is_access_denied(exc):
            availability.report_access_denied(exc, logger)
        else:
            logger.exception(
                "could not move a closed case's documents", extra={"case": case.reference}
            )


def _delete_every_version(bucket: str, prefix: str) -> None:
    """Every version and delete marker under `prefix`, deleted for good (a plain delete
    in a versioned bucket would only hide them behind a marker)."""
    pages = _s3().get_paginator("list_object_versions")
    for page in pages.paginate(Bucket=bucket, Prefix=prefix):
        doomed: list[ObjectIdentifierTypeDef] = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in (*page.get("Versions", []), *page.get("DeleteMarkers", []))
        ]
        if doomed:
            result = _s3().delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
            # Quiet: only the objects S3 did not delete are listed, each with its code (a
            # refused permission among them); the call itself succeeds.
            if errors := result.get("Errors"):
                # Passed on as S3 reports them (the stubs want str; S3 sets both).
                raise ClientError(
                    {"Error": {"Code": errors[0].get("Code"), "Message": errors[0].get("Message")}},  # type: ignore[typeddict-item]
                    "DeleteObjects",
                )


# --- staff ----------------------------------------------------------------------------


def _staff_actor(principal: Principal) -> str:
    if principal.role not in STAFF_ROLES:  # the authorizer already refuses; fail closed
        raise Forbidden
    return f"staff:{principal.client_number}"


def _get(reference: str) -> Any:
    if not _REFERENCE.match(reference or ""):
        raise NotFound
    try:
        return RecoveryRequestModel.get(reference, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound from exc


def staff_list(principal: Principal, status: str) -> list[dict[str, Any]]:
    """GET /staff/recovery-requests?status=: cases in one status, oldest first."""
    _staff_actor(principal)
    return [
        {
            "reference": item.reference,
            "status": item.status,
            "applicant_type": item.applicant_type,
            "channel": item.channel,
            "full_name": item.full_name,
            "created_at": clock.iso(item.created_at),
            "submitted_at": _iso(item.submitted_at),
            "decided_at": _iso(item.decided_at),
        }
        for item in RecoveryRequestModel.by_status.query(RecoveryStatus(status))
    ]


def staff_view(principal: Principal, reference: str, *, client_ip: str) -> dict[str, Any]:
    """GET /staff/recovery-requests/{reference}: everything staff need to decide,
    with short-lived download links; the viewing itself goes to the audit trail."""
    actor = _staff_actor(principal)
    case = _get(reference)
    _audit(reference, "viewed", actor, client_ip).save(
        condition=RecoveryAuditModel.entry.does_not_exist()
    )
    return _staff_case(case)


def _staff_case(case: Any) -> dict[str, Any]:
    account = None
    if case.matched_client_number is not None:
        # Staff compare the documents with the account's holder: the name is needed;
        # the account's contact email, address and phone are not shown.
        try:
            holder = identity.get_account(int(case.matched_client_number), ("full_name",))
            account = {
                "client_number": int(case.matched_client_number),
                "matched_by": case.matched_by,
                "full_name": holder.full_name,
            }
        except NotFound:
            account = None
    return {
        "reference": case.reference,
        "status": case.status,
        "applicant_type": case.applicant_type,
        "channel": case.channel,
        "full_name": case.full_name,
        "new_email": case.new_email,
        "phone": case.phone,
        "company_name": case.company_name,
        "company_code": case.company_code,
        "locale": case.locale,
        "account_hint": case.account_hint,
        "account": account,
        "documents": _download_links(case, _held(case)),
        "created_at": clock.iso(case.created_at),
        "submitted_at": _iso(case.submitted_at),
        "decided_at": _iso(case.decided_at),
        "decided_by": int(case.decided_by) if case.decided_by is not None else None,
        "decision_reason": case.decision_reason,
        "audit": audit_trail(case.reference),
    }


def audit_trail(reference: str) -> list[dict[str, Any]]:
    return [
        {
            "at": clock.iso(item.at),
            "action": item.action,
            "actor": item.actor,
            "source_ip": item.source_ip,
            "detail": item.detail.as_dict() if item.detail else {},
        }
        for item in RecoveryAuditModel.query(reference)
    ]


def decide(
    principal: Principal, reference: str, decision: str, reason: str, *, client_ip: str
) -> dict[str, Any]:
    """POST /staff/recovery-requests/{reference}/decision."""
    actor = _staff_actor(principal)
    if decision == Decision.APPROVE and principal.role != Role.ADMIN:
        raise Forbidden  # a support agent reviews and rejects; only an admin approves
    case = _get(reference)
    transitions: dict[str, Callable[[Any, int, str, str, str], None]] = {
        Decision.APPROVE: _approve,
        Decision.REJECT: _reject,
    }
    transition = transitions.get(decision)
    if transition is None:  # fail closed on anything the dispatch does not know
        raise InvalidRecoveryState
    transition(case, principal.client_number, actor, reason, client_ip)
    telemetry.count(
        telemetry.Metric.RECOVERY_CASE_APPROVED
        if decision == Decision.APPROVE
        else telemetry.Metric.RECOVERY_CASE_REJECTED
    )
    _close_documents(case)
    return _staff_case(_get(reference))


def _decision_actions(status: RecoveryStatus, staff: int, reason: str) -> list[Any]:
    return [
        RecoveryRequestModel.status.set(status),
        RecoveryRequestModel.decided_at.set(clock.now()),
        RecoveryRequestModel.decided_by.set(staff),
        RecoveryRequestModel.decision_reason.set(reason),
        RecoveryRequestModel.document_prefix.set(CLOSED_PREFIX),
    ]


def _approve(case: Any, staff: int, actor: str, reason: str, client_ip: str) -> None:
    if case.status != RecoveryStatus.UNDER_REVIEW:
        raise InvalidRecoveryState
    if case.matched_client_number is None:
        raise NoMatchingAccount
    try:
        # What the switch and the notices need (never the password hash: see accounts).
        # (email_undeliverable: whether the old address may be told; its claim, which
        # the mailer checks, is gone with the switch)
        account = identity.get_account(
            int(case.matched_client_number),
            (*identity.CONTACT, "authorised_emails", "email_undeliverable"),
        )
    except NotFound as exc:
        raise NoMatchingAccount from exc
    old_email = account.email
    old_deliverable = account_profile.contact_email_deliverable(account)
    # Whoever held the old mailbox holds the links of the account's cession orders.
    # (clientarea.cession on first use: only an admin's approval needs it, and the
    # applicant's function never does; about 0.05x an `import boto3` at every cold start.)
    from clientarea import cession  # noqa: PLC0415

    withdrawal = cession.withdraw_all(int(account.client_number))
    entry = _audit(
        case.reference,
        "approved",
        actor,
        client_ip,
        client_number=int(account.client_number),
        reason=reason,
        cancelled_orders=withdrawal.order_ids or None,
    )

    def close_case(tx: TransactWrite) -> None:
        tx.update(
            case,
            actions=_decision_actions(RecoveryStatus.APPROVED, staff, reason),
            condition=RecoveryRequestModel.status == RecoveryStatus.UNDER_REVIEW,
        )
        tx.save(entry, condition=RecoveryAuditModel.entry.does_not_exist())
        withdrawal.cancel_in(tx)

    # Contact (and login) email, both claims, the pending reset link, every session
    # (the generation is raised), the open cession orders (closed, services released,
    # links revoked) and this case: one transaction. EmailTaken if the new address
    # belongs to another account by now; Conflict if anything moved meanwhile (an order
    # finished, say: a retry decides afresh).
    try:
        with UnitOfWork() as uow:
            contact_switch.switch_contact_email(uow, account, case.new_email, revoke_sessions=True)
            close_case(uow)
    except Conflict as conflict:
        # Refused conditions say what they mean; a lost race is a Conflict as it is.
        meant = (
            contact_switch.failure(conflict) if isinstance(conflict, ConditionsFailed) else conflict
        )
        if (
            isinstance(meant, Conflict)
            and _get(case.reference).status != RecoveryStatus.UNDER_REVIEW
        ):
            raise InvalidRecoveryState from conflict
        raise meant from conflict
    withdrawal.finish()  # wake the orders' workflows, tell both parties of each
    changed_at = clock.iso(clock.now())
    common = {
        "full_name": account.full_name,
        "old_email": old_email,
        "new_email": case.new_email,
        "changed_at": changed_at,
        "reference": case.reference,
        "reset_link": outbox.page("/forgot-password"),
    }
    if old_deliverable:  # the old address's claim, which the mailer checks, is gone
        outbox.send("recovery_approved", old_email, account.locale, **common)
    outbox.send("recovery_approved", case.new_email, case.locale, **common)


def _reject(case: Any, staff: int, actor: str, reason: str, client_ip: str) -> None:
    if case.status != RecoveryStatus.UNDER_REVIEW:
        raise InvalidRecoveryState
    _transition(
        case,
        RecoveryStatus.UNDER_REVIEW,
        _decision_actions(RecoveryStatus.REJECTED, staff, reason),
        _audit(case.reference, "rejected", actor, client_ip, reason=reason),
    )
    outbox.send(
        "recovery_rejected",
        case.new_email,
        case.locale,
        full_name=case.full_name,
        reference=case.reference,
        reason=reason,
        requirements_link=outbox.page("/recovery"),
    )


# --- the application document -------------------------------------------------------


def blank_application(applicant_type: str, locale: str) -> bytes:
    """The application template for an applicant type, to fill in by hand (DOCX)."""
    from clientarea import application_forms  # noqa: PLC0415 - python-docx only when asked

    return application_forms.render(ApplicantType(applicant_type), locale, fields={})


def filled_application(reference: str, access_key: str | None, *, client_ip: str) -> bytes:
    """The case's application, pre-filled with what the applicant stated, in their language."""
    from clientarea import application_forms  # noqa: PLC0415 - python-docx only when asked

    case = _case_for_applicant(reference, access_key, client_ip)
    fields = {
        "reference": case.reference,
        "account_hint": case.account_hint,
        "full_name": case.full_name,
        "company_name": case.company_name or "",
        "company_code": case.company_code or "",
        "new_email": case.new_email,
        "phone": case.phone,
        "date": clock.now().date().isoformat(),
    }
    return application_forms.render(ApplicantType(case.applicant_type), case.locale, fields=fields)


# --- audit ----------------------------------------------------------------------------


def _audit(reference: str, action: str, actor: str, client_ip: str, **detail: Any) -> Any:
    now = clock.now()
    return RecoveryAuditModel(
        reference,
        f"{now.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{secrets.token_hex(4)}",
        at=now,
        action=action,
        actor=actor,
        source_ip=client_ip,
        detail={key: value for key, value in detail.items() if value is not None},
    )


def _iso(moment: datetime | None) -> str | None:
    return clock.iso(moment) if moment is not None else None
