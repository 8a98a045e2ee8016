"""Generate docs/openapi.json from the HTTP functions' Powertools resolvers.

`python -m infra.openapi` writes the file; `--check` fails when the committed file
differs from a fresh generation. Model names must be unique across functions: two
different models with one name would silently overwrite each other, so that fails too.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from infra.local.deployment import preset_table_environment
from infra.local.gateway import load_module
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
    _document_gateway_responses(document, stack)
    _add_links(document)
    return document


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


def _mark_authorization(document: dict[str, Any], stack: Any) -> None:
    """Routes behind the session authorizer declare the bearer scheme (from the template)."""
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


# The contract's error body (API.md, "Conventions"): validation errors add `errors`,
# weak_password adds `reason`. It replaces Powertools' FastAPI-style HTTPValidationError
# (`{"detail": [...]}`), which is not what the resolver answers (clientarea.web).
ERROR_SCHEMA = {
    "type": "object",
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
ERROR_REF = {"$ref": "#/components/schemas/Error"}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}
# Answers that API Gateway, the authorizer or the resolver's guards give before (or
# around) a route's own code, so that no handler declares them.
AUTHORIZER_401 = "unauthorized: no valid session (missing, unknown, expired or revoked)"
AUTHORIZER_403 = "forbidden: a client session on a /staff/... route, or a staff one elsewhere"
BODY_413 = "payload_too_large: the body is over 64 KiB"
BODY_415 = "unsupported_media_type: the body is not application/json"
THROTTLED = "rate_limited: too many requests (API Gateway's or the route's own limit)"


def _error_response(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": ERROR_REF}},
    }
    if headers:
        response["headers"] = headers
    return response


def _document_gateway_responses(document: dict[str, Any], stack: Any) -> None:
    """Responses every route can give whatever its handler does: the authorizer's 401 and
    403 (functions/authorizer: clients get everything but /staff/..., staff only /staff/...,
    both POST /auth/logout), the body guard's 413 and 415 (clientarea.web), the stage's
    throttling 429 with Retry-After (template.yaml), and 422 in the contract's shape."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas["Error"] = ERROR_SCHEMA
    schemas["ValidationError"] = VALIDATION_ERROR_SCHEMA
    authorized = {(r.path, r.method.lower()) for r in stack.routes() if r.authorized}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            validation = responses.get("422", {}).get("content", {}).get("application/json", {})
            if validation.get("schema") == {"$ref": "#/components/schemas/HTTPValidationError"}:
                validation["schema"] = ERROR_REF
            if (path, method) in authorized:
                responses.setdefault("401", _error_response(AUTHORIZER_401))
                if (path, method) != ("/auth/logout", "post"):
                    responses.setdefault("403", _error_response(AUTHORIZER_403))
            if "requestBody" in operation:
                responses.setdefault("413", _error_response(BODY_413))
                responses.setdefault("415", _error_response(BODY_415))
            responses.setdefault("429", _error_response(THROTTLED))
            responses["429"]["headers"] = RETRY_AFTER


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
    ("post", "/account/authorised-emails", "201"): [
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
    parser.add_argument("--check", action="store_true", help="fail if docs/openapi.json is stale")
    args = parser.parse_args()
    text = render(generate())
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print("docs/openapi.json is out of date: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
