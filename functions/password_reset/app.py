"""Password reset: /password/* (API.md, "Password reset")."""

from __future__ import annotations

from clientarea import startup  # first: pauses the garbage collector during init

# isort: split
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from clientarea import clock, password_reset, web
from pydantic import Field, SecretStr

logger = Logger()
metrics = Metrics()
app = web.create_app()

Token = Annotated[str, Field(min_length=1, max_length=512)]


class ForgotRequest(web.Shape):
    login: Annotated[str, Field(min_length=1, max_length=254)]


class TokenRequest(web.Shape):
    token: Token


class TokenExpiry(web.Answer):
    expires_at: str


class ResetRequest(web.Shape):
    token: Token
    new_password: Annotated[SecretStr, Field(min_length=1, max_length=1024)]


@app.post(
    "/password/forgot",
    responses=web.responses(
        202,
        None,
        "The same answer whether or not the account exists",
        content=web.EMPTY_OBJECT,
    ),
)
def forgot(request: ForgotRequest) -> Response[dict[str, Any]]:
    password_reset.request_reset(
        request.login, locale=web.request_locale(app), client_ip=web.client_ip(app)
    )
    return Response(202, "application/json", {})


@app.post(
    "/password/reset/verify",
    responses=web.responses(
        200,
        TokenExpiry,
        "The link is valid until then",
        e410="token_invalid: unknown, used, superseded or expired link (all alike)",
    ),
)
def verify(request: TokenRequest) -> TokenExpiry:
    expires_at = password_reset.verify(request.token, client_ip=web.client_ip(app))
    return TokenExpiry(expires_at=clock.iso(expires_at))


@app.post(
    "/password/reset",
    responses=web.responses(
        204,
        None,
        "The password is changed; every session is revoked",
        content=web.NO_BODY,
        e410="token_invalid: unknown, used, superseded or expired link (all alike)",
        e422="weak_password, or validation_error",
    ),
)
def reset(request: ResetRequest) -> Response[None]:
    password_reset.reset(
        request.token, request.new_password.get_secret_value(), client_ip=web.client_ip(app)
    )
    return Response(204)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


startup.done()  # last: the initialisation is over (clientarea/startup.py)
