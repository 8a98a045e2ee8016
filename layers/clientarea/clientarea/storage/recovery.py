"""Manual-recovery cases and their audit trail: the items, their keys, and every write
and read of them (`clientarea.recovery.*` are the only callers).

A case is keyed by its reference (`RC-` + 10 base32 characters); an audit entry by case
and `<ISO time>#<random>`. Each state change is written with its audit entry in one
unit of work, conditioned on the state read (`CASE_STATE`), so two racing decisions
cannot both win: the loser's unit names CASE_STATE.
"""

from __future__ import annotations

import re
import secrets
from base64 import b32encode
from collections.abc import Mapping
from typing import Any

from pynamodb.attributes import (
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection

from clientarea import clock, config
from clientarea.availability import translated
from clientarea.errors import AWSRefused, InvalidRecoveryState, NotFound
from clientarea.storage.accounts import AccountModel, ClaimModel
from clientarea.storage.base import (
    Model,
    ProjectedTransactGet,
    TableMeta,
    connection,
    get_or_not_found,
)
from clientarea.storage.unit_of_work import UnitOfWork

OPEN_PREFIX = "requests/"
CLOSED_PREFIX = "closed/"
_REFERENCE = re.compile(r"^RC-[A-Z2-7]{10}$")
# Condition names (unit of work).
NEW_CASE = "new recovery case"  # a reference is used once
CASE_STATE = "recovery case state"  # the case is still in the status the step was decided on
AUDIT_ENTRY = "recovery audit entry"  # an audit entry is never overwritten


class RecoveryByStatus(GlobalSecondaryIndex["RecoveryRequestModel"]):
    """Staff's work list: cases in one status, oldest first. Never the key digest."""

    class Meta:
        index_name = "by-status"
        projection = IncludeProjection(
            ["applicant_type", "channel", "full_name", "submitted_at", "decided_at"]
        )

    status = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class RecoveryRequestModel(Model):
    """A manual-recovery case, keyed by its `reference` (`RC-` + 10 base32 characters).

    `key_digest` is the SHA-256 of the applicant's access key; the key itself is shown
    once, in the 201 answer, and stored nowhere. `matched_client_number` is the account
    the hint named, if any: only staff ever see it.
    """

    class Meta(TableMeta):
        table_name = config.recovery_requests_table()

    reference = UnicodeAttribute(hash_key=True)
    key_digest = UnicodeAttribute()
    status = UnicodeAttribute()  # RecoveryStatus
    applicant_type = UnicodeAttribute()
    channel = UnicodeAttribute()
    full_name = UnicodeAttribute()
    new_email = UnicodeAttribute()
    phone = UnicodeAttribute()
    company_name = UnicodeAttribute(null=True)
    company_code = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(default="en")
    account_hint = UnicodeAttribute()
    matched_client_number = NumberAttribute(null=True)
    matched_by = UnicodeAttribute(null=True)  # client_number, login, email or domain
    # Where the documents are: `requests/` while open, `closed/` once decided (the
    # bucket's lifecycle rule expires `closed/` objects after the retention period).
    document_prefix = UnicodeAttribute(default=OPEN_PREFIX)
    # What was handed in, frozen at submit: {slot: {version_id, bytes, etag, uploaded_at}}
    # of each document's S3 object version then (the bucket is versioned). Staff are
    # served exactly these versions, whatever is uploaded with a still-valid form later.
    submitted_documents = MapAttribute(null=True)  # type: ignore[var-annotated]
    created_at = UTCDateTimeAttribute()
    submitted_at = UTCDateTimeAttribute(null=True)
    decided_at = UTCDateTimeAttribute(null=True)
    decided_by = NumberAttribute(null=True)
    decision_reason = UnicodeAttribute(null=True)
    by_status = RecoveryByStatus()


class RecoveryAuditModel(Model):
    """One step of a recovery case, append-only: keyed by case and `<ISO time>#<random>`.

    No code path updates or deletes these items, and the functions' IAM policies allow
    only PutItem and Query on the table.
    """

    class Meta(TableMeta):
        table_name = config.recovery_audit_table()

    reference = UnicodeAttribute(hash_key=True)
    entry = UnicodeAttribute(range_key=True)
    at = UTCDateTimeAttribute()
    action = UnicodeAttribute()
    actor = UnicodeAttribute()  # "applicant" or "staff:<client_number>"
    source_ip = UnicodeAttribute()
    detail = MapAttribute(default=dict)  # type: ignore[var-annotated]


# --- audit entries ----------------------------------------------------------------------


def audit_entry(
    reference: str, action: str, actor: str, client_ip: str, detail: Mapping[str, Any]
) -> RecoveryAuditModel:
    """A new audit entry (not yet written): keyed by the time now and 32 random bits."""
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


@translated
def append_audit(entry: RecoveryAuditModel) -> None:
    """Write one entry on its own (a step that changes no case: staff viewing one)."""
    entry.save(condition=RecoveryAuditModel.entry.does_not_exist())


@translated
def audit_entries(reference: str) -> list[RecoveryAuditModel]:
    """The case's audit trail, oldest first."""
    return list(RecoveryAuditModel.query(reference))


# --- cases ------------------------------------------------------------------------------


def new_reference() -> str:
    """A new case reference: 50 random bits in base32 without padding, readable over the
    phone, not guessable."""
    return "RC-" + b32encode(secrets.token_bytes(10)).decode()[:10]


@translated
def get_case(reference: str) -> RecoveryRequestModel:
    """The case as it is now (a consistent read); NotFound for a malformed or unknown
    reference alike."""
    if not _REFERENCE.match(reference or ""):
        raise NotFound
    return get_or_not_found(RecoveryRequestModel, reference)


@translated
def cases_in_status(status: str) -> list[RecoveryRequestModel]:
    """Cases in one status, oldest first (the index's projection: no key digest)."""
    return list(RecoveryRequestModel.by_status.query(status))


def open_case(reference: str, entry: RecoveryAuditModel, **attributes: Any) -> RecoveryRequestModel:
    """Store a new case and its first audit entry, in one unit of work. (Refused, it is
    AWSRefused: 50 random bits of reference, or 32 and the microsecond of the entry,
    that collided would be a bug to look at.)"""
    case = RecoveryRequestModel(reference, document_prefix=OPEN_PREFIX, **attributes)
    with UnitOfWork(refused=AWSRefused) as uow:
        uow.save(case, condition=RecoveryRequestModel.reference.does_not_exist(), name=NEW_CASE)
        _audit(uow, entry)
    return case


def submit_case(
    case: RecoveryRequestModel,
    *,
    expected: str,
    status: str,
    documents: dict[str, dict[str, Any]],
    entry: RecoveryAuditModel,
) -> None:
    """The case handed to staff with its documents frozen, only from `expected`
    (InvalidRecoveryState)."""
    handed_in = [
        RecoveryRequestModel.status.set(status),
        RecoveryRequestModel.submitted_at.set(clock.now()),
        RecoveryRequestModel.submitted_documents.set(documents),
    ]
    with UnitOfWork(refused=InvalidRecoveryState) as uow:
        _transition(uow, case, expected, handed_in, entry)


def decide_case(
    uow: UnitOfWork,
    case: RecoveryRequestModel,
    *,
    expected: str,
    status: str,
    staff: int,
    reason: str,
    entry: RecoveryAuditModel,
) -> None:
    """A decision and its audit entry, in the caller's `uow` (an approval: the contact
    email switch and the cancelled orders commit with it), only from `expected`
    (CASE_STATE)."""
    _transition(uow, case, expected, _decision_actions(status, staff, reason), entry)


def _decision_actions(status: str, staff: int, reason: str) -> list[Any]:
    return [
        RecoveryRequestModel.status.set(status),
        RecoveryRequestModel.decided_at.set(clock.now()),
        RecoveryRequestModel.decided_by.set(staff),
        RecoveryRequestModel.decision_reason.set(reason),
        RecoveryRequestModel.document_prefix.set(CLOSED_PREFIX),
    ]


def _transition(
    uow: UnitOfWork,
    case: RecoveryRequestModel,
    expected: str,
    actions: list[Any],
    entry: RecoveryAuditModel,
) -> None:
    """A state change and its audit entry together, only from `expected` (CASE_STATE)."""
    uow.update(
        case, actions=actions, condition=RecoveryRequestModel.status == expected, name=CASE_STATE
    )
    _audit(uow, entry)


def _audit(uow: UnitOfWork, entry: RecoveryAuditModel) -> None:
    uow.save(entry, condition=RecoveryAuditModel.entry.does_not_exist(), name=AUDIT_ENTRY)


# --- account hints ------------------------------------------------------------------------


@translated
def hint_owners(
    number_key: str, login_key: str, email_key: str, attributes: tuple[str, ...]
) -> list[tuple[str, int | None]]:
    """Whose account item, login claim and email claim the keys name, read in one
    TransactGetItems with only `attributes` (the applicant's function may read no other
    attribute of an account): per reading, in that order, the client number or None.
    The keys are the accounts module's (`accounts.account_key`, `*_claim_key`)."""
    with ProjectedTransactGet(connection=connection()) as read:
        by_number = read.get(AccountModel, number_key, attributes_to_get=attributes)
        by_login = read.get(ClaimModel, login_key, attributes_to_get=attributes)
        by_email = read.get(ClaimModel, email_key, attributes_to_get=attributes)
    return [
        ("client_number", _owner(by_number)),
        ("login", _owner(by_login)),
        ("email", _owner(by_email)),
    ]


def _owner(future: Any) -> int | None:
    try:
        return int(future.get().client_number)
    except DoesNotExist:
        return None
