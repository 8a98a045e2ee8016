"""Manual recovery, the staff's side: /staff/recovery-requests* (API.md, "Manual recovery").

Only staff sessions reach these routes (the authorizer allows staff nothing but
`/staff/*`, and clients everything but; the function checks the role again itself,
and approving a case needs the `admin` role). A function of its own because its rights
differ: it may change an account's contact email and read the documents, which the
public applicant routes must never be able to do.
"""

from __future__ import annotations

from clientarea import startup  # first: pauses the garbage collector during init

# isort: split
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from clientarea import web
from clientarea.recovery import staff
from pydantic import ConfigDict, Field, model_validator

logger = Logger()
metrics = Metrics()
app = web.create_app(staff_only=True)

Reference = Annotated[str, Path(min_length=1, max_length=32)]
StatusName = Literal["awaiting_documents", "under_review", "approved", "rejected"]


class StaffRecoverySummary(web.Answer):
    reference: str
    status: str
    applicant_type: str
    channel: str
    full_name: str
    created_at: str
    submitted_at: str | None
    decided_at: str | None


class StaffRecoveryAccount(web.Answer):
    client_number: int
    matched_by: str | None
    full_name: str


class StaffRecoveryDocument(web.Answer):
    """A document as the applicant handed it in (frozen at submit: a later upload is
    never shown); `size` and `etag` are those of the submission's audit entry."""

    document: str
    required: bool
    uploaded: bool
    size: int | None
    uploaded_at: str | None
    etag: str | None  # S3's ETag of the file: its MD5, hex (a single-part upload)
    download_url: str | None  # presigned, valid 5 minutes


class StaffRecoveryAuditEntry(web.Answer):
    at: str
    action: str
    actor: str
    source_ip: str
    detail: dict[str, Any]


class StaffRecoveryCase(web.Answer):
    reference: str
    status: str
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
    created_at: str
    submitted_at: str | None
    decided_at: str | None
    decided_by: int | None
    decision_reason: str | None
    audit: list[StaffRecoveryAuditEntry]


class StaffRecoveryDecision(web.Shape):
    decision: Literal["approve", "reject"]
    reason: Annotated[str, Field(max_length=2000)] = ""

    @model_validator(mode="after")
    def _rejection_says_why(self) -> StaffRecoveryDecision:
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


STAFF_ONLY = "forbidden: not a staff session"


@app.get(
    "/staff/recovery-requests",
    responses=web.responses(
        200, list[StaffRecoverySummary], "Cases in that status, oldest first", e403=STAFF_ONLY
    ),
)
def list_requests(
    status: Annotated[StatusName, Query()] = "under_review",
) -> list[StaffRecoverySummary]:
    cases = staff.staff_list(web.principal(app), status)
    return [StaffRecoverySummary(**case) for case in cases]


@app.get(
    "/staff/recovery-requests/<reference>",
    responses=web.responses(
        200,
        StaffRecoveryCase,
        "The case, its documents (short-lived download links) and its audit trail",
        e403=STAFF_ONLY,
        e404="not_found",
    ),
)
def get_request(reference: Reference) -> StaffRecoveryCase:
    case = staff.staff_view(web.principal(app), reference, client_ip=web.client_ip(app))
    return StaffRecoveryCase.model_validate(case)


@app.post(
    "/staff/recovery-requests/<reference>/decision",
    responses=web.responses(
        200,
        StaffRecoveryCase,
        "The decided case",
        e403="forbidden: not a staff session, or an approval by a support agent (approving "
        "needs the admin role; any staff role may reject)",
        e404="not_found",
        e409="invalid_recovery_state (not under review, e.g. decided already); email_taken "
        "(approve: the new address belongs to another account); no_matching_account "
        "(approve: the hint named no account); conflict (a concurrent change)",
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


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


startup.done()  # last: the initialisation is over (clientarea/startup.py)
