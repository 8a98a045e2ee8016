"""Staff accounts: the /staff/... boundary through the real authorizer and gateway, and
the ops command that creates the first staff account in a deployed stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from infra.local import stack as stack_module
from tests.clients import ApiClient
from tests.conftest import (
    DEV_STAFF,
    PASSWORD,
    _free_port,
    expect_error,
    log_in,
    register_and_verify,
    staff_token,
)

ROOT = Path(__file__).resolve().parents[2]






def _client_token(client: ApiClient) -> str:
    email = f"user-{uuid.uuid4().hex[:12]}@example.com"
    register_and_verify(client, email)
    return log_in(client, email)


# --- the /staff/... boundary ---------------------------------------------------------------


def test_staff_session_reads_its_own_login_and_role(client):
    reply = client.get("/staff/me", token=staff_token(client))
    assert reply.status == 200, reply.body
    body = reply.json()
    assert set(body) == {"login", "role"}
    assert body["role"] == "support"
    if client.transport == "http":
        assert body["login"] == "staff"


def test_client_session_on_a_staff_route_is_403_forbidden(client):
    # GIVEN a client's valid session
    token = _client_token(client)
    # WHEN it calls a /staff/... route / THEN API Gateway's 403 in the contract's shape
    expect_error(client.get("/staff/me", token=token), 403, "forbidden")
    # AND the same session still works on the client area
    assert client.get("/account", token=token).status == 200


STAFF_FUNCTIONS = ("StaffSupportFunction", "RecoveryStaffFunction")
_PATH_VALUES = {"{number}": "T-1", "{client_number}": "100001", "{reference}": "RC-AAAAAAAAAA"}
_BODIES = {
    "/staff/tickets/{number}/messages": {"message": "Your account is now mine."},
    "/staff/recovery-requests/{reference}/decision": {"decision": "reject", "reason": "no"},
}


@pytest.mark.parametrize("function", STAFF_FUNCTIONS)
def test_staff_functions_refuse_a_client_principal_even_past_the_authorizer(
    handler_client, function
):
    """Defence in depth: should the authorizer (or a cached policy, or a template edit)
    ever let a client session through to a staff function, the function itself says 403."""
    from infra.local.gateway import invoke

    deployment = handler_client.deployment
    email = f"user-{uuid.uuid4().hex[:12]}@example.com"
    client_number = register_and_verify(handler_client, email)["client_number"]
    token = log_in(handler_client, email)
    routes = [r for r in deployment.stack.routes() if r.function == function]
    assert routes
    for route in routes:
        path = route.path
        for placeholder, value in _PATH_VALUES.items():
            path = path.replace(placeholder, value)
        body = _BODIES.get(route.path)
        event = deployment.api._proxy_event(
            route.method,
            path,
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            json.dumps(body).encode() if body else None,
            "203.0.113.7",
        )
        # what the authorizer hands on for this (client) session
        event["requestContext"]["authorizer"] = {
            "principalId": str(client_number),
            "client_number": str(client_number),
            "role": "client",
            "locale": "en",
            "session": "0" * 64,
        }
        reply = invoke(deployment.stack.functions()[function], event)
        assert reply["statusCode"] == 403, (route, reply["statusCode"], reply["body"][:200])
        assert json.loads(reply["body"])["code"] == "forbidden"


def test_staff_session_on_client_routes_is_403_forbidden(client):
    token = staff_token(client)
    for method, path, body in (
        ("GET", "/account", None),
        ("PATCH", "/account", {"full_name": "x"}),
        ("PUT", "/account/password", {"current_password": PASSWORD, "new_password": "x" * 20}),
        ("POST", "/account/email-change", {"new_email": "a@example.com", "current_password": "x"}),
        ("GET", "/account/authorised-emails", None),
        ("GET", "/services", None),
    ):
        expect_error(client.request(method, path, json=body, token=token), 403, "forbidden")
    # BUT logging out is allowed
    assert client.post("/auth/logout", token=token).status == 204


def test_staff_route_needs_a_session(client):
    expect_error(client.get("/staff/me"), 401, "unauthorized")
    expect_error(client.get("/staff/me", token="100001." + "A" * 43), 401, "unauthorized")


def test_staff_accounts_get_no_reset_link(client):
    # Staff passwords are reset by an administrator, never by a link a mailbox could use.
    if client.transport == "http":
        email = DEV_STAFF[0]
    else:
        staff_token(client)
        from clientarea.tables import AccountModel

        email = next(a.email for a in AccountModel.scan() if a.role == "support")
    assert client.post("/password/forgot", {"login": email}).status == 202
    assert not any("reset" in m["subject"] for m in client.mails(email, count=1, timeout=1))


# --- python -m infra.ops create-staff --------------------------------------------------------


@pytest.fixture
def deployed_stack() -> Iterator[dict[str, str]]:
    """A CloudFormation stack on a moto server holding the template's AccountsTable
    resource as written (no fixed table name: the command must look it up)."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    # The server shares this process's moto backends: start from, and leave, a clean slate.
    requests.post(f"http://127.0.0.1:{port}/moto-api/reset", timeout=10)
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    template = {
        "Resources": {"AccountsTable": stack_module.load().resources["AccountsTable"]},
    }
    cloudformation = boto3.client(
        "cloudformation", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="eu-west-1"
    )
    cloudformation.create_stack(StackName="clientarea-prod", TemplateBody=json.dumps(template))
    table = cloudformation.describe_stack_resource(
        StackName="clientarea-prod", LogicalResourceId="AccountsTable"
    )["StackResourceDetail"]["PhysicalResourceId"]
    try:
        yield {**env, "table": table}
    finally:
        requests.post(f"http://127.0.0.1:{port}/moto-api/reset", timeout=10)
        server.stop()


def _ops(stack: dict[str, str], *args: str, password: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "MOTO_PORT"}
    env.update({k: v for k, v in stack.items() if k != "table"})
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{ROOT / 'layers' / 'clientarea'}"
    env.pop("ACCOUNTS_TABLE", None)
    return subprocess.run(
        [sys.executable, "-m", "infra.ops", "create-staff", *args],
        input=password + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )


def _items(stack: dict[str, str]) -> dict[str, dict[str, Any]]:
    dynamodb = boto3.client(
        "dynamodb", endpoint_url=stack["AWS_ENDPOINT_URL"], region_name="eu-west-1"
    )
    return {i["pk"]["S"]: i for i in dynamodb.scan(TableName=stack["table"])["Items"]}


def test_ops_command_creates_a_staff_account_in_the_stacks_table(deployed_stack):
    from clientarea import passwords

    # WHEN an operator creates an admin, the password on stdin
    secret = "a long staff passphrase for ops"
    done = _ops(
        deployed_stack,
        "--email",
        "Ana.Admin@Example.COM",
        "--role",
        "admin",
        "--stack-name",
        "clientarea-prod",
        "--region",
        "eu-west-1",
        "--password-stdin",
        password=secret,
    )
    # THEN it succeeds and names what it created, never the password
    assert done.returncode == 0, done.stderr
    assert "admin" in done.stdout and "ana.admin" in done.stdout
    assert secret not in done.stdout + done.stderr
    # AND the stack's table holds the account and both uniqueness claims
    items = _items(deployed_stack)
    [account] = [i for pk, i in items.items() if pk.startswith("account#")]
    assert account["role"]["S"] == "admin"
    assert account["login"]["S"] == "ana.admin"
    assert account["email"]["S"] == "Ana.Admin@example.com"
    assert "email#ana.admin@example.com" in items
    assert "login#ana.admin" in items
    # AND the password is stored only as an argon2 hash that verifies
    stored = account["password_hash"]["S"]
    assert secret not in json.dumps(items)
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, secret)


def test_ops_command_refuses_weak_passwords_duplicates_and_unknown_stacks(deployed_stack):
    common = ("--role", "support", "--stage", "prod", "--password-stdin")
    # a weak password: refused with the rule's reason, nothing written
    weak = _ops(deployed_stack, "--email", "sam@example.com", *common, password="short")
    assert weak.returncode == 1
    assert "weak_password" in weak.stderr and "too_short" in weak.stderr
    assert _items(deployed_stack) == {}
    # a good one: created (the stack found as clientarea-<stage>)
    good = "support agent passphrase 2026"
    assert (
        _ops(deployed_stack, "--email", "sam@example.com", *common, password=good).returncode == 0
    )
    # the same address again: refused
    again = _ops(deployed_stack, "--email", "SAM@example.com", *common, password=good)
    assert again.returncode == 1
    assert "already exists" in again.stderr
    # a stack that does not exist: refused, naming it
    missing = _ops(
        deployed_stack,
        "--email",
        "x@example.com",
        "--role",
        "support",
        "--stack-name",
        "nope",
        "--password-stdin",
        password=good,
    )
    assert missing.returncode == 1
    assert "nope" in missing.stderr
    # and no password can be given on the command line
    argv = _ops(
        deployed_stack, "--email", "y@example.com", *common, "--password", good, password=""
    )
    assert argv.returncode == 2
