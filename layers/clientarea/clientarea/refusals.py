"""What the HTTP adapter refuses before anything parses a request (a body too large,
not JSON, or nested too deeply), and the Lambda proxy answer it gives for those and its
other own refusals, in the contract's error shape and the caller's language."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import content_types

from clientarea import locales
from clientarea.errors import DomainError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

MAX_BODY_BYTES = 64 * 1024


def refuse_body(event: dict[str, Any]) -> type[DomainError] | None:
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


def answer(
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
