"""The applicant's side of a manual recovery: the owner lost the password AND the
contact mailbox, opens a case, uploads documents, submits, and follows its status.

What an applicant can learn: nothing about accounts. `create()` answers the same
whether or not the hint names an account, after the same AWS calls (one
TransactGetItems for every reading of the hint as client number, login or email, one
Query for it as a domain); the match is stored for staff only. A case is opened with
its reference and a 256-bit access key (stored as a SHA-256 digest, compared in
constant time); an unknown reference and a wrong key are the same 404, and each
failure counts against the caller's address like a guessed link token.
"""

import contextlib
import hmac
import re
from datetime import datetime
from typing import Any, NamedTuple

from clientarea import clock, config, services, telemetry, throttling, tokens
from clientarea.accounts import identity
from clientarea.errors import DocumentsMissing, InvalidEmail, InvalidRecoveryState, NotFound
from clientarea.mail import outbox
from clientarea.recovery import audit, documents, forms
from clientarea.recovery.rules import slots
from clientarea.statuses import RecoveryStatus
from clientarea.storage import accounts as account_store
from clientarea.storage import recovery as store

_ACCESS_KEY = re.compile(r"^[0-9A-Za-z_-]{43}$")  # tokens.new_secret(): 256 bits, URL-safe


def requests_per_ip() -> throttling.Limit:
    return throttling.Limit("recovery_requests_ip", config.ip_requests_per_hour(), 3600)


class Application(NamedTuple):
    """What an applicant states (already validated for shape by the handler)."""

    account_hint: str
    applicant_type: str
    full_name: str
    new_email: str
    phone: str
    channel: str
    company_name: str | None = None
    company_code: str | None = None


class Created(NamedTuple):
    reference: str
    access_key: str
    status: str
    uploads: list[dict[str, Any]]


class ApplicantView(NamedTuple):
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
        return self._asdict()


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
    reference = store.new_reference()
    access_key = tokens.new_secret()
    case = store.open_case(
        reference,
        audit.entry(
            reference,
            "created",
            audit.APPLICANT,
            client_ip,
            applicant_type=application.applicant_type,
            channel=application.channel,
        ),
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
        created_at=clock.now(),
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
            uploads_needed=bool(slots(application.applicant_type, application.channel)),
        )
    return Created(
        reference=reference,
        access_key=access_key,
        status=RecoveryStatus.AWAITING_DOCUMENTS,
        uploads=documents.upload_forms(case),
    )


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
    readings = store.hint_owners(number_key, login_key, email_key, identity.CLAIM)
    by_domain = services.find_by_domain(text) if text else None
    for how, client_number in readings:
        if client_number is not None:
            return client_number, how
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
    with contextlib.suppress(NotFound):
        item = store.get_case(reference)
    offered = tokens.digest(access_key) if access_key and _ACCESS_KEY.match(access_key) else ""
    if item is None or not offered or not hmac.compare_digest(item.key_digest, offered):
        raise NotFound
    return item


def view(reference: str, access_key: str | None, *, client_ip: str) -> ApplicantView:
    """GET /recovery/requests/{reference}: status, documents received, and while
    documents are awaited, fresh upload forms."""
    case = _case_for_applicant(reference, access_key, client_ip)
    awaiting = case.status == RecoveryStatus.AWAITING_DOCUMENTS
    return ApplicantView(
        reference=case.reference,
        status=case.status,
        applicant_type=case.applicant_type,
        channel=case.channel,
        documents=documents.slot_states(case, documents.held_versions(case)),
        uploads=documents.upload_forms(case) if awaiting else [],
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
    held = documents.latest_versions(case)
    required = slots(case.applicant_type, case.channel)
    missing = [slot.name for slot in required if slot.required and slot.name not in held]
    if missing:
        raise DocumentsMissing(missing=", ".join(missing))
    frozen = {slot.name: held[slot.name] for slot in required if slot.name in held}
    store.submit_case(
        case,
        expected=RecoveryStatus.AWAITING_DOCUMENTS,
        status=RecoveryStatus.UNDER_REVIEW,
        documents=frozen,
        entry=audit.entry(
            case.reference, "submitted", audit.APPLICANT, client_ip, documents=frozen
        ),
    )
    return RecoveryStatus.UNDER_REVIEW


def filled_application(reference: str, access_key: str | None, *, client_ip: str) -> bytes:
    """The case's application, pre-filled with what the applicant stated, in their language."""
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
    return forms.render(case.applicant_type, case.locale, fields=fields)


def _iso(moment: datetime | None) -> str | None:
    return clock.iso(moment) if moment is not None else None
