"""One-off migration (issue 12): authorised senders listed before confirmation existed
become pending. `python -m infra.migrate_authorised_senders --stack-name S [--dry-run]`.

Until issue 12 any client could list any address as an authorised sender, and the
`sender#<address>` claim that maps inbound mail to an account was written at once,
without proof of the mailbox. Now an entry is `pending` until the link mailed to the
address is used, and the claim is written only then. For the entries that exist:

1. every entry of an account's `authorised_emails` map without a `status` is set to
   `pending` (its owner sees it so, and may ask for a confirmation link again);
2. every `sender#` claim whose account has no *confirmed* entry for that address is
   deleted, in a transaction that re-checks the entry, so a confirmation racing with
   the migration is never undone.

Idempotent: entries with a status and claims backed by a confirmed entry are left
alone, so a second run changes nothing. `--dry-run` reads and reports, writes nothing.
The code treats an entry without status as pending already (see
`clientarea.accounts.senders.is_confirmed_sender`): the migration makes the data say so, and
frees the addresses that unproven claims would otherwise keep from their real owners
(a confirmation is refused while another account holds the claim).

What is printed: counts and client numbers, never an address.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from infra.ops import OpsError, stack_tables

PENDING = "pending"
CONFIRMED = "confirmed"


@dataclass
class Report:
    dry_run: bool
    entries_made_pending: int = 0
    claims_deleted: int = 0
    claims_kept: int = 0
    skipped_by_race: int = 0
    accounts: set[int] = field(default_factory=set)

    def lines(self) -> list[str]:
        verb = "would be" if self.dry_run else "were"
        return [
            f"{self.entries_made_pending} entries without status {verb} made pending",
            f"{self.claims_deleted} unconfirmed sender claims {verb} deleted",
            f"{self.claims_kept} sender claims backed by a confirmed entry kept",
            f"{self.skipped_by_race} changes skipped (the item changed meanwhile)",
            "accounts touched: " + (", ".join(map(str, sorted(self.accounts))) or "none"),
        ]


def _items(dynamodb: Any, table: str) -> Iterator[dict[str, Any]]:
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        yield from page["Items"]


def _status(entry: dict[str, Any]) -> str | None:
    status = entry.get("M", {}).get("status", {})
    return status.get("S")


def _is_conditional_failure(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code")
    return code in {"ConditionalCheckFailedException", "TransactionCanceledException"}


def migrate(table: str, *, dry_run: bool, dynamodb: Any | None = None) -> Report:
    """Make every status-less entry pending and delete every unbacked sender claim."""
    dynamodb = dynamodb or boto3.client("dynamodb")
    report = Report(dry_run=dry_run)
    accounts: dict[str, dict[str, Any]] = {}
    claims: list[dict[str, Any]] = []
    for item in _items(dynamodb, table):
        pk = item["pk"]["S"]
        if pk.startswith("account#"):
            accounts[pk] = item
        elif pk.startswith("sender#"):
            claims.append(item)
    for pk, item in accounts.items():
        senders = item.get("authorised_emails", {}).get("M", {})
        for key, entry in senders.items():
            if _status(entry) is None:
                report.accounts.add(int(item["client_number"]["N"]))
                _count(
                    report,
                    "entries_made_pending",
                    dry_run or _make_pending(dynamodb, table, pk, key),
                )
    for claim in claims:
        client_number = claim["client_number"]["N"]
        key = claim["pk"]["S"].removeprefix("sender#")
        senders = accounts.get(f"account#{client_number}", {}).get("authorised_emails", {})
        entry = senders.get("M", {}).get(key)
        if entry is not None and _status(entry) == CONFIRMED:
            report.claims_kept += 1
            continue
        report.accounts.add(int(client_number))
        _count(report, "claims_deleted", dry_run or _delete_claim(dynamodb, table, claim, key))
    return report


def _count(report: Report, what: str, done: bool) -> None:
    if done:
        setattr(report, what, getattr(report, what) + 1)
    else:
        report.skipped_by_race += 1


def _make_pending(dynamodb: Any, table: str, pk: str, key: str) -> bool:
    """Set the entry's status to pending, unless it is gone or has a status by now."""
    return _conditional(
        dynamodb.update_item,
        TableName=table,
        Key={"pk": {"S": pk}},
        UpdateExpression="SET #m.#k.#s = :pending",
        ConditionExpression="attribute_exists(#m.#k) AND attribute_not_exists(#m.#k.#s)",
        ExpressionAttributeNames={"#m": "authorised_emails", "#k": key, "#s": "status"},
        ExpressionAttributeValues={":pending": {"S": PENDING}},
    )


def _delete_claim(dynamodb: Any, table: str, claim: dict[str, Any], key: str) -> bool:
    """Delete the claim, unless its account confirmed the address by now (a confirmation
    that won the race keeps its claim) or the claim changed hands."""
    client_number = claim["client_number"]["N"]
    still_unconfirmed = {
        "TableName": table,
        "Key": {"pk": {"S": f"account#{client_number}"}},
        "ConditionExpression": (
            "attribute_not_exists(#m.#k) OR attribute_not_exists(#m.#k.#s) OR #m.#k.#s <> :c"
        ),
        "ExpressionAttributeNames": {"#m": "authorised_emails", "#k": key, "#s": "status"},
        "ExpressionAttributeValues": {":c": {"S": CONFIRMED}},
    }
    delete = {
        "TableName": table,
        "Key": {"pk": claim["pk"]},
        "ConditionExpression": "client_number = :n",
        "ExpressionAttributeValues": {":n": {"N": client_number}},
    }
    return _conditional(
        dynamodb.transact_write_items,
        TransactItems=[{"ConditionCheck": still_unconfirmed}, {"Delete": delete}],
    )


def _conditional(call: Any, **request: Any) -> bool:
    """True when the write happened, False when its condition no longer held."""
    try:
        call(**request)
    except ClientError as exc:
        if not _is_conditional_failure(exc):
            raise
        return False
    return True


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m infra.migrate_authorised_senders", description=__doc__.split("\n")[0]
    )
    where = root.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack-name", help="the CloudFormation stack holding AccountsTable")
    where.add_argument("--table", help="the accounts table's name (instead of --stack-name)")
    root.add_argument("--region", help="AWS region (default: the environment's)")
    root.add_argument(
        "--dry-run", action="store_true", help="report what would change, write nothing"
    )
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    try:
        table = args.table or stack_tables(args.stack_name, region)["ACCOUNTS_TABLE"]
        report = migrate(
            table, dry_run=args.dry_run, dynamodb=boto3.client("dynamodb", region_name=region)
        )
    except OpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{'dry run on' if args.dry_run else 'migrated'} {table}:")
    for line in report.lines():
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
