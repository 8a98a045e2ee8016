"""CORS, answered by the functions themselves: with the template's proxy integrations
API Gateway passes a function's headers through unchanged, so a browser can read an
answer only if the function itself says its origin may (clientarea.web calls this for
every answer and the preflight alike)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import CORSConfig

from clientarea import config

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
# Set per request by with_cors; a preflight's Access-Control-Allow-Methods is Powertools'.
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


def with_cors(
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
