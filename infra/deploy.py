"""`make deploy ENV=dev|prod` around `sam deploy --config-env ENV`:

    python -m infra.deploy check ENV   before: samconfig.toml names a real value for every
                                       parameter without a default, no <placeholder> left
    python -m infra.deploy after ENV   after: what the stack cannot do by itself (the SES
                                       receipt rule set to activate, the alarm address to
                                       confirm), checked against the account when it can be

The parameter overrides are read with SAM CLI's own parser, so what is checked is what
`sam deploy` will pass.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMCONFIG = ROOT / "samconfig.toml"
TEMPLATE = ROOT / "template.yaml"
PLACEHOLDER = re.compile(r"<[^>]*>")
ENVIRONMENTS = ("dev", "prod")


class DeployError(Exception):
    """Something to fix before deploying (printed without a traceback)."""


def deploy_settings(environment: str, samconfig: Path = SAMCONFIG) -> dict[str, Any]:
    config = tomllib.loads(samconfig.read_text())
    try:
        return config[environment]["deploy"]["parameters"]
    except KeyError as exc:
        raise DeployError(f"{samconfig.name} has no [{environment}.deploy.parameters]") from exc


def parameter_overrides(settings: dict[str, Any]) -> dict[str, str]:
    """The overrides as `sam deploy` parses them."""
    from samcli.cli.types import CfnParameterOverridesType  # noqa: PLC0415 - SAM CLI is big

    return dict(
        CfnParameterOverridesType().convert(settings.get("parameter_overrides"), None, None)
    )


def template_parameters(template: Path = TEMPLATE) -> dict[str, dict[str, Any]]:
    from samtranslator.yaml_helper import yaml_parse  # noqa: PLC0415

    return yaml_parse(template.read_text()).get("Parameters", {})


def problems(environment: str, samconfig: Path = SAMCONFIG, template: Path = TEMPLATE) -> list[str]:
    """Why `environment` cannot be deployed as configured (empty: it can)."""
    settings = deploy_settings(environment, samconfig)
    overrides = parameter_overrides(settings)
    parameters = template_parameters(template)
    found = []
    for name, spec in parameters.items():
        if "Default" not in spec and not overrides.get(name):
            found.append(f"{name}: no value (the template has no default: it must be real)")
    for name, value in overrides.items():
        if name not in parameters:
            found.append(f"{name}: not a parameter of {template.name}")
        elif PLACEHOLDER.search(value):
            found.append(f"{name}: still the placeholder {value}")
    for key in ("stack_name", "region", "capabilities"):
        if not settings.get(key):
            found.append(f"{key}: not set")
    return found


def check(environment: str) -> str:
    found = problems(environment)
    if found:
        lines = "\n  ".join(found)
        raise DeployError(
            f"samconfig.toml [{environment}] is not ready to deploy:\n  {lines}\n"
            "Fill in the real values (docs/operations.md, 'Before the first deploy')."
        )
    settings = deploy_settings(environment)
    return f"samconfig.toml [{environment}]: {settings['stack_name']} in {settings['region']}"


# --- after the deploy ---------------------------------------------------------------------


def receipt_rule_reminder(rule_set: str, region: str, active: str | None) -> str:
    if active == rule_set:
        return f"SES receipt rule set {rule_set} is the active one in {region}: inbound mail works."
    now = f"the active one is {active}" if active else "none is active"
    return (
        f"SES receipt rule set {rule_set} is NOT active in {region} ({now}): support and\n"
        "sales mail is not received. CloudFormation cannot activate it. Before you do:\n"
        "  - one rule set is active per region: activating this one REPLACES the active\n"
        "    set, so with dev and prod in one region only one stack receives mail;\n"
        "  - while it is active, deleting this stack fails (deactivate it first).\n"
        f"  aws ses set-active-receipt-rule-set --rule-set-name {rule_set} --region {region}"
    )


def _outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def after(environment: str, clients: Any = None) -> str:
    """What is left to do by hand, as the account shows it now."""
    import boto3  # noqa: PLC0415
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    settings = deploy_settings(environment)
    region = settings["region"]
    client = clients or (lambda service: boto3.client(service, region_name=region))
    notes = []
    try:
        outputs = _outputs(client("cloudformation"), settings["stack_name"])
        rule_set = outputs["SupportReceiptRuleSetName"]
        active = client("ses").describe_active_receipt_rule_set().get("Metadata", {}).get("Name")
        notes.append(receipt_rule_reminder(rule_set, region, active))
        subscriptions = client("sns").list_subscriptions_by_topic(
            TopicArn=outputs["AlarmTopicArn"]
        )["Subscriptions"]
        pending = [
            s["Endpoint"] for s in subscriptions if s["SubscriptionArn"] == "PendingConfirmation"
        ]
        if pending:
            notes.append(
                f"Alarm mail to {', '.join(pending)} is not confirmed yet: until someone follows "
                "the link in AWS's 'Subscription Confirmation' mail, no alarm reaches anyone."
            )
    except (BotoCoreError, ClientError, KeyError) as exc:
        notes.append(
            f"(could not read the stack or SES: {exc})\n"
            + receipt_rule_reminder("<SupportReceiptRuleSetName output>", region, None)
        )
    notes.append("The first admin: make create-staff (docs/operations.md).")
    return "\n\n".join(notes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy", description=__doc__)
    parser.add_argument("step", choices=["check", "after"])
    parser.add_argument("environment", choices=ENVIRONMENTS)
    args = parser.parse_args(argv)
    try:
        print(check(args.environment) if args.step == "check" else after(args.environment))
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
