"""Least privilege down to attributes on the Accounts table (it holds password hashes).

The functions that need no password hash read (and write) only named attributes of it:
each of their statements on the table carries the fine-grained condition AWS documents
(`ForAllValues:StringEquals dynamodb:Attributes`, `StringEqualsIfExists dynamodb:Select
SPECIFIC_ATTRIBUTES`, and `dynamodb:ReturnValues` where they write). This parses
template.yaml; tests/accounts_iam.py checks, during every in-process integration test,
that what the code asks for fits these statements. The last tests here show that check
refusing what IAM would refuse.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.local.stack import load
from tests.accounts_iam import accounts_statements, refusals

# Each one's reads, from the code: see the projections in clientarea.accounts' callers.
NO_PASSWORD_HASH = {
    "RecoveryFunction",  # whose an account hint is
    "RecoveryStaffFunction",  # the holder's name; the contact-email switch; cession notices
    "SupportFunction",  # an access request's named account, to acknowledge it
    "StaffSupportFunction",  # where a staff reply goes
    "CessionFunction",  # the recipient's role and status; the parties' contact
    "IntakeFunction",  # whose a sender address is
    "PasswordResetWorkerFunction",  # the account a reset request names, and its mail
    "CessionStateMachine",  # the parties' contact, to mail the outcome
    "MailerFunction",  # an email claim's undeliverable flag, before each send
    "BouncesFunction",  # an email claim's owner; both undeliverable flags
}
# These read or write the hash itself: login and registration, the reset, the
# re-authentication before a contact-email change (which may still write none of the
# secrets: see below), and the authorizer (which reads the session's account whole).
WHOLE_ITEM = {
    "AccountsFunction",
    "PasswordResetFunction",
    "ContactEmailFunction",
    "AuthorizerFunction",
}
SECRETS = {"password_hash"}
# Writing these would change who can log in, or as what.
SECURITY_STATE = {"password_hash", "role", "status", "login"}
WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
SAFE_RETURN_VALUES = {"NONE", "UPDATED_OLD", "UPDATED_NEW"}


def _with_accounts_statements() -> set[str]:
    resources = load().resources
    kinds = {"AWS::Serverless::Function", "AWS::Serverless::StateMachine"}
    return {
        logical_id
        for logical_id, resource in resources.items()
        if resource["Type"] in kinds and accounts_statements(logical_id)
    }


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def _model_attributes() -> set[str]:
    from clientarea.storage.accounts import AccountModel, ClaimModel, CounterModel, SenderModel

    return {
        attribute.attr_name
        for model in (AccountModel, ClaimModel, SenderModel, CounterModel)
        for attribute in model.get_attributes().values()
    }


def test_every_function_on_the_accounts_table_is_classified() -> None:
    # A new function that touches the table must be put in one of the two sets (and if
    # it needs no hash, get the condition): an unclassified one fails here.
    assert _with_accounts_statements() == NO_PASSWORD_HASH | WHOLE_ITEM


@pytest.mark.parametrize("logical_id", sorted(NO_PASSWORD_HASH))
def test_functions_without_need_of_the_hash_read_only_named_attributes(logical_id: str) -> None:
    statements = accounts_statements(logical_id)
    assert statements
    for statement in statements:
        condition = statement.get("Condition", {})
        listed = set(condition["ForAllValues:StringEquals"]["dynamodb:Attributes"])
        assert not listed & SECRETS, (logical_id, statement["Sid"])
        assert listed <= _model_attributes(), listed - _model_attributes()  # no typo, no "*"
        assert "pk" in listed  # the key every request names
        if_exists = condition["StringEqualsIfExists"]
        assert if_exists["dynamodb:Select"] == "SPECIFIC_ATTRIBUTES"  # no read of everything
        if _actions(statement) & WRITES:
            assert not listed & SECURITY_STATE
            returned = if_exists["dynamodb:ReturnValues"]  # a value or a list of them
            assert set([returned] if isinstance(returned, str) else returned) <= SAFE_RETURN_VALUES
        assert not _actions(statement) & {"dynamodb:*", "dynamodb:Scan"}


def test_the_contact_email_function_writes_no_password_role_or_status() -> None:
    """It reads the whole account (re-authentication checks the password hash), but
    every write it may make is limited to the contact and sender attributes."""
    for statement in accounts_statements("ContactEmailFunction"):
        if _actions(statement) & WRITES:
            listed = set(statement["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"])
            assert not listed & SECURITY_STATE
        else:
            assert _actions(statement) == {"dynamodb:GetItem"}


# --- the request check (tests/accounts_iam.py) refuses what IAM would ----------------------


def _get(projection: str | None, names: dict[str, str] | None = None) -> dict[str, Any]:
    from infra.local.stack import physical_name

    request: dict[str, Any] = {
        "TableName": physical_name("AccountsTable"),
        "Key": {"pk": {"S": "account#100001"}},
    }
    if projection:
        request["ProjectionExpression"] = projection
        request["ExpressionAttributeNames"] = names or {}
    return request


def test_a_read_without_projection_is_refused_to_a_restricted_function() -> None:
    assert refusals("CessionFunction", "GetItem", _get(None))
    assert refusals("CessionFunction", "GetItem", _get("#0", {"#0": "password_hash"}))
    assert not refusals("CessionFunction", "GetItem", _get("#0, #1", {"#0": "pk", "#1": "email"}))
    # the login function may read the whole item
    assert not refusals("AccountsFunction", "GetItem", _get(None))


def test_projections_inside_a_transaction_are_checked_one_by_one() -> None:
    items = [{"Get": _get("#0", {"#0": "client_number"})}, {"Get": _get(None)}]
    refused = refusals("RecoveryFunction", "TransactGetItems", {"TransactItems": items})
    assert len(refused) == 1


def test_a_write_of_the_password_or_returning_the_whole_item_is_refused() -> None:
    from infra.local.stack import physical_name

    update = {
        "TableName": physical_name("AccountsTable"),
        "Key": {"pk": {"S": "account#100001"}},
        "UpdateExpression": "SET #0 = :0",
        "ExpressionAttributeNames": {"#0": "email"},
        "ExpressionAttributeValues": {":0": {"S": "new@example.org"}},
    }
    assert not refusals("RecoveryStaffFunction", "UpdateItem", update)
    assert refusals("RecoveryStaffFunction", "UpdateItem", {**update, "ReturnValues": "ALL_NEW"})
    hash_update = {**update, "ExpressionAttributeNames": {"#0": "password_hash"}}
    assert refusals("RecoveryStaffFunction", "UpdateItem", hash_update)
    assert refusals("ContactEmailFunction", "UpdateItem", hash_update)
    # the mailer reads an email claim's flag, nothing of an account
    assert refusals("MailerFunction", "GetItem", _get("#0", {"#0": "email"}))
    claim = {
        **_get("#0, #1", {"#0": "pk", "#1": "undeliverable"}),
        "Key": {"pk": {"S": "email#a@b.c"}},
    }
    assert not refusals("MailerFunction", "GetItem", claim)
    assert refusals("MailerFunction", "GetItem", {**claim, "Key": {"pk": {"S": "account#1"}}})


def test_the_check_runs_inside_the_local_invoke(deployment: Any, accounts_access: Any) -> None:
    """Through the fixture every in-process test uses: a whole-item read by a function
    allowed named attributes only is recorded (and would fail that test)."""
    from clientarea.storage.accounts import AccountModel

    from infra.local import lambdas

    # as on the thread of one of SupportFunction's execution environments
    lambdas._current.invocation = lambdas.Invocation("SupportFunction")
    try:
        with pytest.raises(AccountModel.DoesNotExist):
            AccountModel.get("account#1")
    finally:
        lambdas._current.invocation = None
    (refused,) = accounts_access.refused
    assert refused.startswith("SupportFunction: dynamodb:GetItem")
    accounts_access.refused.clear()  # recorded: this test made it on purpose
