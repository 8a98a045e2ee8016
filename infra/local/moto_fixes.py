"""Make moto keep the guarantees of AWS that this project relies on.

DynamoDB:

moto applies a TransactWriteItems item by item without a lock, and when a condition
fails it rolls back by putting back deep copies of the *whole tables* it took when
the transaction began. As soon as a second thread writes meanwhile (the Step
Functions executor runs the cession workflow on its own thread, the dev server
serves requests on several), that thread's writes are silently undone: an order
reverted to open after its service moved, the hold on a service wiped. DynamoDB can
never do that. tests/integration/test_cession_properties.py found it.

Serialising every DynamoDB request restores what the code relies on: a transaction
is all or nothing, and nobody sees it half done. Locally the cost is nil.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import threading
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from moto.dynamodb.responses import DynamoHandler
from moto.s3.responses import S3Response

_LOCK = threading.RLock()


def serialise_dynamodb() -> None:
    """Run one DynamoDB request at a time (idempotent; in-process and server mode)."""
    if getattr(DynamoHandler.call_action, "serialised", False):
        return
    original = DynamoHandler.call_action

    @functools.wraps(original)
    def call_action(self: DynamoHandler) -> Any:
        with _LOCK:
            return original(self)

    call_action.serialised = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


# moto's TransactGetItems ignores each Get's ProjectionExpression and returns whole items;
# DynamoDB returns only the projected attributes. Code that projects (a function allowed
# only some attributes of a table) could then use an attribute it never asked for and
# pass every local test, to fail on AWS. This applies the projection, by top-level name
# (the only kind this code uses).


def honour_transact_get_projections() -> None:
    """Filter moto's TransactGetItems answer to each Get's projection (idempotent)."""
    if getattr(DynamoHandler.transact_get_items, "projected", False):
        return
    original = DynamoHandler.transact_get_items

    @functools.wraps(original)
    def transact_get_items(self: DynamoHandler) -> Any:
        result = original(self)
        gets = [item.get("Get", {}) for item in self.body.get("TransactItems", [])]
        for get, answer in zip(gets, result.result["Responses"], strict=True):
            names = projected_names(
                get.get("ProjectionExpression"), get.get("ExpressionAttributeNames")
            )
            if names is not None and "Item" in answer:
                answer["Item"] = {k: v for k, v in answer["Item"].items() if k in names}
        return result

    transact_get_items.projected = True  # type: ignore[attr-defined]
    DynamoHandler.transact_get_items = transact_get_items  # type: ignore[method-assign]


def projected_names(expression: str | None, names: dict[str, str] | None) -> set[str] | None:
    """The top-level attribute names a ProjectionExpression asks for (None: everything)."""
    if not expression:
        return None
    result = set()
    for path in expression.split(","):
        first = path.strip().split(".", 1)[0].split("[", 1)[0]
        result.add((names or {}).get(first, first))
    return result


# --- S3 POST policy -------------------------------------------------------------------
#
# moto stores whatever a browser-style POST upload sends: it checks neither the policy's
# signature, nor its expiry, nor its conditions (content-length-range, Content-Type …).
# S3 checks all of them, and manual recovery relies on it to refuse a wrong file type or
# a too-large file. This emulates S3's check in front of moto's handler (in-process and
# in server mode alike), with S3's status codes and error codes.

_IGNORED_FIELDS = {"policy", "x-amz-signature", "file"}


def _s3_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], str]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message></Error>"
    )
    return status, {"Content-Type": "application/xml"}, body


def _signing_key(secret: str, date: str, region: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _secret_key(access_key_id: str) -> str:
    """The secret behind the form's access key: a function role's session's when each
    function runs with its own role (infra/local/roles.py), else the process's."""
    from infra.local import roles  # noqa: PLC0415 - roles imports this module's neighbours

    active = roles.active()
    secret = active.secret_for(access_key_id) if active is not None else None
    return secret if secret is not None else os.environ.get("AWS_SECRET_ACCESS_KEY", "")


def post_policy_refusal(
    bucket: str, form: dict[str, str], size: int, now: datetime | None = None
) -> tuple[int, dict[str, str], str] | None:
    """S3's answer refusing a POST upload, or None if S3 would accept it.

    `form` is the form's fields (names as sent), `size` the file's length in bytes.
    """
    fields = {name.lower(): value for name, value in form.items()}
    encoded = fields.get("policy")
    if not encoded:
        return _s3_error(403, "AccessDenied", "Bucket POST must contain a field named 'policy'.")
    credential = fields.get("x-amz-credential", "").split("/")
    if fields.get("x-amz-algorithm") != "AWS4-HMAC-SHA256" or len(credential) != 5:
        return _s3_error(400, "InvalidArgument", "POST requires a SigV4 credential.")
    secret = _secret_key(credential[0])
    expected = hmac.new(
        _signing_key(secret, credential[1], credential[2]), encoded.encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, fields.get("x-amz-signature", "")):
        return _s3_error(
            403, "SignatureDoesNotMatch", "The request signature we calculated does not match."
        )
    try:
        policy = json.loads(base64.b64decode(encoded))
        expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
        conditions = policy["conditions"]
    except (ValueError, KeyError, TypeError):
        return _s3_error(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
    if (now or datetime.now(UTC)) >= expiration:
        return _s3_error(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    values = {**fields, "bucket": bucket}
    covered = {"bucket"}
    for condition in conditions:
        refusal = _check_condition(condition, values, size, covered)
        if refusal is not None:
            return refusal
    extra = sorted(
        name
        for name in fields
        if name not in covered and name not in _IGNORED_FIELDS and not name.startswith("x-ignore-")
    )
    if extra:
        return _s3_error(
            403,
            "AccessDenied",
            f"Invalid according to Policy: Extra input fields: {extra[0]}",
        )
    return None


def _check_condition(
    condition: Any, values: dict[str, str], size: int, covered: set[str]
) -> tuple[int, dict[str, str], str] | None:
    failed = _s3_error(
        403,
        "AccessDenied",
        f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}",
    )
    if isinstance(condition, dict):
        ((name, expected),) = condition.items()
        covered.add(name.lower())
        return None if values.get(name.lower()) == expected else failed
    operator, *args = condition
    if operator == "content-length-range":
        low, high = (int(x) for x in args)
        if size > high:
            return _s3_error(
                400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
            )
        if size < low:
            return _s3_error(
                400,
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
            )
        return None
    name, expected = args[0].lstrip("$").lower(), args[1]
    covered.add(name)
    actual = values.get(name)
    if operator == "eq":
        return None if actual == expected else failed
    if operator == "starts-with":
        return None if actual is not None and actual.startswith(expected) else failed
    return failed


def enforce_s3_post_policy() -> None:
    """Check POST uploads' policies as S3 does (idempotent; in-process and server mode)."""
    if getattr(S3Response._bucket_response_post, "checks_policy", False):
        return
    original = S3Response._bucket_response_post

    @functools.wraps(original)
    def bucket_response_post(self: S3Response, request: Any, bucket_name: str) -> Any:
        form_data = getattr(self, "form_data", None) or {}
        if "key" in form_data and "delete" not in self.querystring:
            # The form's own fields (moto's querystring also holds its internal ones).
            form = {name: form_data.get(name) for name in form_data}
            refusal = post_policy_refusal(bucket_name, form, len(self.body or b""))
            if refusal is not None:
                return refusal
        return original(self, request, bucket_name)

    bucket_response_post.checks_policy = True  # type: ignore[attr-defined]
    S3Response._bucket_response_post = bucket_response_post  # type: ignore[method-assign]
