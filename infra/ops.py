"""Operator commands against a deployed stack: `python -m infra.ops <command> ...`.

    create-staff         create a staff account (role support or admin)
    set-staff-password   give a staff account a new password (ends its sessions)
    disable-staff        switch a staff account off (ends its sessions at once)
    enable-staff         switch it on again (it logs in anew)
    list-staff           every staff account with its role and status

Run from the repository root with the layer on the path, e.g.
`make create-staff ARGS="--email ana@example.com --role admin --stack-name clientarea-prod"`,
with AWS credentials for the target account in the environment. A password is read
with getpass (typed twice), or as one line from stdin with --password-stdin, never
from the command line (argv is visible to every process on the machine and lands in
shell history). It must follow the same rules as every password (NIST SP 800-63B-4).
The rules of the staff commands themselves are in `clientarea.staff`.

Tables are found from the CloudFormation stack itself (its AccountsTable and
RateLimitsTable resources), so nothing is copied by hand from the console.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import sys
from typing import TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

# Environment variable the clientarea package reads -> the stack's logical resource.
STACK_TABLES = {"ACCOUNTS_TABLE": "AccountsTable", "RATE_LIMITS_TABLE": "RateLimitsTable"}
_LOGIN_CHARS = re.compile(r"[^a-z0-9._-]")


class OpsError(Exception):
    """A refusal the operator can act on (printed without a traceback)."""


def stack_tables(stack_name: str, region: str | None) -> dict[str, str]:
    """The physical names of the stack's tables the staff commands use, by variable."""
    cloudformation = boto3.client("cloudformation", region_name=region)
    names = {}
    for variable, logical_id in STACK_TABLES.items():
        try:
            detail = cloudformation.describe_stack_resource(
                StackName=stack_name, LogicalResourceId=logical_id
            )["StackResourceDetail"]
        except (ClientError, BotoCoreError) as exc:
            raise OpsError(f"cannot read {logical_id} of stack {stack_name!r}: {exc}") from exc
        names[variable] = str(detail["PhysicalResourceId"])
    return names


def connect(args: argparse.Namespace) -> str:
    """Point the clientarea package at the stack's tables; the accounts table's name."""
    region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    tables = stack_tables(args.stack_name or f"clientarea-{args.stage}", region)
    # clientarea.storage's models read the table names and region when first imported, as on Lambda.
    os.environ.update(tables)
    if region:
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = region
    from clientarea.storage.accounts import AccountModel  # noqa: PLC0415
    from clientarea.storage.throttling import RateLimitModel  # noqa: PLC0415

    if (AccountModel.Meta.table_name, RateLimitModel.Meta.table_name) != (
        tables["ACCOUNTS_TABLE"],
        tables["RATE_LIMITS_TABLE"],
    ):
        raise OpsError("clientarea.storage was imported before the tables were known")
    return tables["ACCOUNTS_TABLE"]


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
    table = connect(args)
    from clientarea.accounts import registration  # noqa: PLC0415 - only once the environment names the table
    from clientarea.errors import ConditionsFailed  # noqa: PLC0415
    from clientarea.roles import Role  # noqa: PLC0415

    password = read_password(args.password_stdin, stdin)
    login = args.login or default_login(args.email)
    try:
        view = registration.provision(
            email=args.email,
            password=password,
            full_name=args.full_name or login,
            login=login,
            role=Role(args.role),
            locale=args.locale,
        )
    except ConditionsFailed as exc:
        raise OpsError("an account with this email or login already exists") from exc
    return (
        f"created {args.role} account {view.login} <{view.email}> "
        f"(client number {view.client_number}) in {table}"
    )


def set_staff_password(args: argparse.Namespace, stdin: TextIO) -> str:
    connect(args)
    from clientarea import staff  # noqa: PLC0415

    staff.find(args.member)  # an unknown member is refused before a password is asked
    member = staff.set_password(args.member, read_password(args.password_stdin, stdin))
    return f"new password set for {member.login} <{member.email}>; every session of it ended"


def disable_staff(args: argparse.Namespace, _stdin: TextIO) -> str:
    connect(args)
    from clientarea import staff  # noqa: PLC0415

    member = staff.disable(args.member)
    return f"disabled {member.login} <{member.email}>; every session of it ended"


def enable_staff(args: argparse.Namespace, _stdin: TextIO) -> str:
    connect(args)
    from clientarea import staff  # noqa: PLC0415

    member = staff.enable(args.member)
    return f"enabled {member.login} <{member.email}>; it must log in anew"


def list_staff(args: argparse.Namespace, _stdin: TextIO) -> str:
    connect(args)
    from clientarea import staff  # noqa: PLC0415

    members = staff.list_all()
    if args.json:
        return json.dumps([m.as_dict() for m in members], indent=2)
    columns = ("login", "email", "role", "status", "client_number", "created_at")
    rows = [columns, *((str(getattr(m, c)) for c in columns) for m in members)]
    rows = [tuple(row) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join([*(line.rstrip() for line in lines), f"{len(members)} staff account(s)"])


COMMANDS = {
    "create-staff": create_staff,
    "set-staff-password": set_staff_password,
    "disable-staff": disable_staff,
    "enable-staff": enable_staff,
    "list-staff": list_staff,
}


def _stack_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--stage", default="dev", help="stack clientarea-<stage> (default dev)")
    command.add_argument("--stack-name", help="the CloudFormation stack (overrides --stage)")
    command.add_argument("--region", help="AWS region (default: the environment's)")


def _password_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--password-stdin", action="store_true", help="read the password as one line of stdin"
    )


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m infra.ops", description=__doc__.split("\n")[0])
    commands = root.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-staff", help="create a staff account")
    create.add_argument("--email", required=True)
    create.add_argument("--role", required=True, choices=["support", "admin"])
    create.add_argument("--login", help="login name (default: the email's local part)")
    create.add_argument("--full-name", help="display name (default: the login)")
    create.add_argument("--locale", default="en", choices=["en", "uk", "ru", "pl", "pt"])
    _stack_options(create)
    _password_option(create)
    member_help = "the staff account's login or email"
    password = commands.add_parser(
        "set-staff-password", help="a new password for a staff account (ends its sessions)"
    )
    password.add_argument("member", help=member_help)
    _stack_options(password)
    _password_option(password)
    for name, text in (
        ("disable-staff", "switch a staff account off and end its sessions"),
        ("enable-staff", "switch a disabled staff account on again"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("member", help=member_help)
        _stack_options(command)
    listing = commands.add_parser("list-staff", help="every staff account")
    listing.add_argument("--json", action="store_true", help="JSON instead of a table")
    _stack_options(listing)
    return root


def main(argv: list[str] | None = None, stdin: TextIO = sys.stdin) -> int:
    args = parser().parse_args(argv)
    from clientarea.errors import DomainError  # noqa: PLC0415 - no table names in it
    from pynamodb.exceptions import PynamoDBException  # noqa: PLC0415

    try:
        print(COMMANDS[args.command](args, stdin))
    except OpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except DomainError as exc:
        print(f"error: refused: {exc.code} ({exc})", file=sys.stderr)
        return 1
    except PynamoDBException as exc:
        print(f"error: {exc.msg}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
