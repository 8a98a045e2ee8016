"""The deploy path: samconfig.toml's environments, the check `make deploy` runs before
`sam deploy`, and what it prints after (infra/deploy.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra import deploy

FILLED = {  # what an operator writes over the placeholders
    "FrontendUrl": "https://clientarea.hoster.example",
    "AllowedOrigins": "https://clientarea.hoster.example",
    "SenderAddress": "no-reply@hoster.example",
    "SupportAddress": "support@hoster.example",
    "SalesAddress": "sales@hoster.example",
    "AlarmEmail": "oncall@hoster.example",
    "RecoveryPostalAddress": "Hoster Ltd, 1 Main Street, Kyiv",
}


def filled_samconfig(tmp_path: Path, drop: str | None = None) -> Path:
    text = deploy.SAMCONFIG.read_text()
    for name, value in FILLED.items():
        quoted = '\\"' if " " in value else ""
        text = re.sub(
            rf'"{name}=[^"\n]*?(\\")?<[^>]*>(\\")?"', f'"{name}={quoted}{value}{quoted}"', text
        )
    if drop:
        text = "\n".join(line for line in text.splitlines() if f'"{drop}=' not in line)
    path = tmp_path / "samconfig.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("environment", deploy.ENVIRONMENTS)
def test_as_committed_only_the_placeholders_stand_in_the_way(environment):
    found = deploy.problems(environment)
    assert found, "the committed samconfig.toml must not carry real addresses"
    assert all("still the placeholder" in problem for problem in found), found
    named = {problem.split(":")[0] for problem in found}
    assert {"FrontendUrl", "SenderAddress", "SupportAddress", "SalesAddress", "AlarmEmail"} <= named


@pytest.mark.parametrize("environment", deploy.ENVIRONMENTS)
def test_a_placeholder_is_refused_by_the_template_itself(environment):
    # Deployed without `make deploy`, CloudFormation still refuses every placeholder
    # that stands for an address or a URL.
    parameters = deploy.template_parameters()
    overrides = deploy.parameter_overrides(deploy.deploy_settings(environment))
    for name, value in overrides.items():
        pattern = parameters[name].get("AllowedPattern")
        if pattern and deploy.PLACEHOLDER.search(value):
            assert not re.fullmatch(pattern, value), f"{name}={value} passes {pattern}"


@pytest.mark.parametrize("environment", deploy.ENVIRONMENTS)
def test_filled_in_it_deploys_and_every_value_fits_its_parameter(environment, tmp_path):
    samconfig = filled_samconfig(tmp_path)
    assert deploy.problems(environment, samconfig) == []
    parameters = deploy.template_parameters()
    overrides = deploy.parameter_overrides(deploy.deploy_settings(environment, samconfig))
    for name, value in overrides.items():
        spec = parameters[name]
        if "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], value), (name, value)
        if "AllowedValues" in spec:
            assert value in [str(v) for v in spec["AllowedValues"]], (name, value)
    assert overrides["RecoveryPostalAddress" if environment == "prod" else "Stage"]


def test_a_parameter_without_default_left_out_is_named(tmp_path):
    samconfig = filled_samconfig(tmp_path, drop="AlarmEmail")
    assert deploy.problems("prod", samconfig) == [
        "AlarmEmail: no value (the template has no default: it must be real)"
    ]


def test_environments_deploy_as_the_issue_asks():
    dev, prod = (deploy.deploy_settings(e) for e in ("dev", "prod"))
    assert (dev["stack_name"], prod["stack_name"]) == ("clientarea-dev", "clientarea-prod")
    assert prod["confirm_changeset"] is True and dev["confirm_changeset"] is False
    for settings in (dev, prod):
        assert settings["resolve_s3"] is True
        assert "CAPABILITY_IAM" in settings["capabilities"]


def test_check_refuses_with_the_list_and_exit_status(capsys):
    assert deploy.main(["check", "prod"]) == 1
    err = capsys.readouterr().err
    assert "FrontendUrl: still the placeholder" in err


# --- after the deploy --------------------------------------------------------------------------


@pytest.fixture
def deployed(monkeypatch) -> dict[str, Any]:
    """A stack on moto with the two outputs `after` reads, and its rule set."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-central-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        template = {
            "Resources": {"AlarmTopic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {
                "AlarmTopicArn": {"Value": {"Ref": "AlarmTopic"}},
                "SupportReceiptRuleSetName": {"Value": "clientarea-prod-rules"},
            },
        }
        cloudformation = boto3.client("cloudformation", region_name="eu-central-1")
        cloudformation.create_stack(StackName="clientarea-prod", TemplateBody=json.dumps(template))
        boto3.client("ses", region_name="eu-central-1").create_receipt_rule_set(
            RuleSetName="clientarea-prod-rules"
        )
        yield {"ses": boto3.client("ses", region_name="eu-central-1")}


def test_after_a_deploy_the_inactive_rule_set_is_explained(deployed):
    text = deploy.after("prod")
    assert "clientarea-prod-rules is NOT active in eu-central-1" in text
    assert "REPLACES the active" in text and "deleting this stack fails" in text
    assert "aws ses set-active-receipt-rule-set --rule-set-name clientarea-prod-rules" in text
    deployed["ses"].set_active_receipt_rule_set(RuleSetName="clientarea-prod-rules")
    assert "is the active one" in deploy.after("prod")


def test_after_a_deploy_an_unconfirmed_alarm_address_is_named(deployed):
    class PendingSns:
        def list_subscriptions_by_topic(self, TopicArn: str) -> dict[str, Any]:
            return {
                "Subscriptions": [
                    {"SubscriptionArn": "PendingConfirmation", "Endpoint": "oncall@hoster.example"}
                ]
            }

    def clients(service: str) -> Any:
        if service == "sns":
            return PendingSns()
        return boto3.client(service, region_name="eu-central-1")

    assert "oncall@hoster.example is not confirmed yet" in deploy.after("prod", clients)


def test_without_access_to_the_account_the_reminder_is_still_printed(monkeypatch):
    def clients(service: str) -> Any:
        from botocore.exceptions import NoCredentialsError

        raise NoCredentialsError

    text = deploy.after("dev", clients)
    assert "aws ses set-active-receipt-rule-set" in text and "REPLACES" in text
