"""Contact email and authorised senders: /account/email-change*, /account/authorised-emails
(API.md, "Contact email")."""

from __future__ import annotations

from clientarea import startup  # first: pauses the garbage collector during init

# isort: split
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from clientarea import web
from clientarea.contact_email import change
from clientarea.contact_email import senders as email_senders
from pydantic import Field, SecretStr

logger = Logger()
metrics = Metrics()
app = web.create_app()

Email = Annotated[str, Field(min_length=3, max_length=254)]


class EmailChangeRequest(web.Shape):
    new_email: Email
    current_password: Annotated[SecretStr, Field(min_length=1, max_length=1024)]


class EmailChangeConfirmation(web.Shape):
    token: Annotated[str, Field(min_length=1, max_length=512)]


# The same shape (and name) as the accounts function's GET /account answer.
class Account(web.Answer):
    client_number: int
    login: str
    email: str
    full_name: str
    phone: str | None
    address: str | None
    locale: str
    authorised_emails: list[str]
    # True once mail to `email` hard-bounced or drew a complaint: nothing is mailed there
    # until the client changes it (a confirmed change clears it).
    email_undeliverable: bool


class AuthorisedEmailRequest(web.Shape):
    email: Email


class AuthorisedEmailConfirmation(web.Shape):
    token: Annotated[str, Field(min_length=1, max_length=512)]


class AuthorisedEmail(web.Answer):
    email: str
    added_at: str
    status: Literal["pending", "confirmed"]


class AuthorisedEmailPending(web.Answer):
    email: str
    status: Literal["pending"]


class AuthorisedEmailConfirmed(web.Answer):
    email: str
    added_at: str
    status: Literal["confirmed"]


@app.post(
    "/account/email-change",
    responses=web.responses(
        202,
        None,
        "A 2-hour link went to the new address (unless another account uses it) and a "
        "notice to the current one; the contact email changes only when confirmed",
        e401="invalid_credentials: wrong current password",
        e422="invalid_email, email_unchanged or validation_error",
        e429="rate_limited: too many wrong passwords, or too many requests for the account",
    ),
)
def request_change(request: EmailChangeRequest) -> Response[dict[str, Any]]:
    principal = web.principal(app)
    change.request_change(
        principal.client_number,
        request.new_email,
        request.current_password.get_secret_value(),
        client_ip=web.client_ip(app),
        session_digest=principal.session_digest,
    )
    return Response(202, "application/json", {})


@app.post(
    "/account/email-change/confirm",
    responses=web.responses(
        200,
        Account,
        "The account with its new contact (and login) email",
        e409="email_taken: another account took the address meanwhile (nothing changed)",
        e410="token_invalid: unknown, used, superseded or expired link",
    ),
)
def confirm_change(request: EmailChangeConfirmation) -> Account:
    view = change.confirm_change(request.token, client_ip=web.client_ip(app))
    return Account(**view.as_dict())


@app.get(
    "/account/authorised-emails",
    responses=web.responses(
        200,
        list[AuthorisedEmail],
        "Listed senders, oldest first: pending (a confirmation link was mailed to the "
        "address) or confirmed (may open tickets by email)",
    ),
)
def list_authorised() -> list[AuthorisedEmail]:
    entries = email_senders.list_authorised(web.principal(app).client_number)
    return [AuthorisedEmail(**entry.as_dict()) for entry in entries]


@app.post(
    "/account/authorised-emails",
    responses=web.responses(
        202,
        AuthorisedEmailPending,
        "Listed as pending; a 2-hour confirmation link goes to the address (a fresh one, "
        "killing the older, when asked again). The same answer whether or not any "
        "account uses the address",
        e409="already_authorised: the contact email or an address already confirmed; "
        "conflict: the list changed meanwhile",
        e422="too_many_authorised_emails (at most 20), invalid_email or validation_error",
        e429="rate_limited: too many confirmation links asked for the account",
    ),
)
def request_authorisation(request: AuthorisedEmailRequest) -> Response[AuthorisedEmailPending]:
    entry = email_senders.request_authorisation(
        web.principal(app).client_number, request.email, client_ip=web.client_ip(app)
    )
    body = AuthorisedEmailPending(email=entry.email, status="pending")
    return Response(202, "application/json", body)


@app.post(
    "/account/authorised-emails/confirm",
    responses=web.responses(
        200,
        AuthorisedEmailConfirmed,
        "The address may now open tickets by email for the account that listed it (no "
        "session: the link opened from that mailbox is the proof)",
        e409="email_taken: another account confirmed the address first, or it is "
        "another account's contact email (nothing changed)",
        e410="token_invalid: unknown, used, superseded, expired or removed link",
        e429="rate_limited: too many invalid links from this address",
    ),
)
def confirm_authorisation(request: AuthorisedEmailConfirmation) -> AuthorisedEmailConfirmed:
    entry = email_senders.confirm_authorisation(request.token, client_ip=web.client_ip(app))
    return AuthorisedEmailConfirmed(email=entry.email, added_at=entry.added_at, status="confirmed")


@app.delete(
    "/account/authorised-emails/<email>",
    responses=web.responses(
        204, None, "Removed, pending or confirmed", e404="not_found: no such listed address"
    ),
)
def revoke(email: Annotated[str, Path(min_length=1, max_length=254)]) -> Response[None]:
    email_senders.revoke(web.principal(app).client_number, email)
    return Response(204)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


startup.done()  # last: the initialisation is over (clientarea/startup.py)
