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
