"""The staff's side of a manual recovery: the review queue, a case with its documents,
and the decision.

One function per decision (`_approve`, `_reject`), each first checking its own state;
the decision dispatch fails closed on anything else. Approving hands an account to
whoever holds `new_email`, so it takes the `admin` role (a `support` agent reviews and
rejects): no single agent can give any account away. The state change and its audit
entry are written in one DynamoDB transaction, conditioned on the state read, so two
racing decisions cannot both win.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from clientarea import clock, telemetry
from clientarea.accounts import contact_switch, identity
from clientarea.accounts import profile as account_profile
from clientarea.errors import (
    ConditionsFailed,
    Conflict,
    Forbidden,
    InvalidRecoveryState,
    NoMatchingAccount,
    NotFound,
)
from clientarea.mail import outbox
from clientarea.recovery import audit, documents
from clientarea.roles import STAFF_ROLES, Role
from clientarea.statuses import RecoveryStatus
from clientarea.storage import recovery as store
from clientarea.storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from clientarea.sessions import Principal


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


def _staff_actor(principal: Principal) -> str:
    if principal.role not in STAFF_ROLES:  # the authorizer already refuses; fail closed
        raise Forbidden
    return f"staff:{principal.client_number}"


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
        for item in store.cases_in_status(RecoveryStatus(status))
    ]


def staff_view(principal: Principal, reference: str, *, client_ip: str) -> dict[str, Any]:
    """GET /staff/recovery-requests/{reference}: everything staff need to decide,
    with short-lived download links; the viewing itself goes to the audit trail."""
    actor = _staff_actor(principal)
    case = store.get_case(reference)
    audit.record(reference, "viewed", actor, client_ip)
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
        "documents": documents.download_links(case, documents.held_versions(case)),
        "created_at": clock.iso(case.created_at),
        "submitted_at": _iso(case.submitted_at),
        "decided_at": _iso(case.decided_at),
        "decided_by": int(case.decided_by) if case.decided_by is not None else None,
        "decision_reason": case.decision_reason,
        "audit": audit.trail(case.reference),
    }


def decide(
    principal: Principal, reference: str, decision: str, reason: str, *, client_ip: str
) -> dict[str, Any]:
    """POST /staff/recovery-requests/{reference}/decision."""
    actor = _staff_actor(principal)
    if decision == Decision.APPROVE and principal.role != Role.ADMIN:
        raise Forbidden  # a support agent reviews and rejects; only an admin approves
    case = store.get_case(reference)
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
    documents.close_documents(case)
    return _staff_case(store.get_case(reference))


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
    # (the cession package on first use: only an admin's approval needs it, and the
    # applicant's function never does; about 0.05x an `import boto3` at every cold start.)
    from clientarea.cession.withdrawal import withdraw_all  # noqa: PLC0415

    withdrawal = withdraw_all(int(account.client_number))
    entry = audit.entry(
        case.reference,
        "approved",
        actor,
        client_ip,
        client_number=int(account.client_number),
        reason=reason,
        cancelled_orders=withdrawal.order_ids or None,
    )

    # Contact (and login) email, both claims, the pending reset link, every session
    # (the generation is raised), the open cession orders (closed, services released,
    # links revoked) and this case: one unit of work. EmailTaken if the new address
    # belongs to another account by now; InvalidRecoveryState if the case was decided
    # meanwhile; Conflict if anything else moved (an order finished, say: a retry
    # decides afresh).
    try:
        with UnitOfWork() as uow:
            contact_switch.switch_contact_email(uow, account, case.new_email, revoke_sessions=True)
            _decide(uow, case, RecoveryStatus.APPROVED, staff=staff, reason=reason, entry=entry)
            withdrawal.cancel(uow)
    except ConditionsFailed as refused:
        meant = contact_switch.failure(refused)
        if isinstance(meant, Conflict) and store.CASE_STATE in refused.failed:
            raise InvalidRecoveryState from refused
        raise meant from refused
    except Conflict as lost:  # to a concurrent transaction: was it a decision?
        if store.get_case(case.reference).status != RecoveryStatus.UNDER_REVIEW:
            raise InvalidRecoveryState from lost
        raise
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
    entry = audit.entry(case.reference, "rejected", actor, client_ip, reason=reason)
    with UnitOfWork(refused=InvalidRecoveryState) as uow:
        _decide(uow, case, RecoveryStatus.REJECTED, staff=staff, reason=reason, entry=entry)
    outbox.send(
        "recovery_rejected",
        case.new_email,
        case.locale,
        full_name=case.full_name,
        reference=case.reference,
        reason=reason,
        requirements_link=outbox.page("/recovery"),
    )


def _decide(
    uow: UnitOfWork, case: Any, status: RecoveryStatus, *, staff: int, reason: str, entry: Any
) -> None:
    """The decision in `uow`, only if the case is still under review (CASE_STATE)."""
    store.decide_case(
        uow,
        case,
        expected=RecoveryStatus.UNDER_REVIEW,
        status=status,
        staff=staff,
        reason=reason,
        entry=entry,
    )


def _iso(moment: datetime | None) -> str | None:
    return clock.iso(moment) if moment is not None else None
