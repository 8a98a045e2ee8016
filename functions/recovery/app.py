"""Manual recovery, the applicant's side: /recovery/* (API.md, "Manual recovery").

No session: the applicant has lost both the password and the mailbox. A case is
followed with its reference and the access key shown once at creation (header
`X-Recovery-Key`). Staff routes live in `staff.py`, a function with other rights.
"""

from clientarea import startup  # first: pauses the garbage collector during init
from clientarea.statuses import RecoveryStatus

# isort: split
from typing import Annotated, Any, Literal, Self, get_args

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from clientarea import locales, web
from clientarea.errors import (
    DocumentsMissing,
    InvalidEmail,
    InvalidRecoveryState,
    NotFound,
    RateLimited,
)
from clientarea.recovery import applicant, forms
from clientarea.recovery import rules as recovery_rules
from clientarea.schema import fields
from clientarea.schema.base import Answer, Shape
from clientarea.schema.fields import Reference
from clientarea.schema.recovery import RecoveryDocument
from clientarea.schema.routes import responses
from pydantic import ConfigDict, model_validator

logger = Logger()
metrics = Metrics()
app = web.create_app()

ApplicantTypeName = Literal["individual", "sole_proprietor", "legal_entity"]
TAG = ["recovery"]
# The case's access key. Optional here so that a missing key is the same 404 as a wrong one.
AccessKey = Annotated[
    str | None,
    Header(
        alias="X-Recovery-Key",
        max_length=100,
        description="The access key shown once by POST /recovery/requests",
    ),
]


class RecoveryDocumentRule(Answer):
    document: str
    required: bool
    description: str


class RecoveryChannelRule(Answer):
    channel: str
    description: str
    uploads_needed: bool
    documents: list[RecoveryDocumentRule]


class RecoveryApplicantRules(Answer):
    name: str
    channels: list[RecoveryChannelRule]
    accepted_content_types: list[str]
    max_upload_bytes: int
    template_url: str  # relative to the API's base URL


class RecoveryApplicantTypes(Answer):
    individual: RecoveryApplicantRules
    sole_proprietor: RecoveryApplicantRules
    legal_entity: RecoveryApplicantRules


class RecoveryRequirements(Answer):
    applicant_types: RecoveryApplicantTypes


def _applicant_rules(schema: dict[str, Any]) -> None:
    """RecoveryApplication's cross-field rules as JSON Schema: the channels each applicant
    type may use, and a legal entity's company name and code (not blank)."""
    given = r"\S"
    rules: list[dict[str, Any]] = [
        {
            "if": {"properties": {"applicant_type": {"const": kind}}},
            "then": {
                "properties": {"channel": {"enum": list(recovery_rules.accepted_channels(kind))}}
            },
        }
        for kind in get_args(ApplicantTypeName)
    ]
    rules.append(
        {
            "if": {"properties": {"applicant_type": {"const": "legal_entity"}}},
            "then": {
                "required": ["company_name", "company_code"],
                "properties": {
                    "company_name": {"type": "string", "pattern": given},
                    "company_code": {"type": "string", "pattern": given},
                },
            },
        }
    )
    schema["allOf"] = rules


class RecoveryApplication(Shape):
    account_hint: fields.one_line(254, min_length=1)  # type: ignore[valid-type]
    applicant_type: ApplicantTypeName
    full_name: fields.Name
    new_email: fields.Email
    phone: fields.one_line(40, min_length=3)  # type: ignore[valid-type]
    company_name: fields.one_line(200) | None = None  # type: ignore[valid-type]
    company_code: fields.one_line(40) | None = None  # type: ignore[valid-type]
    channel: Literal["e_signature", "scanned_documents", "post"]

    @model_validator(mode="after")
    def _fits_the_applicant_type(self) -> Self:
        if self.channel not in recovery_rules.accepted_channels(self.applicant_type):
            raise ValueError(f"channel {self.channel} is not accepted for {self.applicant_type}")
        if self.applicant_type == "legal_entity" and not (
            (self.company_name or "").strip() and (self.company_code or "").strip()
        ):
            raise ValueError("a legal entity must give company_name and company_code")
        return self

    # The validator's rules, stated in docs/openapi.json too (JSON Schema if/then).
    model_config = ConfigDict(json_schema_extra=_applicant_rules)


class RecoveryUpload(Answer):
    document: str
    required: bool
    method: Literal["POST"]
    url: str
    # One signed form per accepted content type: send the one matching the file.
    fields_by_content_type: dict[str, dict[str, str]]
    max_bytes: int
    expires_at: fields.Timestamp


class RecoveryCreated(Answer):
    reference: str
    access_key: str
    status: RecoveryStatus
    uploads: list[RecoveryUpload]


class RecoveryCase(Answer):
    reference: str
    status: RecoveryStatus
    applicant_type: str
    channel: str
    documents: list[RecoveryDocument]
    uploads: list[RecoveryUpload]
    created_at: fields.Timestamp
    submitted_at: fields.Timestamp | None
    decided_at: fields.Timestamp | None
    decision_reason: str | None


class RecoverySubmitted(Answer):
    status: Literal["under_review"]


DOCX = {forms.DOCX_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}}


def _docx(content: bytes, filename: str) -> Response[bytes]:
    return Response(
        200,
        forms.DOCX_CONTENT_TYPE,
        content,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@app.get(
    "/recovery/requirements",
    operation_id="getRecoveryRequirements",
    tags=TAG,
    responses=responses(200, RecoveryRequirements, "What each applicant type must send"),
)
def get_requirements() -> RecoveryRequirements:
    return RecoveryRequirements.model_validate(recovery_rules.requirements(web.request_locale(app)))


@app.get(
    "/recovery/templates/<applicant_type>",
    operation_id="getRecoveryTemplate",
    tags=TAG,
    responses=responses(200, None, "The blank application (DOCX)", content=DOCX, raises=[NotFound]),
)
def get_template(  # type: ignore[no-untyped-def]  # a return annotation changes the body
    applicant_type: Annotated[str, Path(min_length=1, max_length=32)],
    locale: Annotated[str | None, Query(max_length=35)] = None,
):
    # No return annotation: Powertools would validate (and mangle) the binary body as JSON.
    if not recovery_rules.accepted_channels(applicant_type):
        raise NotFound
    lang = locales.negotiate(locale, app.current_event.headers.get("accept-language"))
    content = forms.blank_application(applicant_type, lang)
    return _docx(content, f"recovery-application-{applicant_type}-{lang}.docx")


@app.post(
    "/recovery/requests",
    operation_id="createRecoveryRequest",
    tags=TAG,
    responses=responses(
        201,
        RecoveryCreated,
        "The case is open; the access key is shown only here. The same answer whether or "
        "not the hint names an account.",
        raises=[InvalidEmail, RateLimited],
    ),
)
def create_request(request: RecoveryApplication) -> Response[RecoveryCreated]:
    application = applicant.Application(**request.model_dump())
    created = applicant.create(
        application, locale=web.request_locale(app), client_ip=web.client_ip(app)
    )
    body = RecoveryCreated(
        reference=created.reference,
        access_key=created.access_key,
        status=RecoveryStatus(created.status),
        uploads=[RecoveryUpload(**upload) for upload in created.uploads],
    )
    return Response(201, "application/json", body)


@app.get(
    "/recovery/requests/<reference>",
    operation_id="getRecoveryRequest",
    tags=TAG,
    responses=responses(
        200, RecoveryCase, "The case as the applicant sees it", raises=[NotFound, RateLimited]
    ),
)
def get_request(reference: Reference, x_recovery_key: AccessKey = None) -> RecoveryCase:
    view = applicant.view(reference, x_recovery_key, client_ip=web.client_ip(app))
    return RecoveryCase.model_validate(view.as_dict())


@app.post(
    "/recovery/requests/<reference>/submit",
    operation_id="submitRecoveryRequest",
    tags=TAG,
    responses=responses(
        202,
        RecoverySubmitted,
        "Handed to staff",
        raises=[NotFound, DocumentsMissing, InvalidRecoveryState, RateLimited],
    ),
)
def submit_request(
    reference: Reference, x_recovery_key: AccessKey = None
) -> Response[RecoverySubmitted]:
    status = applicant.submit(reference, x_recovery_key, client_ip=web.client_ip(app))
    # status is a str the model checks against its Literal at run time.
    answer = RecoverySubmitted(status=status)  # type: ignore[arg-type]
    return Response(202, "application/json", answer)


@app.get(
    "/recovery/requests/<reference>/application",
    operation_id="getRecoveryApplication",
    tags=TAG,
    responses=responses(
        200,
        None,
        "The application pre-filled with the case (DOCX)",
        content=DOCX,
        raises=[NotFound],
    ),
)
def get_filled_application(  # type: ignore[no-untyped-def]  # see get_template
    reference: Reference, x_recovery_key: AccessKey = None
):
    # No return annotation, as for get_template: the body is binary.
    content = applicant.filled_application(reference, x_recovery_key, client_ip=web.client_ip(app))
    return _docx(content, f"recovery-application-{reference}.docx")


lambda_handler = web.entry_point(app, logger, metrics)


startup.done()  # last: the initialisation is over (clientarea/startup.py)
