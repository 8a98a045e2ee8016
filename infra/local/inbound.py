"""Inbound mail, locally: what SES's receipt rule does (store the raw mail in the
bucket, invoke the intake with a receipt event), for `POST /_dev/inbound-mail`."""

from __future__ import annotations

import os
import uuid
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses
from typing import Any

import boto3

from infra.local import stack as stack_module
from infra.local.lambdas import invoke
from infra.local.stack import ACCOUNT_ID, REGION

VERDICTS = ("spf", "dkim", "dmarc", "spam", "virus")
STATUSES = frozenset({"PASS", "FAIL", "GRAY", "PROCESSING_FAILED"})


def ses_event(
    raw: bytes,
    *,
    message_id: str,
    recipients: list[str],
    verdicts: dict[str, str],
    mail_from: str | None = None,
) -> dict[str, Any]:
    """A receipt event shaped as SES sends it to a Lambda action (docs: "Lambda
    action event")."""
    message = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
    # Raw header values: a hostile header (an encoded CR/LF in a display name) must reach
    # the intake as SES would hand it on, not break the emulation while it is parsed.
    headers = {name.lower(): value for name, value in reversed(list(message.raw_items()))}
    sender = mail_from if mail_from is not None else _address(headers.get("from", ""))
    common = {
        "from": [headers.get("from", "")],
        "to": [headers.get("to", "")],
        "subject": str(message.get("Subject", "")),  # decoded, as SES gives it
        "messageId": headers.get("message-id", ""),
    }
    receipt = {
        "recipients": recipients,
        "timestamp": "2026-11-22T00:00:00.000Z",
        "processingTimeMillis": 100,
        "action": {
            "type": "Lambda",
            "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:IntakeFunction",
            "invocationType": "Event",
        },
        **{f"{name}Verdict": {"status": verdicts.get(name, "PASS")} for name in VERDICTS},
    }
    return {
        "Records": [
            {
                "eventSource": "aws:ses",
                "eventVersion": "1.0",
                "ses": {
                    "mail": {
                        "timestamp": "2026-11-22T00:00:00.000Z",
                        "source": sender,
                        "messageId": message_id,
                        "destination": recipients,
                        "headersTruncated": False,
                        "commonHeaders": common,
                    },
                    "receipt": receipt,
                },
            }
        ]
    }


def _address(header: str) -> str:
    pairs = getaddresses([header]) if header else []
    return pairs[0][1] if pairs else ""


def deliver(
    raw: bytes,
    *,
    to: str | None = None,
    verdicts: dict[str, str] | None = None,
    mail_from: str | None = None,
) -> dict[str, Any]:
    """Store `raw` as SES would, run the intake on it, and say what it became."""
    message_id = uuid.uuid4().hex
    bucket = os.environ["MAIL_BUCKET"]
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=bucket, Key=f"inbound/{message_id}", Body=raw
    )
    recipients = [to or os.environ["SUPPORT_ADDRESS"]]
    event = ses_event(
        raw,
        message_id=message_id,
        recipients=recipients,
        verdicts=verdicts or {},
        mail_from=mail_from,
    )
    function = stack_module.load().functions()["IntakeFunction"]
    result = invoke(function, event)
    return {"ses_message_id": message_id, **result["outcomes"][0]}
