"""Compare the OpenAPI document with the HTTP contract, ../shared/API.md.

The contract's tables name each route as `` `METHOD /path` `` (several to a cell,
separated by ` / `; a `?query=` suffix is not part of the path), its success status at
the start of the "success" column, and in the "notes" column the errors it promises:
`` `410 token_invalid` `` (a status and its error code) or a bare "404 for ...". Its
conventions add 403 on every `/staff/...` route. The document must have every route
with those statuses, each error code in the description of its status; it must not
have routes the contract lacks (bar EXTRA_ROUTES); and every operation documents its
errors: some 4xx, 401 when it takes a session, 422 when it takes a body or parameters.

`python -m infra.api_contract` compares docs/openapi.json as committed;
`python -m infra.openapi --check` compares a fresh generation after its staleness check.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT.parent / "shared" / "API.md"
DOCUMENT = ROOT / "docs" / "openapi.json"

# Routes the code serves beyond the contract (API.md: "add fields and routes freely"),
# each with why. A route missing from both the contract and this list fails the check.
EXTRA_ROUTES = {
    ("GET", "/staff/me"): "the staff frontend's who-am-I (login and role)",
    ("GET", "/recovery/requests/{reference}/application"): (
        "the pre-filled application (DOCX) behind GET /recovery/requirements' template URL"
    ),
    ("GET", "/recovery/templates/{applicant_type}"): (
        "the blank application (DOCX) GET /recovery/requirements links to"
    ),
}
# Served by the local dev server only, never deployed, so never in the document.
LOCAL_ONLY_PREFIX = "/_dev/"
# API.md's conventions: "A client's session on a /staff/... route gets 403".
STAFF_PREFIX = "/staff/"

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ROUTE = re.compile(r"`(" + "|".join(METHODS) + r") (/[^`\s?]*)(?:\?[^`]*)?`")
SUCCESS = re.compile(r"^\s*([1-5]\d\d)\b")
STATUS_AND_CODE = re.compile(r"`([1-5]\d\d) ([a-z][a-z0-9_]*)`")
ERROR_STATUS = re.compile(r"(?<![\w.-])([45]\d\d)(?![\w.-])")
CELL_SEPARATOR = re.compile(r"(?<!\\)\|")


@dataclass
class ContractRoute:
    method: str
    path: str
    success: int | None = None
    errors: set[int] = field(default_factory=set)
    codes: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in CELL_SEPARATOR.split(line.strip().strip("|"))]


def parse(text: str) -> dict[tuple[str, str], ContractRoute]:
    """Every route in the contract's tables, with the statuses and codes it promises."""
    routes: dict[tuple[str, str], ContractRoute] = {}
    header: list[str] | None = None
    for line in text.splitlines():
        if not line.lstrip().startswith("|"):
            header = None  # a table ends at its first non-row line
            continue
        cells = _cells(line)
        if header is None:
            header = [cell.lower() for cell in cells]
            continue
        if all(re.fullmatch(r":?-+:?", cell) for cell in cells):
            continue
        row = dict(zip(header, cells, strict=False))
        for method, path in ROUTE.findall(row.get("route", "")):
            route = routes.setdefault((method, path), ContractRoute(method, path))
            success = SUCCESS.match(row.get("success", ""))
            if success:
                route.success = int(success.group(1))
            notes = row.get("notes", "")
            for status, code in STATUS_AND_CODE.findall(notes):
                route.codes[code] = int(status)
            route.errors |= {int(status) for status in ERROR_STATUS.findall(notes)}
            if path.startswith(STAFF_PREFIX):
                route.errors.add(403)
    return routes


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, operations in document.get("paths", {}).items()
        for method, operation in operations.items()
        if method.upper() in METHODS
    }


def disagreements(document: dict[str, Any], contract_text: str) -> list[str]:
    """Every way the document falls short of the contract; empty when they agree."""
    contract = parse(contract_text)
    operations = _operations(document)
    problems = []
    for key, route in sorted(contract.items()):
        operation = operations.get(key)
        if operation is not None:
            problems += [f"{route}: {problem}" for problem in _unkept_promises(route, operation)]
        elif not route.path.startswith(LOCAL_ONLY_PREFIX):
            problems.append(f"{route}: in API.md, missing from the document")
    for key, operation in sorted(operations.items()):
        name = f"{key[0]} {key[1]}"
        if key not in contract and key not in EXTRA_ROUTES:
            problems.append(f"{name}: in the document, not in API.md (nor in EXTRA_ROUTES)")
        problems += [f"{name}: {problem}" for problem in _undocumented_errors(operation)]
    return problems


def _unkept_promises(route: ContractRoute, operation: dict[str, Any]) -> list[str]:
    """What API.md says of this route that the operation does not document."""
    responses = operation.get("responses", {})
    problems = []
    if route.success is not None and str(route.success) not in responses:
        problems.append(f"success {route.success} (API.md) is not documented")
    for status in sorted(route.errors | set(route.codes.values())):
        if str(status) not in responses:
            problems.append(f"{status} (API.md) is not documented")
    for code, status in sorted(route.codes.items()):
        description = responses.get(str(status), {}).get("description", "")
        if str(status) in responses and not re.search(rf"\b{code}\b", description):
            problems.append(f"error code {code} is not in its {status}'s description")
    return problems


def _undocumented_errors(operation: dict[str, Any]) -> list[str]:
    statuses = set(operation.get("responses", {}))
    problems = []
    if not any(status.startswith("4") for status in statuses):
        problems.append("documents no 4xx error")
    if operation.get("security") and "401" not in statuses:
        problems.append("takes a session but does not document 401")
    # The shared headers (components/parameters: Accept-Language, Idempotency-Key) are
    # optional and never refused; an operation's own parameters are validated.
    own_parameters = [p for p in operation.get("parameters", []) if "$ref" not in p]
    takes_input = operation.get("requestBody") or own_parameters
    if takes_input and "422" not in statuses:
        problems.append("takes a body or parameters but does not document 422")
    return problems


def main(document: dict[str, Any] | None = None) -> int:
    if not CONTRACT.exists():
        print(f"API contract not found at {CONTRACT}", file=sys.stderr)
        return 1
    if document is None:
        document = json.loads(DOCUMENT.read_text())
    problems = disagreements(document, CONTRACT.read_text())
    for problem in problems:
        print(f"openapi vs API.md: {problem}", file=sys.stderr)
    if problems:
        print(f"docs/openapi.json disagrees with API.md: {len(problems)} problems", file=sys.stderr)
        return 1
    routes = parse(CONTRACT.read_text())
    deployed = [key for key in routes if not key[1].startswith(LOCAL_ONLY_PREFIX)]
    print(
        f"docs/openapi.json agrees with API.md: {len(deployed)} routes"
        f" (and {len(routes) - len(deployed)} local-only /_dev routes, not deployed)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
