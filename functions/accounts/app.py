"""Accounts and sessions: /auth/* and /account (API.md, "Accounts and sessions")."""

from __future__ import annotations

from clientarea import startup  # first: pauses the garbage collector during init

# isort: split
from dataclasses import asdict
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from clientarea import clock, locales, sessions, web
from clientarea.accounts import login as sign_in
from clientarea.accounts import password, profile, registration
from pydantic import Field, SecretStr

logger = Logger()
metrics = Metrics()
app = web.create_app()

# mypy cannot read the web.* field types (pydantic Annotated types built at run time):
# their fields carry ignore[valid-type].
Name = web.person_name(200)
Password = Annotated[SecretStr, Field(min_length=1, max_length=1024)]
Token = Annotated[str, Field(min_length=1, max_length=512)]
SessionId = Annotated[str, Path(min_length=1, max_length=64)]


class RegisterRequest(web.Shape):
    email: Annotated[str, Field(min_length=3, max_length=254)]
    password: Password
    full_name: Name  # type: ignore[valid-type]
    locale: Annotated[str | None, Field(max_length=35)] = None
    login: Annotated[str | None, Field(max_length=64)] = None


class VerifyEmailRequest(web.Shape):
    token: Token


class VerifiedAccount(web.Answer):
    client_number: int
    login: str


class LoginRequest(web.Shape):
    login: Annotated[str, Field(min_length=1, max_length=254)]
    password: Password


class SessionResponse(web.Answer):
    session_token: str
    expires_at: str


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


class Session(web.Answer):
    session_id: str
    created_at: str
    last_seen_at: str
    user_agent: str | None
    ip: str | None
    current: bool


class AccountPatch(web.Shape):
    full_name: Name | None = None  # type: ignore[valid-type]
    phone: web.one_line(40) | None = None  # type: ignore[valid-type]
    address: web.free_text(500) | None = None  # type: ignore[valid-type]
    locale: Annotated[str | None, Field(max_length=35)] = None


class PasswordChange(web.Shape):
    current_password: Password
    new_password: Password


@app.post(
    "/auth/register",
    responses=web.responses(
        202,
        None,
        "Always the same answer; a verification mail or a notice goes out",
        content=web.EMPTY_OBJECT,
        e422="weak_password, invalid_email, invalid_login, or validation_error",
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
    responses=web.responses(
        200,
        VerifiedAccount,
        "The account is active",
        e410="token_invalid: unknown, used, superseded or expired link (all alike)",
    ),
)
def verify_email(request: VerifyEmailRequest) -> VerifiedAccount:
    account = registration.verify_email(request.token, client_ip=web.client_ip(app))
    return VerifiedAccount(client_number=account.client_number, login=account.login)


@app.post(
    "/auth/login",
    responses=web.responses(
        200,
        SessionResponse,
        "A new session",
        e401="invalid_credentials: unknown login or wrong password (alike)",
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
    responses=web.responses(204, None, "The session is revoked", content=web.NO_BODY),
)
def logout() -> Response[None]:
    sign_in.logout(web.principal(app))
    return Response(204)


@app.get(
    "/account/sessions",
    responses=web.responses(
        200, list[Session], "The caller's live sessions, most recently used first"
    ),
)
def list_sessions() -> list[Session]:
    return [Session(**asdict(view)) for view in sessions.list_own(web.principal(app))]


@app.delete(
    "/account/sessions/<session_id>",
    responses=web.responses(
        204,
        None,
        "The session is over",
        content=web.NO_BODY,
        e404="not_found: no live session of the caller's has this id (another account's alike)",
    ),
)
def end_session(session_id: SessionId) -> Response[None]:
    sessions.end_one(web.principal(app), session_id)
    return Response(204)


@app.post(
    "/account/sessions/revoke-others",
    responses=web.responses(
        204, None, "Every session of the account but this one is over", content=web.NO_BODY
    ),
)
def revoke_other_sessions() -> Response[None]:
    sessions.end_others(web.principal(app))
    return Response(204)


@app.get("/account")
def get_account() -> Account:
    return Account(**profile.profile(web.principal(app).client_number).as_dict())


@app.patch("/account")
def patch_account(request: AccountPatch) -> Account:
    changes = request.model_dump(exclude_unset=True)
    if "locale" in changes:
        changes["locale"] = locales.negotiate(changes["locale"], None)
    if changes.get("full_name", "") is None:
        del changes["full_name"]  # a name can be changed, not removed
    for optional in ("phone", "address"):
        if optional in changes and not (changes[optional] or "").strip():
            changes[optional] = None  # an empty field is a cleared field
    view = profile.update_profile(web.principal(app).client_number, changes)
    return Account(**view.as_dict())


@app.put(
    "/account/password",
    responses=web.responses(
        204,
        None,
        "Changed; every other session is revoked",
        content=web.NO_BODY,
        e401="invalid_credentials: the current password is wrong",
        e409="conflict: a concurrent change won; retry",
        e422="weak_password, or validation_error",
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


class StaffMember(web.Answer):
    login: str
    role: str


@app.get("/staff/me")
def staff_me() -> StaffMember:
    """The signed-in staff member's own login and role (clients never get here: the
    authorizer denies them every /staff/... route)."""
    return StaffMember(**profile.staff_profile(web.principal(app).client_number))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


startup.done()  # last: the initialisation is over (clientarea/startup.py)
