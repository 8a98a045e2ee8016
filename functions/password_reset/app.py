"""Password reset: /password/* (API.md, "Password reset")."""

from clientarea import startup  # first: pauses the garbage collector during init

# isort: split
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from clientarea import clock, password_reset, web
from clientarea.errors import TokenInvalid, WeakPassword
from clientarea.schema import fields
from clientarea.schema.base import Answer, Shape
from clientarea.schema.routes import EMPTY_OBJECT, NO_BODY, responses

logger = Logger()
metrics = Metrics()
app = web.create_app()

TAG = ["password reset"]


class ForgotRequest(Shape):
    login: fields.Login


class TokenRequest(Shape):
    token: fields.Token


class TokenExpiry(Answer):
    expires_at: fields.Timestamp


class ResetRequest(Shape):
    token: fields.Token
    new_password: fields.Password


@app.post(
    "/password/forgot",
    operation_id="requestPasswordReset",
    tags=TAG,
    responses=responses(
        202, None, "The same answer whether or not the account exists", content=EMPTY_OBJECT
    ),
)
def forgot(request: ForgotRequest) -> Response[dict[str, Any]]:
    password_reset.request_reset(
        request.login, locale=web.request_locale(app), client_ip=web.client_ip(app)
    )
    return Response(202, "application/json", {})


@app.post(
    "/password/reset/verify",
    operation_id="verifyPasswordResetLink",
    tags=TAG,
    responses=responses(200, TokenExpiry, "The link is valid until then", raises=[TokenInvalid]),
)
def verify(request: TokenRequest) -> TokenExpiry:
    expires_at = password_reset.verify(request.token, client_ip=web.client_ip(app))
    return TokenExpiry(expires_at=clock.iso(expires_at))


@app.post(
    "/password/reset",
    operation_id="resetPassword",
    tags=TAG,
    responses=responses(
        204,
        None,
        "The password is changed; every session is revoked",
        content=NO_BODY,
        raises=[TokenInvalid, WeakPassword],
    ),
)
def reset(request: ResetRequest) -> Response[None]:
    password_reset.reset(
        request.token, request.new_password.get_secret_value(), client_ip=web.client_ip(app)
    )
    return Response(204)


lambda_handler = web.entry_point(app, logger, metrics)


startup.done()  # last: the initialisation is over (clientarea/startup.py)
