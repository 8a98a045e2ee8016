"""template.yaml's AWS::CloudFormation::Interface: what the CloudFormation console shows
a deployer. Every parameter sits in exactly one group and has a label; every value that
must be given (no default) is asked for first."""

from __future__ import annotations

from collections import Counter

from samtranslator.yaml_helper import yaml_parse

from infra.deploy import TEMPLATE

TEMPLATE_DOC = yaml_parse(TEMPLATE.read_text())
PARAMETERS = TEMPLATE_DOC["Parameters"]
INTERFACE = TEMPLATE_DOC["Metadata"]["AWS::CloudFormation::Interface"]
GROUPS = INTERFACE["ParameterGroups"]


def test_every_parameter_is_in_exactly_one_group() -> None:
    grouped = Counter(name for group in GROUPS for name in group["Parameters"])
    assert {n for n, count in grouped.items() if count > 1} == set()
    assert set(grouped) - set(PARAMETERS) == set(), "a group names no parameter"
    assert set(PARAMETERS) - set(grouped) == set(), "a parameter the console shows last"


def test_every_parameter_has_a_label_and_every_group_a_name() -> None:
    labels = INTERFACE["ParameterLabels"]
    assert set(labels) == set(PARAMETERS)
    assert all(label["default"].strip() for label in labels.values())
    assert all(group["Label"]["default"].strip() for group in GROUPS)


def test_values_without_a_default_come_first() -> None:
    required = {name for name, p in PARAMETERS.items() if "Default" not in p}
    assert required, "the template asks for nothing"
    first = set(GROUPS[0]["Parameters"])
    mail = set(GROUPS[1]["Parameters"])
    assert required <= first | mail
    assert "Required" in GROUPS[0]["Label"]["default"]
