"""Domain errors: one class per stable error `code` of the HTTP contract.

`clientarea.web` maps them to responses in one table; nothing matches message text.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a failure the caller can understand and act on."""

    code = "error"
    status = 400
    # The catalogue entry of the message, when it is more specific than the code's.
    message_key: str | None = None

    def __init__(self, detail: str | None = None, **params: object) -> None:
        super().__init__(detail or self.code)
        self.params = params


class TokenInvalid(DomainError):
    """The link's token is unknown, used, superseded, expired or malformed (all alike)."""

    code = "token_invalid"
    status = 410


class InvalidCredentials(DomainError):
    """Unknown login or wrong password: deliberately indistinguishable."""

    code = "invalid_credentials"
    status = 401


class WeakPassword(DomainError):
    """The new password breaks the NIST SP 800-63B-4 rules; `reason` says which."""

    code = "weak_password"
    status = 422

    def __init__(self, reason: str) -> None:
        super().__init__(reason, reason=reason)
        self.reason = reason


class InvalidLogin(DomainError):
    """A requested login name does not follow the login rules."""

    code = "invalid_login"
    status = 422


class InvalidEmail(DomainError):
    """An email address that cannot receive mail as written."""

    code = "invalid_email"
    status = 422


class NotFound(DomainError):
    """The resource does not exist or is not the caller's."""

    code = "not_found"
    status = 404


class RecipientMismatch(DomainError):
    """A cession's recipient login and client number do not name one other client account."""

    code = "recipient_mismatch"
    status = 422


class CessionPending(DomainError):
    """The service already has an open cession order."""

    code = "cession_pending"
    status = 409


class InvalidOrderState(DomainError):
    """The order's current state does not allow this step (e.g. cancelling a finished order)."""

    code = "invalid_order_state"
    status = 409


class Unauthorized(DomainError):
    """No valid session."""

    code = "unauthorized"
    status = 401


class RetryLater:
    """Mixed into an error after which the same request may succeed in `retry_after`
    seconds (answered with Retry-After)."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        # Also a message parameter: "try again in {retry_after} seconds".
        # Cooperative: next in the MRO is the DomainError this is mixed into.
        super().__init__(  # type: ignore[call-arg]
            f"retry after {retry_after}s", retry_after=self.retry_after
        )


class RateLimited(RetryLater, DomainError):
    """Too many attempts; try again after `retry_after` seconds."""

    code = "rate_limited"
    status = 429


class LoginRateLimited(RateLimited):
    """A login paused (too many failures in a row) or locked (100 consecutive failures):
    the same answer either way, and whether or not the login exists. Its message says
    that a password reset by email always unlocks it."""

    message_key = "login_rate_limited"


class Conflict(DomainError):
    """A concurrent change won; the request can be retried."""

    code = "conflict"
    status = 409


class ConditionsFailed(Conflict):
    """A unit of work (clientarea.storage.unit_of_work) was refused because some of its
    named conditions did not hold; nothing was written. `failed` names them, in the
    order they were registered. Left uncaught, it answers as the Conflict it is."""

    def __init__(self, failed: tuple[str, ...]) -> None:
        super().__init__("conditions failed: " + ", ".join(failed))
        self.failed = failed


class Forbidden(DomainError):
    """The caller is signed in but may not do this."""

    code = "forbidden"
    status = 403


class EmailTaken(DomainError):
    """The address already belongs to another account (as contact or authorised sender)."""

    code = "email_taken"
    status = 409


class AlreadyAuthorised(DomainError):
    """The address is the account's own contact email, which is always authorised."""

    code = "already_authorised"
    status = 409


class TooManyAuthorisedEmails(DomainError):
    """An account may authorise a limited number of sender addresses."""

    code = "too_many_authorised_emails"
    status = 422


class EmailUnchanged(DomainError):
    """The requested new contact email is the current one (in any capitalisation)."""

    code = "email_unchanged"
    status = 422


class TicketClosed(DomainError):
    """The ticket is closed: it takes no more messages (open a new ticket instead)."""

    code = "ticket_closed"
    status = 409


class DocumentsMissing(DomainError):
    """A recovery request is submitted before every required document is uploaded."""

    code = "documents_missing"
    status = 409


class InvalidRecoveryState(DomainError):
    """The recovery case's status does not allow this step (e.g. deciding it twice)."""

    code = "invalid_recovery_state"
    status = 409


class NoMatchingAccount(DomainError):
    """The request's hint named no account, so it cannot be approved (only rejected)."""

    code = "no_matching_account"
    status = 409


class ServiceUnavailable(RetryLater, DomainError):
    """AWS throttled us or failed: nothing was changed, the same request may be retried
    after `retry_after` seconds."""

    code = "service_unavailable"
    status = 503


class AWSRefused(DomainError):
    """An AWS call failed for good: a permission the function's role lacks, or a bug.
    Retrying will not help; `__cause__` is AWS's error (availability.is_access_denied
    reads it)."""

    code = "internal_error"
    status = 500


# Answered by the HTTP adapter (clientarea.web) or API Gateway rather than raised by the
# domain: classes all the same, so that each code's status and documentation (these
# docstrings, in docs/openapi.json) have one source.


class ValidationFailed(DomainError):
    """The body, path, query or a header does not follow the operation's schema; `errors`
    says where."""

    code = "validation_error"
    status = 422


class IdempotencyKeyReused(DomainError):
    """The Idempotency-Key was already used with another body for this request."""

    code = "idempotency_key_reused"
    status = 422


class PayloadTooLarge(DomainError):
    """The body is over 64 KiB."""

    code = "payload_too_large"
    status = 413


class UnsupportedMediaType(DomainError):
    """The body is not application/json."""

    code = "unsupported_media_type"
    status = 415


class InternalError(DomainError):
    """An unexpected failure (nothing more is said of it)."""

    code = "internal_error"
    status = 500
