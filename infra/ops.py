"""Operator commands against a deployed stack: `python -m infra.ops <command> ...`.

    create-staff   create a staff account (role support or admin) in the stack's tables

Run from the repository root with the layer on the path, e.g.
`make create-staff ARGS="--email ana@example.com --role admin --stack-name clientarea-prod"`,
with AWS credentials for the target account in the environment. The password is read
with getpass (typed twice), or as one line from stdin with --password-stdin, never
from the command line (argv is visible to every process on the machine and lands in
shell history). It must follow the same rules as every password (NIST SP 800-63B-4).

Tables are found from the CloudFormation stack itself (the AccountsTable resource), so
nothing is copied by hand from the console.
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
from typing import TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

ACCOUNTS_TABLE_RESOURCE = "AccountsTable"
_LOGIN_CHARS = re.compile(r"[^a-z0-9._-]")


class OpsError(Exception):
    """A refusal the operator can act on (printed without a traceback)."""


def accounts_table(stack_name: str, region: str | None) -> str:
    """The physical name of the stack's accounts table."""
    cloudformation = boto3.client("cloudformation", region_name=region)
    try:
        detail = cloudformation.describe_stack_resource(
            StackName=stack_name, LogicalResourceId=ACCOUNTS_TABLE_RESOURCE
        )["StackResourceDetail"]
    except (ClientError, BotoCoreError) as exc:
        raise OpsError(f"cannot read stack {stack_name!r}: {exc}") from exc
    return str(detail["PhysicalResourceId"])


def read_password(from_stdin: bool, stdin: TextIO) -> str:
    if from_stdin:
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password for the staff account: ")
    if getpass.getpass("Same password again: ") != first:
        raise OpsError("the two passwords differ")
    return first


def default_login(email: str) -> str:
    return _LOGIN_CHARS.sub("", email.partition("@")[0].lower())


def create_staff(args: argparse.Namespace, stdin: TextIO) -> str:
    region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    table = accounts_table(args.stack_name or f"clientarea-{args.stage}", region)
    # clientarea.tables reads the table name and region when first imported, as on Lambda.
    os.environ["ACCOUNTS_TABLE"] = table
    if region:
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = region
    from clientarea import accounts  # noqa: PLC0415 - only once the environment names the table
    from clientarea.errors import DomainError  # noqa: PLC0415
    from clientarea.roles import Role  # noqa: PLC0415
    from clientarea.tables import AccountModel  # noqa: PLC0415
    from pynamodb.exceptions import TransactWriteError  # noqa: PLC0415

    if AccountModel.Meta.table_name != table:
        raise OpsError("clientarea.tables was imported before the table was known")
    password = read_password(args.password_stdin, stdin)
    login = args.login or default_login(args.email)
    try:
        view = accounts.provision(
            email=args.email,
            password=password,
            full_name=args.full_name or login,
            login=login,
            role=Role(args.role),
            locale=args.locale,
        )
    except DomainError as exc:
        raise OpsError(f"refused: {exc.code} ({exc})") from exc
    except TransactWriteError as exc:
        raise OpsError("an account with this email or login already exists") from exc
    return (
        f"created {args.role} account {view.login} <{view.email}> "
        f"(client number {view.client_number}) in {table}"
    )


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m infra.ops", description=__doc__.split("\n")[0])
    commands = root.add_subparsers(dest="command", required=True)
    staff = commands.add_parser("create-staff", help="create a staff account")
    staff.add_argument("--email", required=True)
    staff.add_argument("--role", required=True, choices=["support", "admin"])
    staff.add_argument("--login", help="login name (default: the email's local part)")
    staff.add_argument("--full-name", help="display name (default: the login)")
    staff.add_argument("--locale", default="en", choices=["en", "uk", "ru", "pl", "pt"])
    staff.add_argument("--stage", default="dev", help="stack clientarea-<stage> (default dev)")
    staff.add_argument("--stack-name", help="the CloudFormation stack (overrides --stage)")
    staff.add_argument("--region", help="AWS region (default: the environment's)")
    staff.add_argument(
        "--password-stdin", action="store_true", help="read the password as one line of stdin"
    )
    return root


def main(argv: list[str] | None = None, stdin: TextIO = sys.stdin) -> int:
    args = parser().parse_args(argv)
    try:
        print(create_staff(args, stdin))
    except OpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
