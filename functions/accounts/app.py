"""Accounts and sessions: /auth/* and /account (API.md, "Accounts and sessions")."""

from clientarea import startup  # first: pauses the garbage collector during init

# isort: split
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from clientarea import clock, locales, sessions, web
from clientarea.accounts import login as sign_in
from clientarea.accounts import password, profile, registration
from clientarea.errors import (
    Conflict,
    InvalidCredentials,
    InvalidEmail,
    InvalidLogin,
    LoginRateLimited,
    NotFound,
    TokenInvalid,
    WeakPassword,
)
from clientarea.schema import fields
from clientarea.schema.accounts import Account, Session
from clientarea.schema.base import Answer, Shape
from clientarea.schema.routes import EMPTY_OBJECT, NO_BODY, responses
from pydantic import Field

logger = Logger()
metrics = Metrics()
app = web.create_app()

TAG = ["accounts"]


class RegisterRequest(Shape):
    email: fields.Email
    password: fields.Password
    full_name: fields.Name
    locale: fields.Locale = None
    login: Annotated[str | None, Field(max_length=64)] = None


class VerifyEmailRequest(Shape):
    token: fields.Token


class VerifiedAccount(Answer):
    client_number: int
    login: str


class LoginRequest(Shape):
    login: fields.Login
    password: fields.Password


class SessionResponse(Answer):
    session_token: str
    expires_at: fields.Timestamp


class AccountPatch(Shape):
    full_name: fields.Name | None = None
    phone: fields.one_line(40) | None = None  # type: ignore[valid-type]
    address: fields.free_text(500) | None = None  # type: ignore[valid-type]
    locale: fields.Locale = None


class PasswordChange(Shape):
    current_password: fields.Password
    new_password: fields.Password


@app.post(
    "/auth/register",
    operation_id="register",
    tags=TAG,
    responses=responses(
        202,
        None,
        "Always the same answer; a verification mail or a notice goes out",
        content=EMPTY_OBJECT,
        raises=[WeakPassword, InvalidEmail, InvalidLogin],
    ),
)
def register(request: RegisterRequest) -> Response[dict[str, Any]]:
    locale = locales.negotiate(request.locale, app.current_event.headers.get("accept-language"))
    registration.register(
        email=request.email,
        password=request.password.get_secret_value(),
        full_name=request.full_name,
        locale=locale,
        login=request.login,
        client_ip=web.client_ip(app),
    )
    return Response(202, "application/json", {})


@app.post(
    "/auth/verify-email",
    operation_id="verifyEmail",
    tags=TAG,
    responses=responses(200, VerifiedAccount, "The account is active", raises=[TokenInvalid]),
)
def verify_email(request: VerifyEmailRequest) -> VerifiedAccount:
    account = registration.verify_email(request.token, client_ip=web.client_ip(app))
    return VerifiedAccount(client_number=account.client_number, login=account.login)


@app.post(
    "/auth/login",
    operation_id="login",
    tags=TAG,
    responses=responses(
        200, SessionResponse, "A new session", raises=[InvalidCredentials, LoginRateLimited]
    ),
)
def login(request: LoginRequest) -> SessionResponse:
    session = sign_in.login(
        request.login,
        request.password.get_secret_value(),
        client_ip=web.client_ip(app),
        user_agent=app.current_event.headers.get("user-agent"),
    )
    return SessionResponse(session_token=session.token, expires_at=clock.iso(session.expires_at))


@app.post(
    "/auth/logout",
    operation_id="logout",
    tags=TAG,
    responses=responses(204, None, "The session is revoked", content=NO_BODY),
)
def logout() -> Response[None]:
    sign_in.logout(web.principal(app))
    return Response(204)


@app.get(
    "/account/sessions",
    operation_id="listSessions",
    tags=TAG,
    responses=responses(200, list[Session], "The caller's live sessions, most recently used first"),
)
def list_sessions() -> list[Session]:
    return sessions.list_own(web.principal(app))


@app.delete(
    "/account/sessions/<session_id>",
    operation_id="endSession",
    tags=TAG,
    responses=responses(204, None, "The session is over", content=NO_BODY, raises=[NotFound]),
)
def end_session(session_id: fields.PathId) -> Response[None]:
    sessions.end_one(web.principal(app), session_id)
    return Response(204)


@app.post(
    "/account/sessions/revoke-others",
    operation_id="revokeOtherSessions",
    tags=TAG,
    responses=responses(
        204, None, "Every session of the account but this one is over", content=NO_BODY
    ),
)
def revoke_other_sessions() -> Response[None]:
    sessions.end_others(web.principal(app))
    return Response(204)


@app.get(
    "/account",
    operation_id="getAccount",
    tags=TAG,
)
def get_account() -> Account:
    return profile.profile(web.principal(app).client_number)


@app.patch(
    "/account",
    operation_id="updateAccount",
    tags=TAG,
)
def patch_account(request: AccountPatch) -> Account:
    changes = request.model_dump(exclude_unset=True)
    if "locale" in changes:
        changes["locale"] = locales.negotiate(changes["locale"], None)
    if changes.get("full_name", "") is None:
        del changes["full_name"]  # a name can be changed, not removed
    for optional in ("phone", "address"):
        if optional in changes and not (changes[optional] or "").strip():
            changes[optional] = None  # an empty field is a cleared field
    return profile.update_profile(web.principal(app).client_number, changes)


@app.put(
    "/account/password",
    operation_id="changePassword",
    tags=TAG,
    responses=responses(
        204,
        None,
        "Changed; every other session is revoked",
        content=NO_BODY,
        raises=[InvalidCredentials, Conflict, WeakPassword],
    ),
)
def change_password(request: PasswordChange) -> Response[None]:
    password.change_password(
        web.principal(app),
        request.current_password.get_secret_value(),
        request.new_password.get_secret_value(),
        client_ip=web.client_ip(app),
    )
    return Response(204)


class StaffMember(Answer):
    login: str
    role: str


@app.get(
    "/staff/me",
    operation_id="getStaffMe",
    tags=TAG,
)
def staff_me() -> StaffMember:
    """The signed-in staff member's own login and role (clients never get here: the
    authorizer denies them every /staff/... route)."""
    return StaffMember(**profile.staff_profile(web.principal(app).client_number))


lambda_handler = web.entry_point(app, logger, metrics)


startup.done()  # last: the initialisation is over (clientarea/startup.py)
