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
import sys
from typing import Any

from clientarea.sessions import Principal

from infra import api_contract
from infra.local.deployment import preset_table_environment
from infra.local.gateway import LocalApi, load_module
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


# API Gateway's own refusals (the template's GatewayResponses), before any function runs.
GATEWAY_ERROR_BODY = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
}
UNAUTHORIZED = "unauthorized: no session, or an unknown, expired or revoked one"
FORBIDDEN = {  # the authorizer's policy, per role it denies the route to
    "client": "forbidden: a client session (staff routes are for staff only)",
    "support": "forbidden: a staff session (client routes are for clients only)",
}


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
            _document_refusal(operation, 401, UNAUTHORIZED)
            for role in _denied_roles(stack, route):
                _document_refusal(operation, 403, FORBIDDEN[role])


def _document_refusal(operation: dict[str, Any], status: int, description: str) -> None:
    """Add the gateway's refusal; a handler's own answer with that status keeps its text."""
    responses = operation.setdefault("responses", {})
    own = responses.get(str(status))
    if own is None:
        responses[str(status)] = {
            "description": description,
            "content": {"application/json": {"schema": GATEWAY_ERROR_BODY}},
        }
    elif description not in own.get("description", ""):
        own["description"] = f"{description}; or {own.get('description', '')}"


def _denied_roles(stack: Any, route: Any) -> list[str]:
    """The roles the authorizer's policy refuses this route to."""
    authorizer = load_module(stack.functions()["AuthorizerFunction"])
    arn = f"arn:aws:execute-api:eu-central-1:123456789012:api/stage/{route.method}{route.path}"
    denied = []
    for role in FORBIDDEN:
        principal = Principal(client_number=1, role=role, locale="en", session_digest="-")
        if not LocalApi._allows(authorizer.policy(principal, arn)["policyDocument"], arn):
            denied.append(role)
    return denied


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
