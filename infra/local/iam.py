"""IAM policy evaluation, and what each AWS request asks IAM for, as AWS decides it.

Stock moto (5.2.5) checks DynamoDB, SES and Step Functions requests against `*` only,
ignores every `Condition` (worse: a statement whose condition it cannot evaluate
counts as an explicit deny), and never looks inside a transaction. This module is the
part that decides instead, for `infra/local/roles.py` to install into moto:

- `requested(service, operation, params, ...)`: the checks one request needs, each an
  (action, resource ARN, condition context): a DynamoDB request against its table or
  index ARN, one check per item of a transaction with the item's own action
  (`TransactWriteItems` needs `PutItem`, `UpdateItem`, `DeleteItem` or
  `ConditionCheckItem` per item; `TransactGetItems` needs `GetItem` per item), and the
  condition keys DynamoDB documents: `dynamodb:Attributes` (every top-level attribute
  the request reads, writes or tests, the key attributes included),
  `dynamodb:LeadingKeys`, `dynamodb:Select`, `dynamodb:ReturnValues`; SES's sending
  identity and configuration set; a state machine's ARN.
- `is_allowed(policies, action, resource, context)`: explicit deny wins, then any
  allow whose action, resource and every condition match.

Only what the template's policies use is implemented; anything else raises, so a new
condition operator cannot pass unnoticed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

Context = dict[str, list[str]]


@dataclass(frozen=True)
class Check:
    action: str
    resource: str
    context: Context = field(default_factory=dict)


class UnsupportedCondition(Exception):
    """A policy uses a condition operator this emulation does not evaluate."""


# --- evaluation -----------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _wildcard(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    """IAM's `*` and `?` wildcards (everything else literal)."""
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    flags = 0 if case_sensitive else re.IGNORECASE
    return re.fullmatch(regex, value, flags | re.DOTALL) is not None


def _matches_action(statement: dict[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not any(
            _wildcard(p, action, case_sensitive=False) for p in _as_list(statement["NotAction"])
        )
    return any(_wildcard(p, action, case_sensitive=False) for p in _as_list(statement["Action"]))


def _matches_resource(statement: dict[str, Any], resource: str) -> bool:
    if "NotResource" in statement:
        return not any(_wildcard(p, resource) for p in _as_list(statement["NotResource"]))
    return any(_wildcard(p, resource) for p in _as_list(statement.get("Resource", "*")))


def _compare(base: str, expected: str, actual: str) -> bool:
    if base in {"StringEquals", "ArnEquals"}:
        return actual == expected if base == "StringEquals" else _wildcard(expected, actual)
    if base == "StringEqualsIgnoreCase":
        return actual.casefold() == expected.casefold()
    if base in {"StringLike", "ArnLike"}:
        return _wildcard(expected, actual)
    if base == "Bool":
        return actual.lower() == str(expected).lower()
    raise UnsupportedCondition(base)


_NEGATED = {"StringNotEquals": "StringEquals", "StringNotLike": "StringLike"}


def _condition_holds(operator: str, key: str, expected: list[str], context: Context) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    actual = context.get(key.lower())
    if base == "Null":
        return (actual is None) == (str(expected[0]).lower() == "true")
    negated = base in _NEGATED
    base = _NEGATED.get(base, base)
    if actual is None:
        if if_exists or negated:
            return True
        return qualifier == "ForAllValues"  # every value of an empty set matches
    matches = [any(_compare(base, str(e), a) for e in expected) for a in actual]
    if qualifier == "ForAllValues":
        result = all(matches)
    elif qualifier in {"ForAnyValue", ""}:
        result = any(matches)
    else:
        raise UnsupportedCondition(operator)
    return not result if negated else result


def _conditions_hold(statement: dict[str, Any], context: Context) -> bool:
    for operator, keys in statement.get("Condition", {}).items():
        for key, expected in keys.items():
            if not _condition_holds(operator, key, [str(e) for e in _as_list(expected)], context):
                return False
    return True


def is_allowed(
    policies: list[dict[str, Any]], action: str, resource: str, context: Context | None = None
) -> bool:
    """Whether identity policies `policies` allow `action` on `resource` in `context`."""
    context = {k.lower(): v for k, v in (context or {}).items()}
    allowed = False
    for policy in policies:
        for statement in _as_list(policy.get("Statement", [])):
            if not (_matches_action(statement, action) and _matches_resource(statement, resource)):
                continue
            if not _conditions_hold(statement, context):
                continue
            if statement["Effect"] == "Deny":
                return False
            allowed = True
    return allowed


# --- DynamoDB ---------------------------------------------------------------------------

_TOKEN = re.compile(r"#\w+|:\w+|[A-Za-z_]\w*|\d+|<>|<=|>=|\S")
_KEYWORDS = frozenset({"SET", "REMOVE", "ADD", "DELETE", "AND", "OR", "NOT", "BETWEEN", "IN"})


def expression_attributes(expression: str | None, names: dict[str, str] | None) -> set[str]:
    """The top-level attribute names an expression reads or writes: path heads only
    (`a.b[0]` names `a`), placeholders resolved, functions and keywords skipped."""
    if not expression:
        return set()
    names = names or {}
    tokens = _TOKEN.findall(expression)
    found: set[str] = set()
    for index, token in enumerate(tokens):
        previous = tokens[index - 1] if index else ""
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        if token.startswith(":") or token.isdigit() or previous in {".", "["}:
            continue
        if token.startswith("#"):
            found.add(names.get(token, token))
        elif (
            (token[0].isalpha() or token[0] == "_")
            and token.upper() not in _KEYWORDS
            and following != "("  # attribute_exists(…), size(…), if_not_exists(…) …
        ):
            found.add(token)
    return found


def _scalar(typed: dict[str, Any]) -> str:
    ((_, value),) = typed.items()
    return str(value)


def _table_arn(region: str, account: str, table: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{region}:{account}:table/{table}"
    return f"{arn}/index/{index}" if index else arn


def _item_check(
    action: str,
    params: dict[str, Any],
    *,
    region: str,
    account: str,
    hash_key: str,
) -> Check:
    """One item-level request (or one item of a transaction)."""
    names = params.get("ExpressionAttributeNames")
    key = params.get("Key") or params.get("Item") or {}
    attributes = set(key)
    if "Item" in params:
        attributes |= set(params["Item"])
    for name in ("UpdateExpression", "ConditionExpression", "ProjectionExpression"):
        attributes |= expression_attributes(params.get(name), names)
    attributes |= set(params.get("AttributesToGet") or ())
    context: Context = {"dynamodb:Attributes": sorted(attributes)}
    if hash_key in key:
        context["dynamodb:LeadingKeys"] = [_scalar(key[hash_key])]
    if action == "dynamodb:GetItem":
        projected = params.get("ProjectionExpression") or params.get("AttributesToGet")
        context["dynamodb:Select"] = ["SPECIFIC_ATTRIBUTES" if projected else "ALL_ATTRIBUTES"]
    if params.get("ReturnValues"):
        context["dynamodb:ReturnValues"] = [params["ReturnValues"]]
    resource = _table_arn(region, account, params["TableName"])
    return Check(action, resource, context)


def _read_many_check(
    action: str, params: dict[str, Any], *, region: str, account: str, hash_key: str
) -> Check:
    """Query and Scan: against the index's ARN when they read an index."""
    names = params.get("ExpressionAttributeNames")
    values = params.get("ExpressionAttributeValues") or {}
    attributes: set[str] = set(params.get("AttributesToGet") or ())
    for name in ("KeyConditionExpression", "FilterExpression", "ProjectionExpression"):
        attributes |= expression_attributes(params.get(name), names)
    index = params.get("IndexName")
    if params.get("Select"):
        select = params["Select"]
    elif params.get("ProjectionExpression") or params.get("AttributesToGet"):
        select = "SPECIFIC_ATTRIBUTES"
    else:
        select = "ALL_PROJECTED_ATTRIBUTES" if index else "ALL_ATTRIBUTES"
    context: Context = {"dynamodb:Attributes": sorted(attributes), "dynamodb:Select": [select]}
    leading = _leading_key(params.get("KeyConditionExpression"), names, values, hash_key)
    if leading is not None:
        context["dynamodb:LeadingKeys"] = [leading]
    return Check(action, _table_arn(region, account, params["TableName"], index), context)


def _leading_key(
    expression: str | None, names: dict[str, str] | None, values: dict[str, Any], hash_key: str
) -> str | None:
    for match in re.finditer(r"(#?\w+)\s*=\s*(:\w+)", expression or ""):
        name = (names or {}).get(match.group(1), match.group(1))
        if name == hash_key and match.group(2) in values:
            return _scalar(values[match.group(2)])
    return None


_TRANSACT_WRITE = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


def dynamodb_checks(
    operation: str,
    params: dict[str, Any],
    *,
    region: str,
    account: str,
    hash_keys: dict[str, str],
) -> list[Check]:
    """The checks DynamoDB makes for one request. `hash_keys`: table name → the name
    of its partition key attribute."""

    def item(action: str, p: dict[str, Any]) -> Check:
        return _item_check(
            action, p, region=region, account=account, hash_key=hash_keys.get(p["TableName"], "")
        )

    if operation in {"GetItem", "PutItem", "UpdateItem", "DeleteItem"}:
        return [item(f"dynamodb:{operation}", params)]
    if operation in {"Query", "Scan"}:
        hash_key = hash_keys.get(params["TableName"], "")
        return [
            _read_many_check(
                f"dynamodb:{operation}", params, region=region, account=account, hash_key=hash_key
            )
        ]
    if operation == "TransactWriteItems":
        return [
            item(_TRANSACT_WRITE[kind], body)
            for entry in params["TransactItems"]
            for kind, body in entry.items()
        ]
    if operation == "TransactGetItems":
        return [item("dynamodb:GetItem", entry["Get"]) for entry in params["TransactItems"]]
    if operation in {"BatchGetItem", "BatchWriteItem"}:
        return [item(f"dynamodb:{operation}", p) for p in _batch_items(params["RequestItems"])]
    table = params.get("TableName")
    resource = _table_arn(region, account, table) if table else "*"
    return [Check(f"dynamodb:{operation}", resource)]


def _batch_items(request_items: dict[str, Any]) -> list[dict[str, Any]]:
    """A batch's items, each as the parameters of a single-item request."""
    items = []
    for table, spec in request_items.items():
        if isinstance(spec, dict):  # BatchGetItem: {Keys, ProjectionExpression, …}
            options = {k: v for k, v in spec.items() if k != "Keys"}
            items += [{"TableName": table, **options, "Key": key} for key in spec["Keys"]]
        else:  # BatchWriteItem: [{PutRequest: {Item}} | {DeleteRequest: {Key}}]
            items += [{"TableName": table, **body} for r in spec for body in r.values()]
    return items


# --- SES (v2) ----------------------------------------------------------------------------


def ses_send_checks(
    params: dict[str, Any], *, region: str, account: str, verified: set[str]
) -> list[Check]:
    """SESv2 SendEmail: authorised on the identity SES sends from (the address if it is
    itself a verified identity, else its domain) and on the configuration set if one is
    named. Raw content is also checked as `ses:SendRawEmail`, the action AWS has been
    seen to evaluate for a raw v2 send."""
    from email.utils import parseaddr  # noqa: PLC0415

    address = parseaddr(params.get("FromEmailAddress") or "")[1]
    domain = address.rpartition("@")[2]
    identity = address if address.casefold() in verified else domain
    resources = [f"arn:aws:ses:{region}:{account}:identity/{identity}"]
    if params.get("ConfigurationSetName"):
        resources.append(
            f"arn:aws:ses:{region}:{account}:configuration-set/{params['ConfigurationSetName']}"
        )
    actions = ["ses:SendEmail"]
    if "Raw" in (params.get("Content") or {}):
        actions.append("ses:SendRawEmail")
    return [Check(action, resource) for action in actions for resource in resources]


# --- Step Functions ---------------------------------------------------------------------

# The Service Authorization Reference lists no resource type for these: "*" it is.
_STATES_WITHOUT_RESOURCE = frozenset({"SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"})


def states_checks(operation: str, params: dict[str, Any]) -> list[Check]:
    if operation in _STATES_WITHOUT_RESOURCE:
        return [Check(f"states:{operation}", "*")]
    resource = params.get("stateMachineArn") or params.get("executionArn") or "*"
    return [Check(f"states:{operation}", resource)]


# SQS authorises a batch as its single action.
_SQS_BATCHES = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}


def sqs_checks(operation: str, queue_arn: str) -> list[Check]:
    return [Check(f"sqs:{_SQS_BATCHES.get(operation, operation)}", queue_arn)]


def s3_context(action: str, querystring: dict[str, list[str]]) -> Context:
    """The S3 condition keys the template's policies use: `s3:prefix` on a listing of
    objects or of object versions (the Service Authorization Reference lists the key
    for both actions)."""
    if action in {"s3:ListBucket", "s3:ListBucketVersions"} and "prefix" in querystring:
        return {"s3:prefix": [querystring["prefix"][0]]}
    return {}


def s3_delete_objects_checks(bucket_arn: str, objects: list[dict[str, Any]]) -> list[Check]:
    """DeleteObjects is authorised per object it names: `s3:DeleteObject` on the object,
    and `s3:DeleteObjectVersion` too for one named with a version id (AWS's DeleteObjects
    reference). Where AWS refuses only the objects not allowed, moto here refuses all."""
    checks = []
    for item in objects:
        resource = f"{bucket_arn}/{item['Key']}"
        checks.append(Check("s3:DeleteObject", resource))
        if item.get("VersionId"):
            checks.append(Check("s3:DeleteObjectVersion", resource))
    return checks


__all__ = [
    "Check",
    "UnsupportedCondition",
    "dynamodb_checks",
    "expression_attributes",
    "is_allowed",
    "s3_context",
    "s3_delete_objects_checks",
    "ses_send_checks",
    "sqs_checks",
    "states_checks",
]
