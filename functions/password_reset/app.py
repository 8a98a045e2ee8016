"""Password reset: /password/* (API.md, "Password reset")."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from clientarea import clock, password_reset, web
from pydantic import BaseModel, ConfigDict, Field, SecretStr

logger = Logger()
metrics = Metrics()
app = web.create_app()

Token = Annotated[str, Field(min_length=1, max_length=512)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ForgotRequest(Strict):
    login: Annotated[str, Field(min_length=1, max_length=254)]


class TokenRequest(Strict):
    token: Token


class TokenExpiry(BaseModel):
    expires_at: str


class ResetRequest(Strict):
    token: Token
    new_password: Annotated[SecretStr, Field(min_length=1, max_length=1024)]


ERROR_BODY = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}
EMPTY_OBJECT = {"application/json": {"schema": {"type": "object", "maxProperties": 0}}}


def _responses(
    status: int,
    model: Any,
    description: str,
    *,
    content: dict[str, Any] | None = None,
    **errors: str,
) -> dict[int, Any]:
    """The success (`model`, else `content`, else no body) and the contract's errors."""
    if model is not None:
        content = {"application/json": {"model": model}}
    documented: dict[int, Any] = {status: {"description": description, "content": content or {}}}
    for key, text in errors.items():
        documented[int(key.removeprefix("e"))] = {
            "description": text,
            "content": {"application/json": {"schema": ERROR_BODY}},
        }
    return documented


@app.post(
    "/password/forgot",
    responses=_responses(
        202,
        None,
        "The same answer whether or not the account exists",
        content=EMPTY_OBJECT,
    ),
)
def forgot(request: ForgotRequest) -> Response[dict]:
    password_reset.request_reset(
        request.login, locale=web.request_locale(app), client_ip=web.client_ip(app)
    )
    return Response(202, "application/json", {})


@app.post(
    "/password/reset/verify",
    responses=_responses(
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
    responses=_responses(
        204,
        None,
        "The password is changed; every session is revoked",
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
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
