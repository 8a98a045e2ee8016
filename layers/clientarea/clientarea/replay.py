"""Replay of write requests that carry an `Idempotency-Key` (API.md "Conventions"),
with Powertools' idempotency utility, imported on first use: only such requests need
it, and it brings boto3."""

from __future__ import annotations

import hashlib
import os
from functools import cache
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from clientarea import availability, refusals
from clientarea.errors import Conflict, IdempotencyKeyReused, ServiceUnavailable

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
    )

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Never stored for replay: their responses carry a secret (a session token, a
# recovery case's access key) that the idempotency table would keep in clear.
NOT_REPLAYED = frozenset({("POST", "/auth/login"), ("POST", "/recovery/requests")})


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


def resolve_once(
    resolver: APIGatewayRestResolver,
    event: dict[str, Any],
    context: Any,
    key: str,
    caller: str,
) -> dict[str, Any]:
    """Resolve a write request with an Idempotency-Key once: a repeat by the same
    caller with the same body gets the stored answer (the scope: `caller`)."""
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
        response = APIGatewayRestResolver.resolve(resolver, event, context)
        if response["statusCode"] >= 500:
            raise _NotStored(response)
        return response

    try:
        return cast("dict[str, Any]", respond(request=request))
    except _NotStored as failed:
        return failed.response
    except IdempotencyValidationError:
        return refusals.answer(IdempotencyKeyReused, event)
    except IdempotencyAlreadyInProgressError:
        return refusals.answer(Conflict, event)
    except IdempotencyPersistenceLayerError:  # the idempotency table is throttled or down
        retry = {"Retry-After": str(availability.RETRY_AFTER_SECONDS)}
        return refusals.answer(ServiceUnavailable, event, retry)


def caller(event: dict[str, Any]) -> str | None:
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
