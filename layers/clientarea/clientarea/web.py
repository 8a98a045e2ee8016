"""The HTTP adapter shared by the API functions (the only module that knows API Gateway).

`create_app()` gives a Powertools REST resolver that answers every failure in the
contract's shape: domain errors mapped once, by class, to `{code, message}` in the
caller's language; validation errors as 422 with `errors`; oversized or non-JSON bodies
as 413/415; AWS throttling or outages as 503 `service_unavailable` with Retry-After;
and anything unexpected as a bare 500 that leaks nothing.

It also answers CORS, for every answer and the preflight alike: with the template's
proxy integrations API Gateway passes a function's headers through unchanged, so a
browser can read an answer only if the function itself says its origin may.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from typing import TYPE_CHECKING, Any, cast
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
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from clientarea import availability, config, locales, snapstart
from clientarea.errors import (
    AWSRefused,
    Conflict,
    DomainError,
    Forbidden,
    IdempotencyKeyReused,
    InternalError,
    NotFound,
    PayloadTooLarge,
    RetryLater,
    ServiceUnavailable,
    UnsupportedMediaType,
    ValidationFailed,
    WeakPassword,
)
from clientarea.roles import STAFF_ROLES
from clientarea.sessions import Principal

if TYPE_CHECKING:
    from re import Match

    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
    )

MAX_BODY_BYTES = 64 * 1024
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Never stored for replay: their responses carry a secret (a session token, a
# recovery case's access key) that the idempotency table would keep in clear.
NOT_REPLAYED = frozenset({("POST", "/auth/login"), ("POST", "/recovery/requests")})
logger = Logger()

# CORS. The allowed origins come from configuration (config.allowed_origins); the rest
# is the contract's: the request headers a page may send, the answer headers it may read.
CORS_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "X-Recovery-Key",
    "Accept-Language",
]
CORS_EXPOSED_HEADERS = ["Retry-After"]
# Every preflight is a Lambda invocation: let browsers reuse one for as long as they
# allow (Chromium caps Access-Control-Max-Age at 2 hours, Firefox at 24).
CORS_MAX_AGE_SECONDS = 7200
# Set per request by _with_cors; a preflight's Access-Control-Allow-Methods is Powertools'.
_CORS_ANSWER_HEADERS = frozenset(
    {
        "access-control-allow-origin",
        "access-control-allow-headers",
        "access-control-expose-headers",
        "access-control-max-age",
        "access-control-allow-credentials",
        "vary",
    }
)


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


def _refuse_body(event: dict[str, Any]) -> type[DomainError] | None:
    """A body too large or not JSON, refused before anything parses it."""
    body = event.get("body")
    if not body:
        return None
    if len(body.encode() if isinstance(body, str) else body) > MAX_BODY_BYTES:
        return PayloadTooLarge
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    content_type = (headers.get("content-type") or "").lower()
    if content_type and not content_type.startswith("application/json"):
        return UnsupportedMediaType
    if _nested_too_deeply(body):
        return ValidationFailed
    return None


def _nested_too_deeply(body: str | bytes) -> bool:
    """True when the JSON nests deeper than the parser's recursion allows: Powertools
    would meet the RecursionError inside validation and answer 500. No request of ours
    nests beyond a few levels, and the body is at most MAX_BODY_BYTES, so parsing it
    once more here is cheap."""
    try:
        json.loads(body)
    except RecursionError:
        return True
    except ValueError:
        return False  # malformed JSON: request validation answers it, with details
    return False


# The one body refusal that is a validation error keeps that error's shape (`errors`).
_REFUSAL_DETAILS = {
    ValidationFailed.code: {
        "errors": [{"loc": ["body"], "msg": "JSON nested too deeply", "type": "json_too_deep"}]
    }
}


def _proxy_error(
    refusal: type[DomainError], event: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    code = refusal.code
    asked = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    authorizer = event.get("requestContext", {}).get("authorizer") or {}
    locale = locales.negotiate(authorizer.get("locale"), asked.get("accept-language"))
    body = {
        "code": code,
        "message": locales.message(code, locale),
        **_REFUSAL_DETAILS.get(code, {}),
    }
    return {
        "statusCode": refusal.status,
        "headers": {"Content-Type": content_types.APPLICATION_JSON, **(headers or {})},
        "multiValueHeaders": {},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def cors_config() -> CORSConfig | None:
    """Powertools' CORS settings for the configured origins; None (no browser may read
    anything) when none are configured. A request from any other origin gets no
    Access-Control-Allow-Origin, so the browser keeps the answer from the page."""
    origins = config.allowed_origins()
    if not origins:
        return None
    return CORSConfig(
        allow_origin=origins[0],
        extra_origins=list(origins[1:]),
        allow_headers=CORS_REQUEST_HEADERS,
        expose_headers=CORS_EXPOSED_HEADERS,
        max_age=CORS_MAX_AGE_SECONDS,
    )


def _with_cors(
    cors: CORSConfig | None, event: dict[str, Any], response: dict[str, Any]
) -> dict[str, Any]:
    """Every answer's CORS headers, decided here once for this request's Origin: also
    on the answers Powertools does not build (the body guard's refusals) and on replays
    of a stored answer, which carry the CORS headers of the request that stored them.
    `Vary: Origin` tells caches that the answer depends on the Origin."""
    single = response.get("headers") or {}
    multi = response.get("multiValueHeaders") or {}
    vary = {"Origin"}
    for headers in (single, multi):
        for name in [n for n in headers if n.lower() in _CORS_ANSWER_HEADERS]:
            value = headers.pop(name)
            if name.lower() == "vary":
                values = value if isinstance(value, list) else [value]
                vary.update(v.strip() for item in values for v in item.split(",") if v.strip())
    added = {"Vary": ", ".join(sorted(vary))}
    if cors is not None:
        asked = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        # No Origin header: None, which Powertools handles (no origin allowed) but types as str.
        origin = cors.allowed_origin(asked.get("origin"))  # type: ignore[arg-type]
        added.update(cors.to_dict(origin))
    if "multiValueHeaders" in response:
        multi.update({name: [value] for name, value in added.items()})
        response["multiValueHeaders"] = multi
    else:
        single.update(added)
        response["headers"] = single
    return response


@cache
def _idempotency() -> tuple[DynamoDBPersistenceLayer, IdempotencyConfig]:
    """One persistence layer per config (Powertools keeps the first config it sees).
    Imported on first use: only write requests with an Idempotency-Key need it, and it
    brings boto3 (~150 ms of a cold start)."""
    from aws_lambda_powertools.utilities.idempotency import (  # noqa: PLC0415
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
    )

    config = IdempotencyConfig(
        # The scope of a key (API.md "Conventions"): the same method on the same concrete
        # path by the same caller; the body must then be the same too (else 422).
        event_key_jmespath="[key, method, path, caller]",
        payload_validation_jmespath="body",
        expires_after_seconds=3600,
        hash_function="sha256",  # the table keeps only these digests, never the inputs
    )
    return DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE"]), config


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
        return _with_cors(self._cors_config, event, self._answer(event, context))

    def _answer(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        if self.staff_only and event.get("httpMethod") != "OPTIONS" and not _is_staff(event):
            # The authorizer already keeps clients off /staff/*; this holds even if a
            # cached policy, a template change or a new route ever let one through.
            # (A CORS preflight carries no session and gets no data: it is answered.)
            return _proxy_error(Forbidden, event)
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        refused = _refuse_body(event)
        if refused is not None:
            return _proxy_error(refused, event)
        key = headers.get("idempotency-key")
        route = (event.get("httpMethod", ""), event.get("resource", ""))
        caller = _caller(event)
        if not key or route[0] not in WRITE_METHODS or route in NOT_REPLAYED or caller is None:
            return super().resolve(event, context)
        return self._resolve_once(event, context, key, caller)

    def _convert_matches_into_route_keys(self, match: Match[str]) -> dict[str, str]:
        """Path parameters decoded once: API Gateway (REST) hands the function the path
        still percent-encoded, so `/tickets/T%2D1` would otherwise reach the route (and
        its length limits) as `T%2D1` rather than `T-1`."""
        return {name: unquote(value) for name, value in match.groupdict().items()}

    def _resolve_once(
        self, event: dict[str, Any], context: Any, key: str, caller: str
    ) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.idempotency import (  # noqa: PLC0415 - see above
            idempotent_function,
        )
        from aws_lambda_powertools.utilities.idempotency.exceptions import (  # noqa: PLC0415
            IdempotencyAlreadyInProgressError,
            IdempotencyPersistenceLayerError,
            IdempotencyValidationError,
        )

        persistence, config = _idempotency()
        config.register_lambda_context(context)
        request = {
            "key": key,
            "method": event.get("httpMethod"),
            # The concrete path (`/tickets/T-1/messages`, not the route's template), as
            # the route will read it: one key on two tickets is two requests.
            "path": unquote(event.get("path") or ""),
            "caller": caller,
            "body": event.get("body") or "",
        }

        # Powertools' idempotent_function and exception_handler are unannotated.
        @idempotent_function(  # type: ignore[untyped-decorator]
            data_keyword_argument="request", persistence_store=persistence, config=config
        )
        def respond(request: dict[str, Any]) -> dict[str, Any]:
            response = APIGatewayRestResolver.resolve(self, event, context)
            if response["statusCode"] >= 500:
                raise _NotStored(response)
            return response

        try:
            return cast("dict[str, Any]", respond(request=request))
        except _NotStored as failed:
            return failed.response
        except IdempotencyValidationError:
            return _proxy_error(IdempotencyKeyReused, event)
        except IdempotencyAlreadyInProgressError:
            return _proxy_error(Conflict, event)
        except IdempotencyPersistenceLayerError:  # the idempotency table is throttled or down
            retry = {"Retry-After": str(availability.RETRY_AFTER_SECONDS)}
            return _proxy_error(ServiceUnavailable, event, retry)


def _caller(event: dict[str, Any]) -> str | None:
    """Who sends the request, as far as a replay is concerned: the session (the digest
    of its secret, as the authorizer hands it on), else the SHA-256 of the recovery
    access key the request carries, else nobody in particular. A reused key replays
    only to the caller who first used it, and nothing stored can open anything.
    None (never replayed: the request acts afresh) for a signed-in request whose
    session cannot be told apart."""
    authorizer = event.get("requestContext", {}).get("authorizer") or {}
    if authorizer.get("session"):
        return f"session:{authorizer['session']}"
    if authorizer.get("principalId") or authorizer.get("client_number"):
        return None
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    access_key = headers.get("x-recovery-key")
    if access_key:
        return "recovery:" + hashlib.sha256(access_key.encode()).hexdigest()
    return "anonymous"


class _NotStored(Exception):
    """A 5xx answer is never kept for replay: the client's retry with the same key must
    act, not get the old failure back for an hour. Raising makes Powertools drop the
    in-progress record."""

    def __init__(self, response: dict[str, Any]) -> None:
        super().__init__(response["statusCode"])
        self.response = response


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
    app = ClientareaResolver(enable_validation=True, cors=cors_config(), staff_only=staff_only)

    @app.exception_handler(DomainError)  # type: ignore[untyped-decorator]
    def _domain_error(exc: DomainError) -> Response[Any]:
        return _domain_answer(app, exc)

    # AWS errors of the modules whose storage is not yet translated (clientarea.storage:
    # tickets, recovery, cession, and the mail queue's SQS calls); goes with them.
    @app.exception_handler([PynamoDBException, ClientError, BotoCoreError])  # type: ignore[untyped-decorator]
    def _aws_error(exc: Exception) -> Response[Any]:
        """A DynamoDB (or other AWS) call that failed outright: throttled or down is 503,
        anything else is a bug (500), and a refused permission is reported as what it is.
        Nothing was written by the failed call itself."""
        if not availability.is_transient(exc):
            return _refused_for_good(app, exc)
        unavailable = ServiceUnavailable(availability.RETRY_AFTER_SECONDS)
        unavailable.__cause__ = exc  # logged by its type
        return cast("Response[Any]", _domain_error(unavailable))

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
