"""Least privilege, proven: each function's role (template.yaml, SAM-expanded) refuses
what the function must never do, and a refused call is never mistaken for a passing
throttle.

Every handler-level test already runs each function under exactly its role with moto
enforcing IAM (tests/conftest.py `deployment`, infra/local/roles.py): a call a role
lacks fails those tests. Here, the other half: the over-reaches a role must refuse,
tried with the function's own credentials, and what the functions do when AWS says
AccessDenied. On stock moto every one of these reads and writes succeeded (it checks
DynamoDB against `*` only and ignores conditions).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from pynamodb.exceptions import PynamoDBException
from pynamodb.transactions import TransactWrite

from infra.local.roles import acting_as
from infra.local.stack import ACCOUNT_ID, REGION, physical_name
from tests.clients import Reply
from tests.support.accounts import PASSWORD, new_account


@pytest.fixture
def victim(deployment) -> dict[str, Any]:
    """An account with a password hash worth stealing."""
    from clientarea.accounts import registration
    from clientarea.storage import accounts as account_store

    login = f"victim{uuid.uuid4().hex[:8]}"
    created = registration.provision(
        email=f"{login}@example.com", password=PASSWORD, full_name="Victim", login=login
    )
    return {
        "client_number": created.client_number,
        "key": account_store.account_key(created.client_number),
        "claim": account_store.email_claim_key(created.email),
    }


def refused(attempt: Callable[[], Any]) -> bool:
    """Whether AWS refused the attempt as AccessDenied (any other outcome: False)."""
    from botocore.exceptions import ClientError
    from clientarea import availability

    try:
        attempt()
    except (ClientError, PynamoDBException) as exc:
        return availability.is_access_denied(exc)
    return False


def _read_account(v: dict, *attributes: str) -> Callable[[], Any]:
    from clientarea.storage.accounts import AccountModel

    return lambda: AccountModel.get(v["key"], attributes_to_get=list(attributes) or None)


def _set_on_account(v: dict, attribute: str, value: Any) -> Callable[[], Any]:
    """One UpdateItem touching only `attribute` (a transaction: no ReturnValues)."""
    from clientarea.storage.accounts import AccountModel
    from clientarea.storage.base import connection

    def attempt() -> None:
        with TransactWrite(connection=connection()) as tx:
            tx.update(AccountModel(v["key"]), actions=[getattr(AccountModel, attribute).set(value)])

    return attempt


def _condition_check_ticket() -> Callable[[], Any]:
    from clientarea.storage.base import connection
    from clientarea.storage.tickets import TicketModel

    def attempt() -> None:
        with TransactWrite(connection=connection()) as tx:
            tx.condition_check(TicketModel, "ticket#1", "ticket", condition=TicketModel.pk.exists())

    return attempt


def _delete_audit_entry() -> Callable[[], Any]:
    from clientarea.storage.recovery import RecoveryAuditModel

    return lambda: RecoveryAuditModel("REF-1", "entry#1").delete()


def _create_session(v: dict) -> Callable[[], Any]:
    from clientarea import clock
    from clientarea.storage.sessions import SessionModel

    now = clock.now()
    return lambda: SessionModel(
        str(v["client_number"]),
        "forged",
        generation=0,
        role="client",
        created_at=now,
        expires_at=now,
        ttl=now,
    ).save()


def _scan_accounts() -> Callable[[], Any]:
    from clientarea.storage.accounts import AccountModel

    return lambda: list(AccountModel.scan(limit=1))


def _fail_a_task() -> Callable[[], Any]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    return lambda: sfn.send_task_failure(taskToken="any", error="x")


def _send_from_another_identity() -> Callable[[], Any]:
    ses = boto3.client("sesv2", region_name=REGION)
    return lambda: ses.send_email(
        FromEmailAddress="ceo@another-domain.test",
        Destination={"ToAddresses": ["someone@example.com"]},
        Content={"Simple": {"Subject": {"Data": "x"}, "Body": {"Text": {"Data": "x"}}}},
    )


# (function, what it must never do, the attempt given the victim)
OVER_REACHES: list[tuple[str, str, Callable[[dict], Callable[[], Any]]]] = [
    ("StaffSupportFunction", "read a whole account", _read_account),
    (
        "StaffSupportFunction",
        "read a password hash",
        lambda v: _read_account(v, "email", "password_hash"),
    ),
    ("MailerFunction", "read an account", lambda v: _read_account(v, "email")),
    ("BouncesFunction", "read an account", lambda v: _read_account(v, "pk", "email")),
    ("BouncesFunction", "set a password hash", lambda v: _set_on_account(v, "password_hash", "x")),
    ("RecoveryFunction", "change an account", lambda v: _set_on_account(v, "email", "x@y.z")),
    ("SupportFunction", "condition-check a ticket", lambda v: _condition_check_ticket()),
    ("IntakeFunction", "condition-check a ticket", lambda v: _condition_check_ticket()),
    ("RecoveryStaffFunction", "delete from the audit trail", lambda v: _delete_audit_entry()),
    ("AuthorizerFunction", "create a session", _create_session),
    ("AccountsFunction", "scan every account", lambda v: _scan_accounts()),
    ("CessionFunction", "fail a workflow task", lambda v: _fail_a_task()),
    ("MailerFunction", "send from an identity not ours", lambda v: _send_from_another_identity()),
]


@pytest.mark.parametrize(
    ("function", "attempt"),
    [(f, a) for f, _, a in OVER_REACHES],
    ids=[f"{f}-may-not-{what.replace(' ', '-')}" for f, what, _ in OVER_REACHES],
)
def test_a_role_refuses_what_its_function_must_never_do(victim, function, attempt):
    with acting_as(function):
        assert refused(attempt(victim))


def test_the_staff_role_reads_the_contact_fields_and_nothing_else(victim):
    from clientarea.storage.accounts import AccountModel

    with acting_as("StaffSupportFunction"):
        contact = AccountModel.get(
            victim["key"], attributes_to_get=["email", "locale", "full_name"]
        )
        assert contact.email.startswith("victim")
        assert refused(_read_account(victim, "email", "phone"))


def test_the_mailer_reads_only_an_address_flag(victim):
    from clientarea import bounces

    with acting_as("MailerFunction"):
        assert bounces.is_undeliverable(victim["claim"].removeprefix("email#")) is False
    from clientarea.storage.accounts import ClaimModel

    with acting_as("MailerFunction"):
        assert refused(lambda: ClaimModel.get(victim["claim"], attributes_to_get=["client_number"]))


# --- AccessDenied is reported as what it is ---------------------------------------------------


def deny(function: str, action: str) -> None:
    """Take a permission away from a function's role, as a broken deploy would."""
    boto3.client("iam", region_name=REGION).put_role_policy(
        RoleName=physical_name(f"{function}Role"),
        PolicyName="BrokenDeploy",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Action": action, "Resource": "*"}],
            }
        ),
    )


def emitted_metrics(output: str) -> list[str]:
    names = []
    for line in output.splitlines():
        if line.startswith('{"_aws"'):
            for spec in json.loads(line)["_aws"]["CloudWatchMetrics"]:
                names += [m["Name"] for m in spec["Metrics"]]
    return names


def error_logs(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The functions' error-level log lines (Powertools' records, with their extras),
    told by the code that logged them: the logger's name depends on the service name
    its process had when it was made (`clientarea`, `clientarea.clientarea.recovery`,
    `service_undefined` in a test worker that imported a module before)."""
    code = (f"{os.sep}layers{os.sep}clientarea{os.sep}", f"{os.sep}functions{os.sep}")
    return [
        vars(r)
        for r in caplog.records
        if r.levelname == "ERROR" and any(part in r.pathname for part in code)
    ]


def under_denial(
    capsys: pytest.CaptureFixture[str], function: str, action: str, call: Callable[[], Reply]
) -> tuple[Reply, list[str]]:
    """What `call` gets on a deploy whose `function` role lost `action`, and the metrics
    the functions emitted meanwhile."""
    deny(function, action)
    capsys.readouterr()
    reply = call()
    return reply, emitted_metrics(capsys.readouterr().out)


def test_a_refused_task_callback_fails_the_request_and_is_counted(handler_client, capsys, caplog):
    from tests.integration.test_cession import activated, new_party, wait_for_status

    owner, recipient = new_party(handler_client), new_party(handler_client)
    _service, order, owner_link, _recipient_link = activated(handler_client, owner, recipient)
    wait_for_status(handler_client, owner, order["order_id"], "awaiting_confirmations")
    # GIVEN a deploy whose cession role lost states:SendTaskSuccess
    # WHEN the owner confirms
    reply, metrics = under_denial(
        capsys,
        "CessionFunction",
        "states:SendTaskSuccess",
        lambda: handler_client.post("/cession/confirm", {"token": owner_link}),
    )
    # THEN the request fails (no "all is well" while the workflow sleeps on) and says
    # nothing of the cause to the client
    assert reply.status == 500, reply.body
    assert reply.json()["code"] == "internal_error"
    assert "SendTaskSuccess" not in reply.body.decode()
    # AND the refusal is logged at error level and counted for its alarm
    assert "AccessDenied" in metrics
    assert any(e.get("operation") == "SendTaskSuccess" for e in error_logs(caplog))
    # AND the confirmation itself is on the order (the workflow reads it at the latest
    # when the window ends)
    seen = handler_client.get(f"/orders/{order['order_id']}", token=owner.token).json()
    assert seen["owner"]["confirmed_at"] is not None


def test_a_refused_transaction_is_an_access_denied_not_a_conflict(
    handler_client, unique_email, capsys, caplog
):
    token = new_account(handler_client, unique_email)["token"]
    # GIVEN a deploy whose accounts role lost a write one of its transactions makes
    # WHEN the client changes the password (one transaction, a reset link deleted in it)
    change = {"current_password": PASSWORD, "new_password": "another long passphrase 31"}
    reply, metrics = under_denial(
        capsys,
        "AccountsFunction",
        "dynamodb:DeleteItem",
        lambda: handler_client.put("/account/password", change, token=token),
    )
    # THEN the client gets a safe 500, not a 4XX that blames the request or the data
    assert reply.status == 500, reply.body
    assert reply.json()["code"] == "internal_error"
    # AND operations see an AccessDenied, at error level, with its own metric
    assert "AccessDenied" in metrics
    assert any(e.get("operation") == "TransactWriteItems" for e in error_logs(caplog))


def test_the_authorizer_tells_a_refused_read_from_a_throttle(
    handler_client, unique_email, capsys, caplog
):
    token = new_account(handler_client, unique_email)["token"]
    # GIVEN a deploy whose authorizer role lost dynamodb:GetItem
    # WHEN the client calls an authenticated route
    reply, metrics = under_denial(
        capsys,
        "AuthorizerFunction",
        "dynamodb:GetItem",
        lambda: handler_client.get("/account", token=token),
    )
    # THEN the client gets the same safe refusal as under throttling (no logout, no leak)
    assert reply.status == 503, reply.body
    assert reply.json()["code"] == "service_unavailable"
    # BUT operations see an AccessDenied, at error level, with its own metric
    assert "AccessDenied" in metrics
    assert any(e.get("error_code") == "AccessDeniedException" for e in error_logs(caplog))


def test_a_refused_session_use_record_is_an_access_denied_not_a_warning(
    handler_client, unique_email, capsys, caplog
):
    token = new_account(handler_client, unique_email)["token"]
    handler_client.advance_clock(6 * 60)  # a use is recorded at most every 5 minutes
    # GIVEN a deploy whose authorizer role lost the write that records a session's use
    # (without it every session idles out after 30 minutes however busy its client)
    # WHEN the client calls an authenticated route
    reply, metrics = under_denial(
        capsys,
        "AuthorizerFunction",
        "dynamodb:UpdateItem",
        lambda: handler_client.get("/account", token=token),
    )
    # THEN the request is served (the session is valid; the next request tries again)
    assert reply.status == 200, reply.body
    # AND operations see an AccessDenied, at error level, with its own metric
    assert "AccessDenied" in metrics
    assert any(e.get("error_code") == "AccessDeniedException" for e in error_logs(caplog))


def test_a_throttled_authorizer_read_is_a_warning_not_an_access_denied(
    handler_client, unique_email, capsys, caplog, monkeypatch
):
    from botocore.client import BaseClient
    from botocore.exceptions import ClientError

    token = new_account(handler_client, unique_email)["token"]
    real = BaseClient._make_api_call

    def throttled(client: BaseClient, operation: str, params: dict) -> Any:
        if operation == "TransactGetItems":
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, operation
            )
        return real(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", throttled)
    capsys.readouterr()
    reply = handler_client.get("/account", token=token)
    output = capsys.readouterr().out
    assert reply.status == 503
    assert "AccessDenied" not in emitted_metrics(output)
    assert error_logs(caplog) == []
    warnings = [r for r in caplog.records if r.name == "clientarea" and r.levelname == "WARNING"]
    assert [r.getMessage() for r in warnings] == ["session store unavailable"]


def test_roles_are_the_templates(deployment):
    """The local roles are made from template.yaml, SAM-expanded, and nothing else."""
    from infra.local.roles import translated

    roles = {
        resource["Properties"]["Role"]["Fn::GetAtt"][0].removesuffix("Role")
        for resource in translated()["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
    }
    assert roles == set(deployment.stack.functions())
    iam_client = boto3.client("iam", region_name=REGION)
    for function in roles:
        arn = iam_client.get_role(RoleName=physical_name(f"{function}Role"))["Role"]["Arn"]
        assert arn == f"arn:aws:iam::{ACCOUNT_ID}:role/{physical_name(function + 'Role')}"


def test_presigned_links_act_with_the_signers_role(deployment):
    """A presigned URL or POST form acts with its signer's permissions: the applicant
    function (which may upload under requests/) cannot hand out a download link."""
    import requests

    bucket = deployment.physical.refs["RecoveryDocumentsBucket"]
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=bucket, Key="requests/REF-1/passport.pdf", Body=b"%PDF-1.7"
    )

    def download_link(function: str) -> str:
        with acting_as(function):
            return boto3.client("s3", region_name=REGION).generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": "requests/REF-1/passport.pdf"}
            )

    assert requests.get(download_link("RecoveryStaffFunction"), timeout=30).status_code == 200
    assert requests.get(download_link("RecoveryFunction"), timeout=30).status_code == 403


def test_a_refused_document_deletion_is_reported_and_the_decision_stands(
    handler_client, capsys, caplog
):
    from tests.integration.test_recovery import new_owner, under_review
    from tests.support.accounts import staff_token

    owner = new_owner(handler_client)
    _, case = under_review(handler_client, owner["login"])
    # GIVEN a deploy whose staff recovery role lost the deletion of object versions
    # WHEN staff decide the case (its documents move under closed/, the open ones go)
    staff = staff_token(handler_client)
    reply, metrics = under_denial(
        capsys,
        "RecoveryStaffFunction",
        "s3:DeleteObjectVersion",
        lambda: handler_client.post(
            f"/staff/recovery-requests/{case['reference']}/decision",
            {"decision": "reject", "reason": "blurred"},
            token=staff,
        ),
    )
    # THEN the decision stands (the requests/ lifecycle rule is the backstop)
    assert reply.status == 200, reply.body
    # AND the documents left behind are an AccessDenied, at error level, with its metric
    assert "AccessDenied" in metrics
    assert any(e.get("operation") == "DeleteObjects" for e in error_logs(caplog))
