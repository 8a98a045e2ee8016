"""Every request a function makes on the Accounts table, checked against that function's
Accounts statements in template.yaml as IAM would check it: the action, and the
fine-grained conditions (`dynamodb:Attributes`, `dynamodb:Select`,
`dynamodb:ReturnValues`; AWS: "Using IAM policy conditions for fine-grained access
control").

Moto enforces no IAM: without this, a read that forgets its projection would pass every
local test and be refused on AWS (or, with a looser policy, read a password hash).
tests/conftest.py installs it for every in-process deployment; a request no statement
allows fails the test that made it. It knows which function runs from
`infra.local.lambdas.running_function()` (the local Lambda's execution environment on
the calling thread; the dev server's functions, in their own process, are not checked)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import cache
from typing import Any

from infra.local.moto_fixes import projected_names
from infra.local.stack import load, physical_name

ACCOUNTS = "AccountsTable"
_PLACEHOLDER = re.compile(r"(?<![.\w#])#\w+")  # a path's first name (not after a dot)
_KNOWN_CONDITIONS = {
    ("ForAllValues:StringEquals", "dynamodb:Attributes"),
    ("StringEqualsIfExists", "dynamodb:Select"),
    ("StringEqualsIfExists", "dynamodb:ReturnValues"),
    ("ForAllValues:StringLike", "dynamodb:LeadingKeys"),
}


@cache
def accounts_statements(logical_id: str) -> tuple[dict[str, Any], ...]:
    """The function's (or state machine's) statements on the Accounts table itself."""
    resource = load().resources[logical_id]
    statements = [
        statement
        for policy in resource["Properties"].get("Policies", [])
        if isinstance(policy, dict)
        for statement in policy.get("Statement", [])
    ]
    return tuple(
        statement
        for statement in statements
        if any(
            ACCOUNTS in json.dumps(r) and "/index/" not in json.dumps(r)
            for r in _as_list(statement["Resource"])
        )
    )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def item_requests(operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(IAM action, item-level parameters) for each part of a request on the Accounts table."""
    table = physical_name(ACCOUNTS)
    if operation in {"TransactGetItems", "TransactWriteItems"}:
        parts = []
        for item in params.get("TransactItems", []):
            ((kind, part),) = item.items()
            if part.get("TableName") == table:
                action = {"Get": "GetItem", "ConditionCheck": "ConditionCheckItem"}.get(
                    kind, f"{kind}Item"
                )
                parts.append((f"dynamodb:{action}", part))
        return parts
    if params.get("TableName") == table:
        return [(f"dynamodb:{operation}", params)]
    if operation == "BatchGetItem" and table in params.get("RequestItems", {}):
        return [("dynamodb:BatchGetItem", params["RequestItems"][table])]
    return []


def _names_in(expression: str | None, names: dict[str, str]) -> set[str]:
    if not expression:
        return set()
    return {names.get(token, token) for token in _PLACEHOLDER.findall(expression)}


def attributes(action: str, part: dict[str, Any]) -> set[str] | None:
    """`dynamodb:Attributes` of the request: the top-level names it reads or writes
    (None: a read of every attribute)."""
    names = part.get("ExpressionAttributeNames") or {}
    if action in {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}:
        return projected_names(part.get("ProjectionExpression"), names)
    used = set(part.get("Key", {})) | _names_in(part.get("ConditionExpression"), names)
    if action == "dynamodb:PutItem":
        used |= set(part["Item"])
    if action == "dynamodb:UpdateItem":
        used |= _names_in(part.get("UpdateExpression"), names)
    return used


def leading_keys(part: dict[str, Any]) -> list[str] | None:
    """`dynamodb:LeadingKeys`: the partition key value(s) of the item the request names
    (None: a request naming no single item, which such a condition refuses here)."""
    item = part.get("Key") or part.get("Item") or {}
    key = item.get("pk", {}).get("S")
    return [key] if key is not None else None


def select(action: str, part: dict[str, Any]) -> str | None:
    """`dynamodb:Select`: a read without a projection asks for every attribute."""
    if action in {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}:
        if part.get("Select"):
            return str(part["Select"])
        return "SPECIFIC_ATTRIBUTES" if part.get("ProjectionExpression") else "ALL_ATTRIBUTES"
    return None


def _allows(statement: dict[str, Any], action: str, part: dict[str, Any]) -> bool:
    actions = set(_as_list(statement["Action"]))
    if statement.get("Effect") != "Allow" or not actions & {action, "dynamodb:*"}:
        return False
    for operator, block in statement.get("Condition", {}).items():
        for key, expected in block.items():
            if (operator, key) not in _KNOWN_CONDITIONS:
                raise AssertionError(f"the check does not know {operator} {key}: teach it")
            allowed = set(_as_list(expected))
            if key == "dynamodb:Attributes":
                asked = attributes(action, part)
                if asked is None or not asked <= allowed:
                    return False
                continue
            if key == "dynamodb:LeadingKeys":
                keys = leading_keys(part)
                if keys is None or not all(
                    any(fnmatchcase(k, pattern) for pattern in allowed) for k in keys
                ):
                    return False
                continue
            value = select(action, part) if key == "dynamodb:Select" else part.get("ReturnValues")
            if key != "dynamodb:Attributes" and value is not None and value not in allowed:
                return False
    return True


def refusals(function: str, operation: str, params: dict[str, Any]) -> list[str]:
    """What IAM would refuse of this request by `function` (empty: all allowed)."""
    statements = accounts_statements(function)
    return [
        f"{function}: {action} {json.dumps(part, default=str, sort_keys=True)[:400]}"
        for action, part in item_requests(operation, params)
        if not any(_allows(statement, action, part) for statement in statements)
    ]


@dataclass
class AccountsAccessCheck:
    """Installed around botocore's API call: records every refusal."""

    refused: list[str] = field(default_factory=list)

    def install(self, monkeypatch: Any) -> None:
        import botocore.client

        from infra.local.lambdas import running_function

        original = botocore.client.BaseClient._make_api_call
        check = self

        def checked(client: Any, operation: str, params: dict[str, Any]) -> Any:
            function = running_function()
            if function is not None and client.meta.service_model.service_name == "dynamodb":
                check.refused.extend(refusals(function, operation, params))
            return original(client, operation, params)

        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", checked)
