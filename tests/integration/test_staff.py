"""Staff accounts: the /staff/... boundary through the real authorizer and gateway, and
the ops command that creates the first staff account in a deployed stack."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from infra.local import stack as stack_module
from tests.clients import ApiClient
from tests.conftest import _free_port
from tests.support.accounts import (
    DEV_STAFF,
    PASSWORD,
    fresh_email,
    log_in,
    new_account,
    provision_staff,
    register_and_verify,
    staff_token,
)
from tests.support.replies import expect_error

ROOT = Path(__file__).resolve().parents[2]


def _client_token(client: ApiClient) -> str:
    return new_account(client)["token"]


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
    from infra.local.lambdas import invoke

    deployment = handler_client.deployment
    account = new_account(handler_client)
    client_number, token = account["client_number"], account["token"]
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
        from clientarea.storage.accounts import AccountModel

        email = next(a.email for a in AccountModel.scan() if a.role == "support")
    assert client.post("/password/forgot", {"login": email}).status == 202
    assert not any("reset" in m["subject"] for m in client.settled_mails(email))


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
    resources = stack_module.load().resources
    template = {
        "Resources": {name: resources[name] for name in ("AccountsTable", "RateLimitsTable")},
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


def _ops(
    stack: dict[str, str], *args: str, password: str, command: str = "create-staff"
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "MOTO_PORT"}
    env.update({k: v for k, v in stack.items() if k != "table"})
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{ROOT / 'layers' / 'clientarea'}"
    env.pop("ACCOUNTS_TABLE", None)
    env.pop("RATE_LIMITS_TABLE", None)
    return subprocess.run(
        [sys.executable, "-m", "infra.ops", command, *args],
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


# --- the other staff commands, against a stack on a moto server ---------------------------

STACK = ("--stack-name", "clientarea-prod", "--region", "eu-west-1")


def _account_item(stack: dict[str, str], login: str) -> dict[str, Any]:
    [account] = [
        i
        for pk, i in _items(stack).items()
        if pk.startswith("account#") and i["login"]["S"] == login
    ]
    return account


def _create(stack: dict[str, str], email: str, role: str = "support") -> None:
    done = _ops(
        stack, "--email", email, "--role", role, *STACK, "--password-stdin", password=PASSWORD
    )
    assert done.returncode == 0, done.stderr


def test_ops_sets_a_staff_password_from_stdin_and_ends_its_sessions(deployed_stack):
    from clientarea import passwords

    _create(deployed_stack, "rita@example.com")
    before = _account_item(deployed_stack, "rita")
    # WHEN an administrator sets a new password (stdin, never argv)
    secret = "a brand new staff passphrase"
    done = _ops(
        deployed_stack,
        "rita",
        *STACK,
        "--password-stdin",
        password=secret,
        command="set-staff-password",
    )
    # THEN it is stored as a hash that verifies, and the session generation moved on
    assert done.returncode == 0, done.stderr
    assert secret not in done.stdout + done.stderr
    after = _account_item(deployed_stack, "rita")
    assert passwords.verify_password(after["password_hash"]["S"], secret)
    assert not passwords.verify_password(after["password_hash"]["S"], PASSWORD)
    assert int(after["session_generation"]["N"]) == int(before["session_generation"]["N"]) + 1
    # AND a weak one is refused with the rule's reason, an unknown member by name
    weak = _ops(
        deployed_stack,
        "rita",
        *STACK,
        "--password-stdin",
        password="short",
        command="set-staff-password",
    )
    assert weak.returncode == 1 and "too_short" in weak.stderr
    unknown = _ops(
        deployed_stack,
        "nobody",
        *STACK,
        "--password-stdin",
        password=secret,
        command="set-staff-password",
    )
    assert unknown.returncode == 1 and "no staff account" in unknown.stderr
    # AND there is no way to give it on the command line
    argv = _ops(
        deployed_stack,
        "rita",
        *STACK,
        "--password",
        secret,
        password="",
        command="set-staff-password",
    )
    assert argv.returncode == 2


def test_ops_disables_enables_and_lists_staff(deployed_stack):
    _create(deployed_stack, "ana@example.com", role="admin")
    _create(deployed_stack, "sam@example.com")
    generation = int(_account_item(deployed_stack, "sam")["session_generation"]["N"])
    # WHEN sam is disabled
    done = _ops(deployed_stack, "sam@example.com", *STACK, password="", command="disable-staff")
    assert done.returncode == 0, done.stderr
    sam = _account_item(deployed_stack, "sam")
    # THEN the account is disabled and every session of it is void (generation raised)
    assert sam["status"]["S"] == "disabled"
    assert int(sam["session_generation"]["N"]) == generation + 1
    # AND the listing shows both, with their roles and statuses, never a hash
    listed = _ops(deployed_stack, *STACK, "--json", password="", command="list-staff")
    assert listed.returncode == 0, listed.stderr
    rows = {row["login"]: row for row in json.loads(listed.stdout)}
    assert {(r["role"], r["status"]) for r in rows.values()} == {
        ("admin", "active"),
        ("support", "disabled"),
    }
    assert "argon2" not in listed.stdout
    table = _ops(deployed_stack, *STACK, password="", command="list-staff")
    assert "sam@example.com" in table.stdout and "2 staff account(s)" in table.stdout
    # WHEN enabled again THEN active, and the old sessions stay void
    assert _ops(deployed_stack, "sam", *STACK, password="", command="enable-staff").returncode == 0
    sam = _account_item(deployed_stack, "sam")
    assert sam["status"]["S"] == "active"
    assert int(sam["session_generation"]["N"]) == generation + 1


# --- what a disabled account or a new password means for sessions (in-process) -------------


@pytest.fixture
def ops_on_deployment(deployment, monkeypatch):
    """`infra.ops.main` against the in-process deployment's tables."""
    from infra import ops

    tables = {variable: deployment.table(logical) for variable, logical in ops.STACK_TABLES.items()}
    monkeypatch.setattr(ops, "stack_tables", lambda stack_name, region: tables)

    def run(*argv: str, password: str = "") -> int:
        return ops.main(
            [*argv, "--stack-name", "clientarea-local"], stdin=io.StringIO(password + "\n")
        )

    return run


def test_disabling_staff_ends_its_sessions_and_its_logins(handler_client, ops_on_deployment):
    # GIVEN a staff member signed in
    login = provision_staff()
    token = log_in(handler_client, login)
    assert handler_client.get("/staff/me", token=token).status == 200
    # WHEN an administrator disables the account
    assert ops_on_deployment("disable-staff", login) == 0
    # THEN the open session is refused on the very next request
    expect_error(handler_client.get("/staff/me", token=token), 401, "unauthorized")
    # AND the right password answers as a wrong one would
    expect_error(
        handler_client.post("/auth/login", {"login": login, "password": PASSWORD}),
        401,
        "invalid_credentials",
    )
    # WHEN enabled again THEN it may log in anew, but the old session stays dead
    assert ops_on_deployment("enable-staff", login) == 0
    expect_error(handler_client.get("/staff/me", token=token), 401, "unauthorized")
    assert handler_client.get("/staff/me", token=log_in(handler_client, login)).status == 200


def test_attack_disabled_account_logs_in_with_its_password(handler_client):
    # Written first: on the code before `sign_in.login` checked the status, this login
    # answered 200 with a fresh session for an account an administrator had switched off.
    from clientarea.storage.accounts import AccountModel

    login = provision_staff()
    account = next(a for a in AccountModel.scan() if getattr(a, "login", None) == login)
    account.update(actions=[AccountModel.status.set("disabled")])
    expect_error(
        handler_client.post("/auth/login", {"login": login, "password": PASSWORD}),
        401,
        "invalid_credentials",
    )


def test_authorizer_refuses_a_disabled_account_even_with_its_generation(handler_client):
    # Defence in depth: were the generation not raised with the status, the authorizer
    # still refuses a session of a disabled account.
    from clientarea.storage.accounts import AccountModel

    login = provision_staff()
    token = log_in(handler_client, login)
    account = next(a for a in AccountModel.scan() if getattr(a, "login", None) == login)
    account.update(actions=[AccountModel.status.set("disabled")])
    expect_error(handler_client.get("/staff/me", token=token), 401, "unauthorized")


def test_a_new_staff_password_ends_every_session(handler_client, ops_on_deployment):
    login = provision_staff()
    token = log_in(handler_client, login)
    new_password = "an administrator's new passphrase"
    assert (
        ops_on_deployment("set-staff-password", login, "--password-stdin", password=new_password)
        == 0
    )
    expect_error(handler_client.get("/staff/me", token=token), 401, "unauthorized")
    expect_error(
        handler_client.post("/auth/login", {"login": login, "password": PASSWORD}),
        401,
        "invalid_credentials",
    )
    assert (
        handler_client.get("/staff/me", token=log_in(handler_client, login, new_password)).status
        == 200
    )


def test_staff_commands_refuse_client_accounts(handler_client, ops_on_deployment, capsys):
    # A client's password is the client's own (reset by link, or manual recovery).
    client = register_and_verify(handler_client, fresh_email())
    token = log_in(handler_client, client["login"])
    for argv in (
        ("disable-staff", client["login"]),
        ("set-staff-password", client["login"], "--password-stdin"),
    ):
        assert ops_on_deployment(*argv, password="a perfectly fine passphrase") == 1
        assert "no staff account" in capsys.readouterr().err
    assert handler_client.get("/account", token=token).status == 200
