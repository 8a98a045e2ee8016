"""Manual recovery, the staff's side: /staff/recovery-requests* (API.md, "Manual recovery").

Only staff sessions reach these routes (the authorizer allows staff nothing but
`/staff/*`, and clients everything but; the function checks the role again itself,
and approving a case needs the `admin` role). A function of its own because its rights
differ: it may change an account's contact email and read the documents, which the
public applicant routes must never be able to do.
"""

from clientarea import startup  # first: pauses the garbage collector during init
from clientarea.statuses import RecoveryStatus

# isort: split
from typing import Annotated, Any, Literal, Self

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.openapi.params import Query
from clientarea import web
from clientarea.errors import (
    Conflict,
    EmailTaken,
    Forbidden,
    InvalidRecoveryState,
    NoMatchingAccount,
    NotFound,
)
from clientarea.recovery import staff
from clientarea.schema import fields
from clientarea.schema.base import Answer, Shape
from clientarea.schema.fields import Reference
from clientarea.schema.recovery import RecoveryDocument
from clientarea.schema.routes import responses
from pydantic import ConfigDict, Field, model_validator

logger = Logger()
metrics = Metrics()
app = web.create_app(staff_only=True)

TAG = ["staff recovery"]


class StaffRecoverySummary(Answer):
    reference: str
    status: RecoveryStatus
    applicant_type: str
    channel: str
    full_name: str
    created_at: fields.Timestamp
    submitted_at: fields.Timestamp | None
    decided_at: fields.Timestamp | None


class StaffRecoveryAccount(Answer):
    client_number: int
    matched_by: str | None
    full_name: str


class StaffRecoveryDocument(RecoveryDocument):
    """A document as the applicant handed it in (frozen at submit: a later upload is
    never shown); `size` and `etag` are those of the submission's audit entry."""

    etag: str | None  # S3's ETag of the file: its MD5, hex (a single-part upload)
    download_url: str | None  # presigned, valid 5 minutes


class StaffRecoveryAuditEntry(Answer):
    at: fields.Timestamp
    action: str
    actor: str
    source_ip: str
    detail: dict[str, Any]


class StaffRecoveryCase(Answer):
    reference: str
    status: RecoveryStatus
    applicant_type: str
    channel: str
    full_name: str
    new_email: str
    phone: str
    company_name: str | None
    company_code: str | None
    locale: str
    account_hint: str
    account: StaffRecoveryAccount | None  # the account the hint named, if any
    documents: list[StaffRecoveryDocument]
    created_at: fields.Timestamp
    submitted_at: fields.Timestamp | None
    decided_at: fields.Timestamp | None
    decided_by: int | None
    decision_reason: str | None
    audit: list[StaffRecoveryAuditEntry]


class StaffRecoveryDecision(Shape):
    decision: Literal["approve", "reject"]
    reason: Annotated[str, Field(max_length=2000)] = ""

    @model_validator(mode="after")
    def _rejection_says_why(self) -> Self:
        if self.decision == "reject" and not self.reason.strip():
            raise ValueError("a rejection must give the applicant a reason")
        return self

    # The validator's rule, stated in docs/openapi.json too (JSON Schema if/then).
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "if": {"properties": {"decision": {"const": "reject"}}},
            "then": {"required": ["reason"], "properties": {"reason": {"pattern": r"\S"}}},
        },
    )


@app.get(
    "/staff/recovery-requests",
    operation_id="listRecoveryRequests",
    tags=TAG,
    responses=responses(
        200, list[StaffRecoverySummary], "Cases in that status, oldest first", raises=[Forbidden]
    ),
)
def list_requests(
    status: Annotated[RecoveryStatus, Query()] = RecoveryStatus.UNDER_REVIEW,
) -> list[StaffRecoverySummary]:
    cases = staff.staff_list(web.principal(app), status.value)
    return [StaffRecoverySummary(**case) for case in cases]


@app.get(
    "/staff/recovery-requests/<reference>",
    operation_id="getStaffRecoveryRequest",
    tags=TAG,
    responses=responses(
        200,
        StaffRecoveryCase,
        "The case, its documents (short-lived download links) and its audit trail",
        raises=[Forbidden, NotFound],
    ),
)
def get_request(reference: Reference) -> StaffRecoveryCase:
    case = staff.staff_view(web.principal(app), reference, client_ip=web.client_ip(app))
    return StaffRecoveryCase.model_validate(case)


@app.post(
    "/staff/recovery-requests/<reference>/decision",
    operation_id="decideRecoveryRequest",
    tags=TAG,
    responses=responses(
        200,
        StaffRecoveryCase,
        "The decided case",
        raises=[Forbidden, NotFound, InvalidRecoveryState, EmailTaken, NoMatchingAccount, Conflict],
    ),
)
def decide(reference: Reference, request: StaffRecoveryDecision) -> StaffRecoveryCase:
    case = staff.decide(
        web.principal(app),
        reference,
        request.decision,
        request.reason.strip(),
        client_ip=web.client_ip(app),
    )
    return StaffRecoveryCase.model_validate(case)


lambda_handler = web.entry_point(app, logger, metrics)


startup.done()  # last: the initialisation is over (clientarea/startup.py)
