"""A recovery case's documents in S3: upload forms, what arrived, download links, and
the move of a decided case's documents under `closed/`.

Documents go from the browser straight to a private, encrypted S3 bucket by presigned
POST: one key per document slot (a re-upload replaces), one signed form per accepted
content type with `Content-Type` pinned by `eq` and a `content-length-range`, so S3
itself refuses a wrong type or a too-large file. A form stays valid for an hour, also
after the case is submitted, and S3 cannot revoke it: so the bucket is versioned and
submit freezes what was handed in. It lists the case's object versions (metadata only:
the public function can read no document) and stores each document's current version
id, size, ETag (the MD5 S3 computed) and upload time on the case and in the audit
entry, in the transaction that submits it; staff views and download links use exactly
those versions, and a later upload is only a newer version nobody is shown.

When a case is decided the frozen versions are copied under `closed/` (a copy is a new
object, created now) and every version under `requests/` is deleted for good: the
bucket's lifecycle rule expires `closed/` objects `RecoveryRetentionDays` after
creation, that is after the case closed plus the retention period (and removes the
expired version a day later; versions that never became a closed copy, such as a file
sent after submit to a case never decided, expire from `requests/` by the backstop).
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from clientarea import availability, aws, clock, config
from clientarea.recovery.rules import CONTENT_TYPES, MAX_UPLOAD_BYTES, slots
from clientarea.storage.recovery import CLOSED_PREFIX, OPEN_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CopySourceTypeDef, ObjectIdentifierTypeDef

logger = Logger(child=True)

UPLOAD_TTL = timedelta(hours=1)  # GET /recovery/requests/{reference} hands out fresh forms
DOWNLOAD_TTL = timedelta(minutes=5)  # staff's document links


@cache
def _s3() -> S3Client:
    return aws.boto3_session().client("s3")


def _object_key(case: Any, slot: str) -> str:
    return f"{case.document_prefix}{case.reference}/{slot}"


@availability.translated
def latest_versions(case: Any) -> dict[str, dict[str, Any]]:
    """What S3 holds now for each slot of the case: the current version's id, size, ETag
    and upload time (ListObjectVersions: metadata only, no document is read)."""
    prefix = f"{case.document_prefix}{case.reference}/"
    held: dict[str, dict[str, Any]] = {}
    pages = _s3().get_paginator("list_object_versions")
    for page in pages.paginate(Bucket=config.recovery_bucket(), Prefix=prefix):
        for item in page.get("Versions", []):
            if item.get("IsLatest"):  # a deleted object's latest is a delete marker
                held[item["Key"].removeprefix(prefix)] = {
                    "version_id": item["VersionId"],
                    "bytes": int(item["Size"]),
                    "etag": str(item["ETag"]).strip('"'),
                    "uploaded_at": clock.iso(item["LastModified"]),
                }
    return held


def held_versions(case: Any) -> dict[str, dict[str, Any]]:
    """The case's documents: as frozen at submit, else (still awaiting them) as S3 has them."""
    if case.submitted_documents is not None:
        return cast("dict[str, dict[str, Any]]", case.submitted_documents.as_dict())
    return latest_versions(case)


def slot_states(case: Any, held: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every document slot of the case and what is held for it."""
    states = []
    for slot in slots(case.applicant_type, case.channel):
        item = held.get(slot.name)
        states.append(
            {
                "document": slot.name,
                "required": slot.required,
                "uploaded": item is not None,
                "size": int(item["bytes"]) if item else None,
                "uploaded_at": item["uploaded_at"] if item else None,
                "etag": item["etag"] if item else None,
            }
        )
    return states


def upload_forms(case: Any) -> list[dict[str, Any]]:
    """One presigned POST per document slot, with one signed form per content type:
    S3 checks the `eq` on Content-Type and the size range itself."""
    bucket = config.recovery_bucket()
    expires_at = clock.now() + UPLOAD_TTL
    uploads = []
    for slot in slots(case.applicant_type, case.channel):
        key = _object_key(case, slot.name)
        forms: dict[str, dict[str, str]] = {}
        url = ""
        for content_type in CONTENT_TYPES:
            post = _s3().generate_presigned_post(
                bucket,
                key,
                Fields={"Content-Type": content_type},
                Conditions=[
                    {"Content-Type": content_type},
                    ["content-length-range", 1, MAX_UPLOAD_BYTES],
                ],
                ExpiresIn=int(UPLOAD_TTL.total_seconds()),
            )
            url = post["url"]
            forms[content_type] = post["fields"]
        uploads.append(
            {
                "document": slot.name,
                "required": slot.required,
                "method": "POST",
                "url": url,
                "fields_by_content_type": forms,
                "max_bytes": MAX_UPLOAD_BYTES,
                "expires_at": clock.iso(expires_at),
            }
        )
    return uploads


def download_links(case: Any, held: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The documents with a short-lived link to each: while the case is open, to the very
    version frozen at submit (or listed just now); once decided, to its closed copy."""
    links = []
    for doc in slot_states(case, held):
        url = None
        if doc["uploaded"]:
            params = {
                "Bucket": config.recovery_bucket(),
                "Key": _object_key(case, doc["document"]),
                # Never rendered inline by the staff's browser.
                "ResponseContentDisposition": f'attachment; filename="{doc["document"]}"',
            }
            version_id = held[doc["document"]].get("version_id")
            if case.document_prefix == OPEN_PREFIX and version_id:
                params["VersionId"] = version_id
            url = _s3().generate_presigned_url(
                "get_object", Params=params, ExpiresIn=int(DOWNLOAD_TTL.total_seconds())
            )
        links.append({**doc, "download_url": url})
    return links


@availability.translated  # what S3 refused is handled below; the network's failures are not
def close_documents(case: Any) -> None:
    """Copy the decided case's documents, as frozen at submit, under `closed/` (the copy
    is created now, so the lifecycle rule's "days after creation" counts from the
    closing of the case), then delete every version left under `requests/` for good."""
    bucket = config.recovery_bucket()
    source_prefix = f"{OPEN_PREFIX}{case.reference}/"
    try:
        for name, item in held_versions(case).items():
            source: CopySourceTypeDef = {"Bucket": bucket, "Key": f"{source_prefix}{name}"}
            if item.get("version_id"):
                source["VersionId"] = item["version_id"]
            _s3().copy_object(
                Bucket=bucket, Key=f"{CLOSED_PREFIX}{case.reference}/{name}", CopySource=source
            )
        _delete_every_version(bucket, source_prefix)
    except ClientError as exc:
        # The case is decided either way; the `requests/` backstop rule still expires
        # whatever could not be moved. A refused permission is reported as such (alarm).
        if availability.is_access_denied(exc):
            availability.report_access_denied(exc, logger)
        else:
            logger.exception(
                "could not move a closed case's documents", extra={"case": case.reference}
            )


def _delete_every_version(bucket: str, prefix: str) -> None:
    """Every version and delete marker under `prefix`, deleted for good (a plain delete
    in a versioned bucket would only hide them behind a marker)."""
    pages = _s3().get_paginator("list_object_versions")
    for page in pages.paginate(Bucket=bucket, Prefix=prefix):
        doomed: list[ObjectIdentifierTypeDef] = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in (*page.get("Versions", []), *page.get("DeleteMarkers", []))
        ]
        if doomed:
            result = _s3().delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
            # Quiet: only the objects S3 did not delete are listed, each with its code (a
            # refused permission among them); the call itself succeeds.
            if errors := result.get("Errors"):
                # Passed on as S3 reports them (the stubs want str; S3 sets both).
                raise ClientError(
                    {"Error": {"Code": errors[0].get("Code"), "Message": errors[0].get("Message")}},  # type: ignore[typeddict-item]
                    "DeleteObjects",
                )
