"""The HTTP adapter shared by the API functions (the only module that knows API Gateway).

`create_app()` gives a Powertools REST resolver that answers every failure in the
contract's shape: domain errors mapped once, by class, to `{code, message}` in the
caller's language; validation errors as 422 with `errors`; oversized or non-JSON bodies
as 413/415; and anything unexpected as a bare 500 that leaks nothing. AWS's own errors
never reach it: the code that makes each call translates them (`availability.translated`)
into ServiceUnavailable (503 with Retry-After) or AWSRefused (500; IAM's refusals reported
as such).

It also answers CORS, for every answer and the preflight alike: with the template's
proxy integrations API Gateway passes a function's headers through unchanged, so a
browser can read an answer only if the function itself says its origin may.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import (
    APIGatewayRestResolver,
    CORSConfig,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths

from clientarea import availability, cors, locales, refusals, replay, snapstart
from clientarea.errors import (
    AWSRefused,
    DomainError,
    Forbidden,
    InternalError,
    NotFound,
    RetryLater,
    ServiceUnavailable,
    ValidationFailed,
    WeakPassword,
)
from clientarea.roles import STAFF_ROLES
from clientarea.sessions import Principal

if TYPE_CHECKING:
    from collections.abc import Callable
    from re import Match

    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.utilities.typing import LambdaContext


logger = Logger()


def error(status: int, code: str, message: str, **extra: Any) -> Response[Any]:
    headers = extra.pop("headers", None)
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"code": code, "message": message, **extra},
        headers=headers,
    )


def _answer_with(refusal: type[DomainError], locale: str, **extra: Any) -> Response[Any]:
    """The answer of an error class raised by nothing (the adapter's own refusals)."""
    return error(refusal.status, refusal.code, locales.message(refusal.code, locale), **extra)


def principal(app: APIGatewayRestResolver) -> Principal:
    """The caller the authorizer let through (its context values arrive as strings)."""
    context = app.current_event.raw_event.get("requestContext", {}).get("authorizer") or {}
    return Principal(
        client_number=int(context["client_number"]),
        role=str(context["role"]),
        locale=str(context.get("locale") or locales.DEFAULT),
        session_digest=str(context["session"]),
    )


def client_ip(app: APIGatewayRestResolver) -> str:
    identity = app.current_event.raw_event.get("requestContext", {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


def request_locale(app: APIGatewayRestResolver) -> str:
    """The account's language when a session says it, else Accept-Language, else en."""
    context = app.current_event.raw_event.get("requestContext", {}).get("authorizer") or {}
    return locales.negotiate(
        context.get("locale"), app.current_event.headers.get("accept-language")
    )


class ClientareaResolver(APIGatewayRestResolver):
    """Powertools' REST resolver with three things in front of request validation
    (Powertools always runs validation first, so a middleware would come too late):
    a staff function's own role check, the body guard, and replay of write requests
    that carry an `Idempotency-Key`."""

    def __init__(
        self, cors: CORSConfig | None = None, *, staff_only: bool = False, **options: Any
    ) -> None:
        super().__init__(cors=cors, **options)
        self._cors_config = cors
        self.staff_only = staff_only

    # A Lambda event is a dict (Powertools types it as any Mapping).
    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:  # type: ignore[override]
        return cors.with_cors(self._cors_config, event, self._answer(event, context))

    def _answer(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        if self.staff_only and event.get("httpMethod") != "OPTIONS" and not _is_staff(event):
            # The authorizer already keeps clients off /staff/*; this holds even if a
            # cached policy, a template change or a new route ever let one through.
            # (A CORS preflight carries no session and gets no data: it is answered.)
            return refusals.answer(Forbidden, event)
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        refused = refusals.refuse_body(event)
        if refused is not None:
            return refusals.answer(refused, event)
        key = headers.get("idempotency-key")
        route = (event.get("httpMethod", ""), event.get("resource", ""))
        caller = replay.caller(event)
        not_replayed = route[0] not in replay.WRITE_METHODS or route in replay.NOT_REPLAYED
        if not key or not_replayed or caller is None:
            return super().resolve(event, context)
        return replay.resolve_once(self, event, context, key, caller)

    def _convert_matches_into_route_keys(self, match: Match[str]) -> dict[str, str]:
        """Path parameters decoded once: API Gateway (REST) hands the function the path
        still percent-encoded, so `/tickets/T%2D1` would otherwise reach the route (and
        its length limits) as `T%2D1` rather than `T-1`."""
        return {name: unquote(value) for name, value in match.groupdict().items()}


def _refused_for_good(app: ClientareaResolver, exc: Exception) -> Response[Any]:
    """An AWS call that will fail again however often it is tried: a permission the
    function's role lacks (reported as such, for its alarm) or a bug. 500 either way."""
    if availability.is_access_denied(exc):
        availability.report_access_denied(exc, logger)
    else:
        logger.exception("unhandled error", extra={"error_type": type(exc).__name__})
    return _answer_with(InternalError, request_locale(app))


def _is_staff(event: dict[str, Any]) -> bool:
    authorizer = event.get("requestContext", {}).get("authorizer") or {}
    return str(authorizer.get("role") or "") in STAFF_ROLES


def _domain_answer(app: ClientareaResolver, exc: DomainError) -> Response[Any]:
    """The answer to a domain error: its status, code and message in the caller's locale."""
    if isinstance(exc, AWSRefused):  # translated by a storage module
        return _refused_for_good(app, exc)
    locale = request_locale(app)
    extra: dict[str, Any] = {}
    if isinstance(exc, WeakPassword):
        extra["reason"] = exc.reason
        message = locales.weak_password_reason(exc.reason, locale)
    else:
        message = locales.message(exc.message_key or exc.code, locale, **exc.params)
    if isinstance(exc, RetryLater):
        extra["headers"] = {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, ServiceUnavailable):
        logger.warning("AWS throttled or failed", extra={"cause": type(exc.__cause__).__name__})
    return error(exc.status, exc.code, message, **extra)


def create_app(*, staff_only: bool = False) -> ClientareaResolver:
    """The resolver every API function uses; `staff_only` for the functions that serve
    /staff/* alone: any caller whose role (from the authorizer) is not staff gets 403."""
    snapstart.register()
    app = ClientareaResolver(enable_validation=True, cors=cors.cors_config(), staff_only=staff_only)

    @app.exception_handler(DomainError)  # type: ignore[untyped-decorator]
    def _domain_error(exc: DomainError) -> Response[Any]:
        return _domain_answer(app, exc)

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def _validation_error(exc: RequestValidationError) -> Response[Any]:
        errors = [
            {
                "loc": list(item.get("loc", ())),
                "msg": str(item.get("msg") or item.get("type", "invalid")),
                "type": str(item.get("type", "value_error")),
            }
            for item in exc.errors()
        ]
        locale = request_locale(app)
        return _answer_with(ValidationFailed, locale, errors=errors)

    @app.not_found
    def _not_found(_exc: NotFoundError) -> Response[Any]:
        return _answer_with(NotFound, request_locale(app))

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def _unexpected(exc: Exception) -> Response[Any]:
        logger.exception("unhandled error", extra={"error_type": type(exc).__name__})
        return _answer_with(InternalError, request_locale(app))

    return app


def entry_point(
    app: APIGatewayRestResolver, logger: Logger, metrics: Metrics
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """An API function's `lambda_handler`: its log lines carry the API request id, and
    the counts its request made are published when it answers (clientarea.telemetry)."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return lambda_handler
