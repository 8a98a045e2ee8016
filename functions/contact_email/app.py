"""Contact email and authorised senders: /account/email-change*, /account/authorised-emails
(API.md, "Contact email")."""

from clientarea import startup  # first: pauses the garbage collector during init

# isort: split
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from clientarea import web
from clientarea.contact_email import change
from clientarea.contact_email import senders as email_senders
from clientarea.errors import (
    AlreadyAuthorised,
    Conflict,
    EmailTaken,
    EmailUnchanged,
    InvalidCredentials,
    InvalidEmail,
    NotFound,
    RateLimited,
    TokenInvalid,
    TooManyAuthorisedEmails,
)
from clientarea.schema import fields
from clientarea.schema.accounts import Account
from clientarea.schema.base import Answer, Shape
from clientarea.schema.routes import NO_BODY, responses

logger = Logger()
metrics = Metrics()
app = web.create_app()

TAG = ["contact email"]


class EmailChangeRequest(Shape):
    new_email: fields.Email
    current_password: fields.Password


class EmailChangeConfirmation(Shape):
    token: fields.Token


class AuthorisedEmailRequest(Shape):
    email: fields.Email


class AuthorisedEmailConfirmation(Shape):
    token: fields.Token


class AuthorisedEmail(Answer):
    email: str
    added_at: fields.Timestamp
    status: Literal["pending", "confirmed"]


class AuthorisedEmailPending(Answer):
    email: str
    status: Literal["pending"]


class AuthorisedEmailConfirmed(Answer):
    email: str
    added_at: fields.Timestamp
    status: Literal["confirmed"]


@app.post(
    "/account/email-change",
    operation_id="requestEmailChange",
    tags=TAG,
    responses=responses(
        202,
        None,
        "A 2-hour link went to the new address (unless another account uses it) and a "
        "notice to the current one; the contact email changes only when confirmed",
        raises=[InvalidCredentials, InvalidEmail, EmailUnchanged, RateLimited],
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
    operation_id="confirmEmailChange",
    tags=TAG,
    responses=responses(
        200,
        Account,
        "The account with its new contact (and login) email",
        raises=[EmailTaken, TokenInvalid],
    ),
)
def confirm_change(request: EmailChangeConfirmation) -> Account:
    return change.confirm_change(request.token, client_ip=web.client_ip(app))


@app.get(
    "/account/authorised-emails",
    operation_id="listAuthorisedEmails",
    tags=TAG,
    responses=responses(
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
    operation_id="addAuthorisedEmail",
    tags=TAG,
    responses=responses(
        202,
        AuthorisedEmailPending,
        "Listed as pending; a 2-hour confirmation link goes to the address (a fresh one, "
        "killing the older, when asked again). The same answer whether or not any "
        "account uses the address",
        raises=[AlreadyAuthorised, Conflict, TooManyAuthorisedEmails, InvalidEmail, RateLimited],
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
    operation_id="confirmAuthorisedEmail",
    tags=TAG,
    responses=responses(
        200,
        AuthorisedEmailConfirmed,
        "The address may now open tickets by email for the account that listed it (no "
        "session: the link opened from that mailbox is the proof)",
        raises=[EmailTaken, TokenInvalid, RateLimited],
    ),
)
def confirm_authorisation(request: AuthorisedEmailConfirmation) -> AuthorisedEmailConfirmed:
    entry = email_senders.confirm_authorisation(request.token, client_ip=web.client_ip(app))
    return AuthorisedEmailConfirmed(email=entry.email, added_at=entry.added_at, status="confirmed")


@app.delete(
    "/account/authorised-emails/<email>",
    operation_id="removeAuthorisedEmail",
    tags=TAG,
    responses=responses(
        204, None, "Removed, pending or confirmed", content=NO_BODY, raises=[NotFound]
    ),
)
def revoke(email: Annotated[str, Path(min_length=1, max_length=254)]) -> Response[None]:
    email_senders.revoke(web.principal(app).client_number, email)
    return Response(204)


lambda_handler = web.entry_point(app, logger, metrics)


startup.done()  # last: the initialisation is over (clientarea/startup.py)
