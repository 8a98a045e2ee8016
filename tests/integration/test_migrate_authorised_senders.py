"""infra/migrate_authorised_senders.py on moto: entries listed before confirmation
existed become pending, their unproven claims go, confirmed ones stay; idempotent; the
dry run writes nothing."""

from __future__ import annotations

import boto3

from infra import migrate_authorised_senders as migration
from tests.support.accounts import fresh_email, log_in, register_and_verify


def _account(client) -> dict:
    email = fresh_email("owner")
    created = register_and_verify(client, email)
    return {**created, "email": email, "token": log_in(client, email)}


def _legacy_sender(client_number: int, address: str) -> None:
    """What POST /account/authorised-emails wrote before issue 12: an entry without a
    status and, at once, the claim that maps inbound mail to the account."""
    from clientarea import clock
    from clientarea.storage import accounts as account_store
    from clientarea.storage.accounts import AccountModel, SenderModel

    account = AccountModel.get(account_store.account_key(client_number))
    entry = {"email": address, "added_at": "2026-01-01T00:00:00Z"}
    account.update(actions=[AccountModel.authorised_emails[address.casefold()].set(entry)])
    SenderModel(
        account_store.sender_claim_key(address),
        client_number=client_number,
        email=address,
        added_at=clock.now(),
    ).save()


def _scan(table: str) -> list[dict]:
    return sorted(
        boto3.client("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"], key=str
    )


def test_legacy_senders_become_pending_and_lose_their_claims_once(handler_client, deployment):
    from clientarea.accounts import senders as sender_rules
    from clientarea.storage import accounts as account_store

    client = handler_client
    table = deployment.table("AccountsTable")
    # GIVEN an account with two senders listed the old way, one confirmed the new way
    # and one pending the new way
    owner = _account(client)
    number = owner["client_number"]
    legacy, legacy_too = fresh_email("legacy"), fresh_email("legacy-too")
    _legacy_sender(number, legacy)
    _legacy_sender(number, legacy_too)
    confirmed, pending = fresh_email("confirmed"), fresh_email("pending")
    for address in (confirmed, pending):
        reply = client.post("/account/authorised-emails", {"email": address}, token=owner["token"])
        assert reply.status == 202
    token = client.mail_link_token(confirmed, subject_contains="confirm this address")
    assert client.post("/account/authorised-emails/confirm", {"token": token}).status == 200
    # AND a sender claim whose entry its account has since lost
    orphan = fresh_email("orphan")
    _legacy_sender(number, orphan)
    from clientarea.storage.accounts import AccountModel

    AccountModel.get(account_store.account_key(number)).update(
        actions=[AccountModel.authorised_emails[orphan.casefold()].remove()]
    )
    before = _scan(table)

    # WHEN the migration runs dry
    dry = migration.migrate(table, dry_run=True)
    # THEN it reports the work and writes nothing
    assert (dry.entries_made_pending, dry.claims_deleted, dry.claims_kept) == (2, 3, 1)
    assert dry.accounts == {number}
    assert _scan(table) == before

    # WHEN it runs
    done = migration.migrate(table, dry_run=False)
    # THEN the same work is done
    assert (done.entries_made_pending, done.claims_deleted, done.claims_kept) == (2, 3, 1)
    assert done.skipped_by_race == 0
    listed = client.get("/account/authorised-emails", token=owner["token"]).json()
    assert {e["email"]: e["status"] for e in listed} == {
        legacy: "pending",
        legacy_too: "pending",
        confirmed: "confirmed",
        pending: "pending",
    }
    # AND only the confirmed address still maps inbound mail to the account
    assert sender_rules.account_for_sender(confirmed).client_number == number
    for address in (legacy, legacy_too, pending, orphan):
        assert sender_rules.account_for_sender(address) is None
    # AND another account may now confirm a freed address (its real owner)
    other = _account(client)
    reply = client.post("/account/authorised-emails", {"email": legacy}, token=other["token"])
    assert reply.status == 202
    token = client.mail_link_token(legacy, subject_contains="confirm this address")
    assert client.post("/account/authorised-emails/confirm", {"token": token}).status == 200
    assert sender_rules.account_for_sender(legacy).client_number == other["client_number"]

    # WHEN it runs again / THEN it changes nothing
    after = _scan(table)
    again = migration.migrate(table, dry_run=False)
    assert (again.entries_made_pending, again.claims_deleted) == (0, 0)
    assert again.claims_kept == 2  # the confirmed sender of each account
    assert _scan(table) == after


def test_the_command_names_no_address(handler_client, deployment, capsys):
    owner = _account(handler_client)
    address = fresh_email("secret")
    _legacy_sender(owner["client_number"], address)
    table = deployment.table("AccountsTable")
    assert migration.main(["--table", table, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run on" in out and "1 entries without status would be made pending" in out
    assert address not in out and str(owner["client_number"]) in out
    assert migration.main(["--table", table]) == 0
    assert "1 unconfirmed sender claims were deleted" in capsys.readouterr().out
