"""Generate docs/openapi.json from the HTTP functions' Powertools resolvers.

`python -m infra.openapi` writes the file; `--check` fails when the committed file
differs from a fresh generation, or when it disagrees with the HTTP contract
(../shared/API.md, compared by infra/api_contract.py). Model names must be unique across
functions: two different models with one name would silently overwrite each other, so
that fails too.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from functools import cache
from typing import Any

from clientarea import errors
from clientarea.replay import NOT_REPLAYED, WRITE_METHODS
from clientarea.schema.routes import add_error
from clientarea.sessions import Principal

from infra import api_contract
from infra.local.deployment import preset_table_environment
from infra.local.gateway import LocalApi
from infra.local.lambdas import load_module
from infra.local.stack import ROOT, load

OUTPUT = ROOT / "docs" / "openapi.json"
TITLE = "clientarea API"


def generate() -> dict[str, Any]:
    preset_table_environment()
    stack = load()
    http_functions = sorted({route.function for route in stack.routes()})
    document: dict[str, Any] = {}
    for logical_id in http_functions:
        app = load_module(stack.functions()[logical_id]).app
        part = json.loads(app.get_openapi_json_schema(title=TITLE, version="0.1.0"))
        document = _merge(document, part)
    _mark_authorization(document, stack)
    _document_gateway_responses(document)
    _declare_headers(document)
    _check_operations(document)
    _add_links(document)
    document["info"]["description"] = DESCRIPTION
    return document


# What no operation can say: the answers to requests the API has no operation for, and
# CORS (template.yaml's GatewayResponses and OPTIONS routes, clientarea.web).
DESCRIPTION = (
    "A path or a method the API does not have is answered 404 "
    '`{"code": "not_found"}` by API Gateway (its MISSING_AUTHENTICATION_TOKEN response): '
    "there is no 405 and no `Allow` header. Every path answers a CORS preflight "
    "(OPTIONS, no session) for the origins the stack allows (its AllowedOrigins); those "
    "origins can read every answer of the functions, `Retry-After` included. API "
    "Gateway's own refusals (401 without a valid session, 403, 404 above, its 429 and "
    "5xx) carry one fixed origin, the first allowed one."
)


def _merge(document: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    if not document:
        return part
    for path, operations in part.get("paths", {}).items():
        document.setdefault("paths", {}).setdefault(path, {}).update(operations)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in part.get("components", {}).get("schemas", {}).items():
        if name in schemas and schemas[name] != schema:
            raise SystemExit(f"model name {name!r} means two different things; rename one")
        schemas[name] = schema
    return document


# The roles whose sessions the authorizer's policy may deny a route to (API Gateway's
# own refusal, the template's GatewayResponses, before any function runs).
ROLES = ("client", "support")


def _mark_authorization(document: dict[str, Any], stack: Any) -> None:
    """Routes behind the session authorizer declare the bearer scheme (from the template),
    its 401, and the 403 of its policy where a role is denied the route."""
    document.setdefault("components", {})["securitySchemes"] = {
        "session": {
            "type": "http",
            "scheme": "bearer",
            "description": "POST /auth/login's session_token",
        }
    }
    for route in stack.routes():
        operation = document["paths"].get(route.path, {}).get(route.method.lower())
        if operation is not None and route.authorized:
            operation["security"] = [{"session": []}]
            _document_error(operation, errors.Unauthorized)
            if _denied_roles(stack, route):
                _document_error(operation, errors.Forbidden)


def _document_error(
    operation: dict[str, Any],
    error: type[errors.DomainError],
    headers: dict[str, Any] | None = None,
) -> None:
    """The operation can also answer `error` (its class says its status and code)."""
    response = add_error(
        operation.setdefault("responses", {}).setdefault(str(error.status), {}), error
    )
    if headers:
        response["headers"] = headers


@cache
def _authorizer_module() -> Any:
    return load_module(load().functions()["AuthorizerFunction"])


def _denied_roles(stack: Any, route: Any) -> list[str]:
    """The roles the authorizer's policy refuses this route to."""
    authorizer = _authorizer_module()
    arn = f"arn:aws:execute-api:eu-central-1:123456789012:api/stage/{route.method}{route.path}"
    denied = []
    for role in ROLES:
        principal = Principal(client_number=1, role=role, locale="en", session_digest="-")
        if not LocalApi._allows(authorizer.policy(principal, arn)["policyDocument"], arn):
            denied.append(role)
    return denied


# The contract's error body (API.md, "Conventions"): validation errors add `errors`,
# weak_password adds `reason`. It replaces Powertools' FastAPI-style HTTPValidationError
# (`{"detail": [...]}`), which is not what the resolver answers (clientarea.web).
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error answer. Each operation's answers list the codes each status "
    "can carry (their descriptions and examples).",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}},
        "reason": {"type": "string"},
    },
    "title": "Error",
}
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "required": ["loc", "msg", "type"],
    "properties": {
        "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        "msg": {"type": "string"},
        "type": {"type": "string"},
    },
    "title": "ValidationError",
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}


def _document_gateway_responses(document: dict[str, Any]) -> None:
    """Responses every route can give whatever its handler does: request validation's
    422 in the contract's shape, the body guard's 413 and 415 (clientarea.web), the
    stage's throttling 429 and AWS throttling or outage 503, both with Retry-After
    (template.yaml, clientarea.availability), and the replay guard's 409 and 422 on the
    write routes that take an Idempotency-Key."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ResponseValidationError"):
        schemas.pop(unused, None)
    schemas["Error"] = ERROR_SCHEMA
    schemas["ValidationError"] = VALIDATION_ERROR_SCHEMA
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            validation = responses.get("422", {}).get("content", {}).get("application/json", {})
            if validation.get("schema") == {"$ref": "#/components/schemas/HTTPValidationError"}:
                del responses["422"]  # Powertools' own: the contract's shape follows
            # Any request (a body sent where none is read included) is validated first.
            _document_error(operation, errors.ValidationFailed)
            if "requestBody" in operation:
                _document_error(operation, errors.PayloadTooLarge)
                _document_error(operation, errors.UnsupportedMediaType)
            if _replayable(method, path):
                _document_error(operation, errors.Conflict)
                _document_error(operation, errors.IdempotencyKeyReused)
            _document_error(operation, errors.RateLimited, RETRY_AFTER)
            _document_error(operation, errors.ServiceUnavailable, RETRY_AFTER)


def _replayable(method: str, path: str) -> bool:
    """A write request that an Idempotency-Key makes safe to retry (clientarea.web)."""
    return method.upper() in WRITE_METHODS and (method.upper(), path) not in NOT_REPLAYED


# The request headers the document declares (API.md, "Conventions"), once each.
PARAMETERS = {
    "AcceptLanguage": {
        "name": "Accept-Language",
        "in": "header",
        "required": False,
        "description": "The language of error messages (and of the mails and texts of a "
        "request without a session); a session's own language wins over it",
        "schema": {"type": "string"},
    },
    "IdempotencyKey": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "A retry with the same key, method, path, caller and body within an "
        "hour gets the first answer again instead of acting twice (a 5xx is never kept)",
        "schema": {"type": "string"},
    },
}


def _declare_headers(document: dict[str, Any]) -> None:
    """Accept-Language on every operation; Idempotency-Key on the write routes it guards."""
    document["components"]["parameters"] = PARAMETERS
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            wanted = ["AcceptLanguage"] + (["IdempotencyKey"] if _replayable(method, path) else [])
            parameters = operation.setdefault("parameters", [])
            parameters += [{"$ref": f"#/components/parameters/{name}"} for name in wanted]


def _check_operations(document: dict[str, Any]) -> None:
    """Each operation has an explicit camelCase operationId of its own, and a tag (its
    flow); the document lists the tags."""
    seen: dict[str, str] = {}
    tags: set[str] = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            name = f"{method.upper()} {path}"
            operation_id = operation.get("operationId", "")
            if not re.fullmatch(r"[a-z][A-Za-z0-9]*", operation_id) or operation_id in seen:
                raise SystemExit(f"{name}: operationId {operation_id!r} not camelCase or unique")
            if not operation.get("tags"):
                raise SystemExit(f"{name}: no tag (the flow it belongs to)")
            seen[operation_id] = name
            tags.update(operation["tags"])
    document["tags"] = [{"name": tag} for tag in sorted(tags)]


# OpenAPI links: where a response's values are the next request's parameters, so that
# clients (and schemathesis' stateful tests) can follow a flow: open a ticket then read,
# answer and close it (staff too), ask for a cession then read, activate, re-send or
# cancel the order, open a recovery case then follow and submit it.
# (source method, path, status) -> [(target method, path, {parameter: expression})]
TICKET = "$response.body#/number"
FIRST_TICKET = "$response.body#/0/number"
ORDER = "$response.body#/order_id"
FIRST_CASE = "$response.body#/0/reference"
CASE = {"reference": "$response.body#/reference", "x-recovery-key": "$response.body#/access_key"}
STAFF_TICKET_ROUTES = [
    ("get", "/staff/tickets/{number}"),
    ("post", "/staff/tickets/{number}/messages"),
]
CLIENT_TICKET_ROUTES = [
    ("get", "/tickets/{number}"),
    ("post", "/tickets/{number}/messages"),
    ("post", "/tickets/{number}/close"),
]
ORDER_ROUTES = [
    ("get", "/orders/{order_id}"),
    ("post", "/orders/{order_id}/activate"),
    ("post", "/orders/{order_id}/resend"),
    ("post", "/orders/{order_id}/cancel"),
]
LINKS: dict[tuple[str, str, str], list[tuple[str, str, dict[str, str]]]] = {
    ("post", "/tickets", "201"): [
        (m, p, {"number": TICKET}) for m, p in CLIENT_TICKET_ROUTES + STAFF_TICKET_ROUTES
    ],
    ("get", "/tickets", "200"): [(m, p, {"number": FIRST_TICKET}) for m, p in CLIENT_TICKET_ROUTES],
    ("post", "/support/access-requests", "201"): [
        (m, p, {"number": TICKET}) for m, p in STAFF_TICKET_ROUTES
    ],
    ("post", "/support/sales-questions", "201"): [
        (m, p, {"number": TICKET}) for m, p in STAFF_TICKET_ROUTES
    ],
    ("get", "/staff/tickets", "200"): [
        (m, p, {"number": FIRST_TICKET}) for m, p in STAFF_TICKET_ROUTES
    ],
    ("get", "/services", "200"): [
        ("post", "/services/{service_id}/cession", {"service_id": "$response.body#/0/service_id"})
    ],
    ("post", "/services/{service_id}/cession", "201"): [
        (m, p, {"order_id": ORDER}) for m, p in ORDER_ROUTES
    ],
    ("get", "/orders", "200"): [
        (m, p, {"order_id": "$response.body#/0/order_id"}) for m, p in ORDER_ROUTES
    ],
    ("post", "/account/authorised-emails", "202"): [
        ("delete", "/account/authorised-emails/{email}", {"email": "$response.body#/email"})
    ],
    ("post", "/recovery/requests", "201"): [
        ("get", "/recovery/requests/{reference}", CASE),
        ("get", "/recovery/requests/{reference}/application", CASE),
        ("post", "/recovery/requests/{reference}/submit", CASE),
        ("get", "/staff/recovery-requests/{reference}", {"reference": CASE["reference"]}),
        (
            "post",
            "/staff/recovery-requests/{reference}/decision",
            {"reference": CASE["reference"]},
        ),
    ],
    ("get", "/staff/recovery-requests", "200"): [
        ("get", "/staff/recovery-requests/{reference}", {"reference": FIRST_CASE})
    ],
}


def _add_links(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for (method, path, status), targets in LINKS.items():
        response = paths[path][method]["responses"][status]
        links = response.setdefault("links", {})
        for target_method, target_path, parameters in targets:
            target = paths[target_path][target_method]
            links[target["operationId"]] = {
                "operationId": target["operationId"],
                "parameters": parameters,
            }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--check",
        action="store_true",
        help="fail if docs/openapi.json is stale or disagrees with ../shared/API.md",
    )
    args = parser.parse_args()
    document = generate()
    text = render(document)
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print("docs/openapi.json is out of date: run `make openapi`", file=sys.stderr)
            return 1
        return api_contract.main(document)
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
