"""AWS's own errors stay where the calls are made (issue 15): the storage layer and the
modules that own another service's client translate them into domain errors, so the HTTP
adapter (`clientarea.web`) and every other module import neither PynamoDB nor botocore."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_support_layering import imported

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers/clientarea/clientarea"
# Where AWS calls are made, each translating its failures: the storage layer (DynamoDB,
# and the inbound mail's S3 objects), the session and the translation themselves, and
# the owner of each other service's client.
AWS_OWNERS = {
    "aws.py",
    "availability.py",
    "recovery/documents.py",  # S3: the recovery documents
    "cession/workflow.py",  # Step Functions
    "mail/outbox.py",  # SQS
    "mail/delivery.py",  # SES (the mailer)
    "support/views.py",  # S3: presigned links to ticket attachments
}
MODULES = sorted(
    [p for p in LAYER.rglob("*.py") if p.relative_to(LAYER).parts[0] != "storage"]
    + list((ROOT / "functions").rglob("*.py")),
)


def _name(path: Path) -> str:
    return str(path.relative_to(LAYER if path.is_relative_to(LAYER) else ROOT))


def aws_libraries(source: str) -> set[str]:
    return {n for n in imported(source) if n.split(".")[0] in {"pynamodb", "botocore", "boto3"}}


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_only_the_owners_of_aws_calls_import_pynamodb_or_botocore(path: Path) -> None:
    if _name(path) in AWS_OWNERS:
        pytest.skip("makes AWS calls itself, and translates their failures")
    assert aws_libraries(path.read_text()) == set()


def test_the_http_adapter_is_among_the_modules_checked() -> None:
    assert LAYER / "web.py" in MODULES
    assert all((LAYER / owner).exists() for owner in AWS_OWNERS)


def test_the_check_sees_an_import_inside_a_function() -> None:
    source = "def f():\n    from botocore.exceptions import ClientError\n"
    assert aws_libraries(source) == {"botocore.exceptions", "botocore.exceptions.ClientError"}
