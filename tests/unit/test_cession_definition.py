"""The cession state machine definition (infra/statemachines/cession.asl.json) on its
own: a standalone Amazon States Language validator (statelint, a Python port of
awslabs/statelint), and the structural rules this flow depends on."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from clientarea.locales import SUPPORTED
from clientarea.mail.rendering import render
from statelint.linter import Linter

from infra.local.resources import Physical, substituted_definition
from infra.local.stack import ROOT, load

DEFINITION = ROOT / "infra" / "statemachines" / "cession.asl.json"
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")
SERVICE_INTEGRATIONS = (
    "arn:aws:states:::dynamodb:",
    "arn:aws:states:::aws-sdk:dynamodb:",
    "arn:aws:states:::sqs:",
)


def _machine() -> dict[str, Any]:
    return load().resources["CessionStateMachine"]["Properties"]


def _definition() -> dict[str, Any]:
    return json.loads(DEFINITION.read_text())


def _states(states: dict[str, Any], in_branch: bool = False) -> Iterator[tuple[str, dict, bool]]:
    """Every state, nested ones included, with whether it sits in a Parallel branch."""
    for name, state in states.items():
        yield name, state, in_branch
        for branch in state.get("Branches", []):
            yield from _states(branch["States"], in_branch=True)


def _substituted() -> str:
    physical = Physical(
        refs={
            "OrdersTable": "clientarea-OrdersTable",
            "ServicesTable": "clientarea-ServicesTable",
            "AccountsTable": "clientarea-AccountsTable",
            "MailQueue": "https://sqs.eu-central-1.amazonaws.com/123456789012/clientarea-MailQueue",
            "FrontendUrl": "https://clientarea.example.com",
            "CessionTimeoutSeconds": "604800",
        },
        conditions={"HostedFrontendUrl": False},
    )
    return substituted_definition(_machine(), physical)


def test_the_committed_definition_is_valid_asl():
    assert Linter.validate(str(DEFINITION)) == []


def test_the_deployed_definition_is_valid_asl():
    text = _substituted()
    assert PLACEHOLDER.search(text) is None
    assert Linter.validate(json.loads(text)) == []


def test_placeholders_and_substitutions_match_one_to_one():
    used = set(PLACEHOLDER.findall(DEFINITION.read_text()))
    assert used == set(_machine()["DefinitionSubstitutions"])


def test_the_template_wires_the_definition_and_the_window():
    machine = _machine()
    assert machine["Type"] == "STANDARD"
    assert machine["DefinitionUri"] == "infra/statemachines/cession.asl.json"
    assert machine["DefinitionSubstitutions"]["CessionTimeoutSeconds"] == {
        "Ref": "CessionTimeoutSeconds"
    }
    parameter = load().template["Parameters"]["CessionTimeoutSeconds"]
    assert parameter["Default"] == 7 * 24 * 3600
    function = load().functions()["CessionFunction"]
    assert function.environment["CESSION_TIMEOUT_SECONDS"] == {"Ref": "CessionTimeoutSeconds"}
    assert function.environment["CESSION_STATE_MACHINE_ARN"] == {"Ref": "CessionStateMachine"}


def test_the_state_machine_may_touch_only_its_tables_and_the_mail_queue():
    every = [
        statement for policy in _machine()["Policies"] for statement in policy.get("Statement", [])
    ]
    # Setting up its error-log delivery takes "*" (AWS documents no resource ARN for
    # these actions); none of them reads or writes data.
    delivery = [s for s in every if s.get("Sid") == "DeliverErrorLogs"]
    log_delivery = {
        f"logs:{action}"
        for action in (
            "CreateLogDelivery",
            "GetLogDelivery",
            "UpdateLogDelivery",
            "DeleteLogDelivery",
            "ListLogDeliveries",
            "PutResourcePolicy",
            "DescribeResourcePolicies",
            "DescribeLogGroups",
        )
    }
    assert all(set(s["Action"]) <= log_delivery for s in delivery)
    statements = [s for s in every if s not in delivery]
    resources = json.dumps([s["Resource"] for s in statements])
    assert '"*"' not in resources
    assert set(re.findall(r'"([A-Za-z]+Table)\.Arn"', resources)) <= {
        "OrdersTable",
        "ServicesTable",
        "AccountsTable",
    }
    (accounts,) = [s for s in statements if "AccountsTable" in json.dumps(s["Resource"])]
    assert accounts["Action"] == "dynamodb:GetItem"
    assert "password_hash" not in json.dumps(accounts["Condition"])


def test_only_dynamodb_and_sqs_service_integrations_no_lambda():
    for name, state, _ in _states(_definition()["States"]):
        if state["Type"] == "Task":
            assert state["Resource"].startswith(SERVICE_INTEGRATIONS), name


def test_both_waits_are_callbacks_that_store_the_token_on_the_order():
    waits = [
        (name, state)
        for name, state, in_branch in _states(_definition()["States"])
        if state.get("Resource", "").endswith(".waitForTaskToken")
    ]
    assert sorted(name for name, _ in waits) == ["WaitForOwner", "WaitForRecipient"]
    for name, state in waits:
        party = "owner" if name == "WaitForOwner" else "recipient"
        params = state["Parameters"]
        assert params["UpdateExpression"] == f"SET {party}_task_token = :token"
        # never overwritten once the party has answered or the order closed
        assert f"attribute_not_exists({party}_confirmed_at)" in params["ConditionExpression"]
        assert "#status = :open" in params["ConditionExpression"]
        assert params["ExpressionAttributeValues"][":token"] == {"S.$": "$$.Task.Token"}
        assert state["TimeoutSecondsPath"] == "$.timeout_seconds"


def test_no_error_can_leave_a_parallel_branch():
    # moto fails the whole execution on a States.* error leaving a branch (and a failed
    # branch would fail the order on AWS): every task in a branch catches everything.
    for name, state, in_branch in _states(_definition()["States"]):
        if in_branch and state["Type"] == "Task":
            caught = {error for c in state.get("Catch", []) for error in c["ErrorEquals"]}
            assert "States.ALL" in caught, name
            if name.startswith("WaitFor"):
                assert "States.Timeout" in caught, name


def test_the_transfer_is_one_conditioned_transaction():
    transfer = _definition()["States"]["Transfer"]
    assert transfer["Resource"] == "arn:aws:states:::aws-sdk:dynamodb:transactWriteItems"
    order, service = (item["Update"] for item in transfer["Parameters"]["TransactItems"])
    assert order["TableName"] == "${OrdersTable}"
    for condition in (
        "#status = :open",
        "attribute_exists(owner_confirmed_at)",
        "attribute_exists(recipient_confirmed_at)",
    ):
        assert condition in order["ConditionExpression"]
    assert service["TableName"] == "${ServicesTable}"
    assert service["ConditionExpression"] == (
        "owner_client_number = :owner AND open_order_id = :order_id"
    )
    assert service["UpdateExpression"] == (
        "SET owner_client_number = :recipient REMOVE open_order_id"
    )


def test_expiry_never_closes_an_order_both_parties_confirmed():
    expire = _definition()["States"]["Expire"]["Parameters"]["TransactItems"][0]["Update"]
    assert "attribute_not_exists(owner_confirmed_at) OR" in expire["ConditionExpression"]


def _sent_mails() -> list[dict[str, Any]]:
    notify = _definition()["States"]["Notify"]
    return [
        state["Parameters"]["MessageBody"]
        for branch in notify["Branches"]
        for state in branch["States"].values()
        if state.get("Resource") == "arn:aws:states:::sqs:sendMessage"
    ]


@pytest.mark.parametrize("locale", SUPPORTED)
@pytest.mark.parametrize("kind", ["cession_completed", "cession_expired"])
def test_what_the_workflow_mails_renders_in_every_language(kind: str, locale: str):
    kinds = {
        state["ResultSelector"]["kind"]
        for state in _definition()["States"].values()
        if state.get("ResultPath") == "$.outcome"
    }
    assert kinds == {"cession_completed", "cession_expired"}
    for body in _sent_mails():
        assert set(body) == {"kind.$", "to.$", "locale.$", "params"}
        params = {
            key.removesuffix(".$"): value if not key.endswith(".$") else "100042"
            for key, value in body["params"].items()
        }
        params |= {
            "order_link": "https://clientarea.example.com/orders/ces-1",
            "domain": "a.example",
        }
        mail = render(kind, locale, params)
        assert "a.example" in mail.subject
        assert "100042" in mail.text
