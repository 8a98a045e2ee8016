"""template.yaml's manual-recovery resources (least privilege, an append-only audit
table, a private bucket whose lifecycle ends with the case) and the local emulation
of S3's POST policy check."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.local.moto_fixes import _signing_key, post_policy_refusal
from infra.local.stack import load

WRITES = {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:*"}


def _statements(logical_id: str) -> list[dict[str, Any]]:
    props = load().resources[logical_id]["Properties"]
    return [s for policy in props.get("Policies", []) for s in policy.get("Statement", [])]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def _resources(statement: dict[str, Any]) -> list[Any]:
    resource = statement["Resource"]
    return resource if isinstance(resource, list) else [resource]


def _names(statement: dict[str, Any], logical_id: str) -> bool:
    return any(logical_id in json.dumps(resource) for resource in _resources(statement))


def test_nothing_may_update_or_delete_audit_entries() -> None:
    functions = load().of_type("AWS::Serverless::Function")
    for logical_id in functions:
        for statement in _statements(logical_id):
            if _names(statement, "RecoveryAuditTable"):
                assert _actions(statement) <= {"dynamodb:PutItem", "dynamodb:Query"}, logical_id
                assert not _actions(statement) & WRITES


READ_OR_DELETE_DOCUMENTS = {
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectAttributes",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:*",
}


def test_the_public_applicant_function_cannot_change_accounts_or_read_documents() -> None:
    for statement in _statements("RecoveryFunction"):
        if _names(statement, "AccountsTable"):
            assert _actions(statement) == {"dynamodb:GetItem"}
        assert not _actions(statement) & READ_OR_DELETE_DOCUMENTS
        if "s3:PutObject" in _actions(statement):
            assert all("/requests/*" in json.dumps(r) for r in _resources(statement))


def test_only_the_staff_function_switches_emails_and_it_never_deletes_closed_documents() -> None:
    staff = _statements("RecoveryStaffFunction")
    assert any(_names(s, "AccountsTable") and "dynamodb:UpdateItem" in _actions(s) for s in staff)
    for statement in staff:
        if _actions(statement) & {"s3:DeleteObject", "s3:DeleteObjectVersion"}:
            assert all("/requests/*" in json.dumps(r) for r in _resources(statement))


def test_documents_bucket_is_private_encrypted_owner_enforced_and_tls_only() -> None:
    resources = load().resources
    bucket = resources["RecoveryDocumentsBucket"]["Properties"]
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    # Versioned, so that submit can freeze a version (see the lifecycle test for how
    # noncurrent versions still end).
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    policy = resources["RecoveryDocumentsBucketPolicy"]["Properties"]["PolicyDocument"]
    (tls,) = [s for s in policy["Statement"] if s["Sid"] == "TlsOnly"]
    assert tls["Effect"] == "Deny" and tls["Action"] == "s3:*"
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_lifecycle_expires_closed_cases_after_the_retention_parameter() -> None:
    bucket = load().resources["RecoveryDocumentsBucket"]["Properties"]
    rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    closed = rules["ExpireClosedCases"]
    assert closed["Prefix"] == "closed/" and closed["Status"] == "Enabled"
    assert closed["ExpirationInDays"] == {"Ref": "RecoveryRetentionDays"}
    assert rules["ExpireAbandonedCases"]["Prefix"] == "requests/"
    assert load().template["Parameters"]["RecoveryRetentionDays"]["Default"] == 90


def test_in_the_versioned_bucket_every_version_and_delete_marker_still_ends() -> None:
    """A versioned bucket keeps an expired or overwritten object as a noncurrent version:
    each prefix's rule must expire those too, and empty delete markers must go."""
    bucket = load().resources["RecoveryDocumentsBucket"]["Properties"]
    rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    closed, abandoned = rules["ExpireClosedCases"], rules["ExpireAbandonedCases"]
    assert closed["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    assert abandoned["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": {"Ref": "RecoveryOpenCaseDays"}
    }
    markers = rules["RemoveExpiredDeleteMarkers"]
    assert markers["ExpiredObjectDeleteMarker"] is True and "Prefix" not in markers
    assert all(rule["Status"] == "Enabled" for rule in rules.values())


# --- the emulated POST policy check -----------------------------------------------------


def _form(conditions: list[Any], expiration: datetime, **fields: str) -> dict[str, str]:
    policy = base64.b64encode(
        json.dumps(
            {"expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"), "conditions": conditions}
        ).encode()
    ).decode()
    secret = os.environ["AWS_SECRET_ACCESS_KEY"]
    signature = hmac.new(
        _signing_key(secret, "20261122", "eu-central-1"), policy.encode(), hashlib.sha256
    ).hexdigest()
    return {
        "policy": policy,
        "x-amz-algorithm": "AWS4-HMAC-SHA256",
        "x-amz-credential": "testing/20261122/eu-central-1/s3/aws4_request",
        "x-amz-signature": signature,
        **fields,
    }


CONDITIONS = [
    {"bucket": "docs"},
    {"key": "requests/RC-1/passport"},
    {"Content-Type": "application/pdf"},
    ["content-length-range", 1, 100],
    {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
    {"x-amz-credential": "testing/20261122/eu-central-1/s3/aws4_request"},
]


def _fields(**changes: str) -> dict[str, str]:
    return {"key": "requests/RC-1/passport", "Content-Type": "application/pdf", **changes}


def test_a_matching_upload_passes() -> None:
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert post_policy_refusal("docs", _form(CONDITIONS, later, **_fields()), 50) is None


@pytest.mark.parametrize(
    ("bucket", "changes", "size", "status", "code"),
    [
        ("docs", {"Content-Type": "image/gif"}, 50, 403, "AccessDenied"),
        ("docs", {"key": "requests/RC-2/passport"}, 50, 403, "AccessDenied"),
        ("other", {}, 50, 403, "AccessDenied"),
        ("docs", {"acl": "public-read"}, 50, 403, "AccessDenied"),  # not in the policy
        ("docs", {}, 101, 400, "EntityTooLarge"),
        ("docs", {}, 0, 400, "EntityTooSmall"),
    ],
)
def test_s3_refusals(bucket: str, changes: dict, size: int, status: int, code: str) -> None:
    later = datetime.now(UTC) + timedelta(minutes=5)
    refusal = post_policy_refusal(bucket, _form(CONDITIONS, later, **_fields(**changes)), size)
    assert refusal is not None
    assert refusal[0] == status and f"<Code>{code}</Code>" in refusal[2]


def test_an_expired_policy_is_refused_at_its_expiration_instant() -> None:
    expiration = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    form = _form(CONDITIONS, expiration, **_fields())
    just_before = expiration - timedelta(seconds=1)
    assert post_policy_refusal("docs", form, 50, now=just_before) is None
    refused = post_policy_refusal("docs", form, 50, now=expiration)
    assert refused is not None and "Policy expired" in refused[2]


def test_a_form_without_policy_or_with_a_bad_signature_is_refused() -> None:
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert post_policy_refusal("docs", _fields(), 50)[0] == 403  # type: ignore[index]
    forged = _form(CONDITIONS, later, **_fields())
    forged["x-amz-signature"] = "0" * 64
    refusal = post_policy_refusal("docs", forged, 50)
    assert refusal is not None and "SignatureDoesNotMatch" in refusal[2]
