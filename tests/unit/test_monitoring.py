"""Nothing of template.yaml may fail silently: every queue, function and workflow, the
API and the account's SES reputation have an alarm that mails someone; every log has a
retention; tracing is on without an SDK; the dashboard shows every business metric.

The checks read the template itself, so a function or queue added later without its
alarm fails here (and each alarm of the template is needed by some check: deleting
any one of them fails too)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from infra.local.stack import load

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
# Values that must be real in every deployment: no example defaults.
MUST_BE_REAL = (
    "FrontendUrl",
    "AllowedOrigins",
    "SenderAddress",
    "SupportAddress",
    "SalesAddress",
    "AlarmEmail",
)


def template() -> dict[str, Any]:
    return copy.deepcopy(load().template)


def of_type(t: dict[str, Any], *types: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in t["Resources"].items() if v["Type"] in types}


def _target(value: Any) -> str | None:
    """The logical id a Ref / GetAtt names."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    return None


def watched(alarm: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, metric, {dimension: value}) of every metric an alarm reads."""
    if "MetricName" in alarm:
        dims = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
        return [(alarm["Namespace"], alarm["MetricName"], dims)]
    found = []
    for query in alarm.get("Metrics", []):
        metric = query.get("MetricStat", {}).get("Metric")
        if metric:
            dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
            found.append((metric["Namespace"], metric["MetricName"], dims))
    return found


def _fires_above(alarm: dict[str, Any], threshold: float) -> bool:
    return alarm["ComparisonOperator"] == "GreaterThanThreshold" and float(
        alarm["Threshold"]
    ) <= float(threshold)


def dead_letter_queues(t: dict[str, Any]) -> set[str]:
    queues = set()
    for queue in of_type(t, "AWS::SQS::Queue").values():
        target = queue["Properties"].get("RedrivePolicy", {}).get("deadLetterTargetArn")
        if _target(target):
            queues.add(_target(target))
    for function in of_type(t, *FUNCTION_TYPES).values():
        dlq = function["Properties"].get("DeadLetterQueue", {})
        target = dlq.get("TargetArn")
        if _target(target):
            queues.add(_target(target))
    return queues


Alarms = dict[str, dict[str, Any]]


def _covering(
    alarms: Alarms, namespace: str, metric: str, dimension: str | None = None, target: Any = None
) -> list[dict[str, Any]]:
    """The alarms reading `metric` (of the resource `target` names by `dimension`)."""
    hits = []
    for alarm in alarms.values():
        for ns, name, dims in watched(alarm):
            if (ns, name) == (namespace, metric) and (
                dimension is None or _target(dims.get(dimension)) == target
            ):
                hits.append(alarm)
    return hits


def _queue_gaps(t: dict[str, Any], alarms: Alarms) -> list[str]:
    dlqs = dead_letter_queues(t)
    missing = []
    for queue in of_type(t, "AWS::SQS::Queue"):
        if queue in dlqs:
            depth = _covering(
                alarms, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue
            )
            if not any(_fires_above(a, 0) for a in depth):
                missing.append(f"{queue}: no alarm on its depth > 0 (a dead-letter queue)")
        elif not _covering(alarms, "AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", queue):
            missing.append(f"{queue}: no alarm on the age of its oldest message")
    return missing


def _function_gaps(t: dict[str, Any], alarms: Alarms) -> list[str]:
    return [
        f"{function}: no alarm on {metric} > 0"
        for function in of_type(t, *FUNCTION_TYPES)
        for metric in ("Errors", "Throttles")
        if not any(
            _fires_above(a, 0)
            for a in _covering(alarms, "AWS/Lambda", metric, "FunctionName", function)
        )
    ]


def _workflow_gaps(t: dict[str, Any], alarms: Alarms) -> list[str]:
    machines = of_type(t, "AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
    return [
        f"{machine}: no alarm on {metric}"
        for machine in machines
        for metric in ("ExecutionsFailed", "ExecutionsTimedOut")
        if not _covering(alarms, "AWS/States", metric, "StateMachineArn", machine)
    ]


def _api_gaps(t: dict[str, Any], alarms: Alarms) -> list[str]:
    if not of_type(t, "AWS::Serverless::Api", "AWS::ApiGateway::RestApi"):
        return []
    return [  # rates: metric math over the errors and the request count
        f"the API: no alarm on its {metric} rate"
        for metric in ("5XXError", "4XXError")
        if not [a for a in _covering(alarms, "AWS/ApiGateway", metric) if "Metrics" in a]
    ]


def _ses_gaps(alarms: Alarms) -> list[str]:
    return [
        f"SES: no alarm on {metric} > {limit}"
        for metric, limit in (("Reputation.BounceRate", 0.05), ("Reputation.ComplaintRate", 0.001))
        if not any(_fires_above(a, limit) for a in _covering(alarms, "AWS/SES", metric))
    ]


def _permission_gaps(alarms: Alarms) -> list[str]:
    """A call IAM refused (clientarea.availability.report_access_denied) must wake
    someone: it is a deployment bug, not a throttle."""
    stack = {"Ref": "AWS::StackName"}
    refused = [
        a
        for a in alarms.values()
        for namespace, metric, _ in watched(a)
        if namespace == stack and metric == "AccessDenied" and _fires_above(a, 0)
    ]
    return [] if refused else ["AccessDenied (the functions' metric): no alarm on it > 0"]


def alarm_topics(t: dict[str, Any]) -> set[str]:
    """The topics that mail someone (the stack has other topics: SES's feedback)."""
    return {
        _target(s["Properties"]["TopicArn"])
        for s in of_type(t, "AWS::SNS::Subscription").values()
        if s["Properties"].get("Protocol") == "email"
    }


def gaps(t: dict[str, Any]) -> list[str]:
    """What has no alarm (or an alarm that notifies nobody) in template `t`."""
    alarms = {k: v["Properties"] for k, v in of_type(t, "AWS::CloudWatch::Alarm").items()}
    topics = alarm_topics(t)
    silent = [
        f"{name}: notifies no topic"
        for name, alarm in alarms.items()
        if not {_target(a) for a in alarm.get("AlarmActions", [])} & topics
    ]
    return [
        *_queue_gaps(t, alarms),
        *_function_gaps(t, alarms),
        *_workflow_gaps(t, alarms),
        *_api_gaps(t, alarms),
        *_ses_gaps(alarms),
        *_permission_gaps(alarms),
        *silent,
    ]


# --- alarms ------------------------------------------------------------------------------------


def test_every_queue_function_workflow_api_and_ses_reputation_has_an_alarm():
    assert gaps(template()) == []


ALARMS = sorted(of_type(template(), "AWS::CloudWatch::Alarm"))


@pytest.mark.parametrize("alarm", ALARMS)
def test_deleting_any_alarm_leaves_a_gap(alarm):
    t = template()
    del t["Resources"][alarm]
    assert gaps(t), f"{alarm} covers nothing the checks ask for"


def test_a_new_function_or_queue_without_alarms_is_caught():
    t = template()
    t["Resources"]["NewFunction"] = {"Type": "AWS::Serverless::Function", "Properties": {}}
    t["Resources"]["NewQueue"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    t["Resources"]["NewDeadLetters"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    t["Resources"]["NewQueue"]["Properties"]["RedrivePolicy"] = {
        "deadLetterTargetArn": {"Fn::GetAtt": ["NewDeadLetters", "Arn"]}
    }
    found = gaps(t)
    assert "NewFunction: no alarm on Errors > 0" in found
    assert "NewFunction: no alarm on Throttles > 0" in found
    assert "NewQueue: no alarm on the age of its oldest message" in found
    assert "NewDeadLetters: no alarm on its depth > 0 (a dead-letter queue)" in found


def test_an_alarm_that_mails_nobody_is_caught():
    t = template()
    del t["Resources"]["MailDeadLetterQueueAlarm"]["Properties"]["AlarmActions"]
    assert gaps(t) == ["MailDeadLetterQueueAlarm: notifies no topic"]
    # nor one that notifies a topic nobody reads mail from (SES's feedback topic)
    t = template()
    alarm = t["Resources"]["AccessDeniedAlarm"]["Properties"]
    alarm["AlarmActions"] = [{"Ref": "MailFeedbackTopic"}]
    assert gaps(t) == ["AccessDeniedAlarm: notifies no topic"]


def test_the_alarm_topic_mails_the_address_the_deployment_names():
    t = template()
    [subscription] = [
        s
        for s in of_type(t, "AWS::SNS::Subscription").values()
        if s["Properties"]["Protocol"] == "email"
    ]
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert _target(subscription["Properties"]["TopicArn"]) == "AlarmTopic"


def test_no_example_defaults_for_what_must_be_real():
    parameters = template()["Parameters"]
    for name in MUST_BE_REAL:
        assert name in parameters, name
        assert "Default" not in parameters[name], f"{name} has a default"


# --- logs ----------------------------------------------------------------------------------------


def _log_groups(t: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in of_type(t, "AWS::Logs::LogGroup").items()}


def test_every_log_group_expires_after_the_retention_parameter():
    t = template()
    groups = _log_groups(t)
    assert groups
    for name, group in groups.items():
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
    assert t["Parameters"]["LogRetentionDays"]["Default"] == 30


def test_every_function_has_its_log_group_before_lambda_makes_one():
    t = template()
    names = {json.dumps(g["LogGroupName"]) for g in _log_groups(t).values()}
    for function in of_type(t, *FUNCTION_TYPES):
        expected = json.dumps({"Fn::Sub": f"/aws/lambda/${{{function}}}"})
        assert expected in names, f"{function} has no log group of its own"


def test_state_machine_and_api_log_to_the_stacks_groups():
    t = template()
    groups = _log_groups(t)
    [machine] = of_type(t, "AWS::Serverless::StateMachine").values()
    logging = machine["Properties"]["Logging"]
    assert logging["IncludeExecutionData"] is False  # task tokens, addresses
    [destination] = logging["Destinations"]
    assert _target(destination["CloudWatchLogsLogGroup"]["LogGroupArn"]) in groups
    [api] = of_type(t, "AWS::Serverless::Api").values()
    access = api["Properties"]["AccessLogSetting"]
    assert _target(access["DestinationArn"]) in groups
    fields = json.loads(access["Format"])
    assert fields["requestId"] == "$context.requestId"
    assert "$context.path" not in access["Format"]  # paths may carry references
    [settings] = api["Properties"]["MethodSettings"]
    assert settings["DataTraceEnabled"] is False  # bodies carry passwords
    assert settings["LoggingLevel"] == "ERROR"
    execution = [g for g in groups.values() if "API-Gateway-Execution-Logs" in str(g)]
    assert execution, "API Gateway would create its execution log group without a retention"


# --- traces --------------------------------------------------------------------------------------


def test_tracing_is_on_through_the_template_only():
    t = template()
    assert t["Globals"]["Function"]["Tracing"] == "Active"
    [api] = of_type(t, "AWS::Serverless::Api").values()
    assert api["Properties"]["TracingEnabled"] is True
    [machine] = of_type(t, "AWS::Serverless::StateMachine").values()
    assert machine["Properties"]["Tracing"] == {"Enabled": True}
    for function in of_type(t, *FUNCTION_TYPES).values():
        assert function["Properties"].get("Tracing", "Active") == "Active"
    # no SDK in the code: the cold-start budgets hold (an X-Ray SDK import costs ~170 ms)
    sources = [*(ROOT / "functions").rglob("*.py"), *(ROOT / "layers" / "clientarea").rglob("*.py")]
    importing = [
        str(path.relative_to(ROOT))
        for path in sources
        if re.search(r"aws_xray_sdk|\bTracer\b", path.read_text())
    ]
    assert importing == []


# --- the dashboard -------------------------------------------------------------------------------


def _dashboard_body(t: dict[str, Any]) -> dict[str, Any]:
    [dashboard] = of_type(t, "AWS::CloudWatch::Dashboard").values()
    text = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    substituted = re.sub(r"\$\{[^}]+\}", "x", text)  # what !Sub leaves is JSON
    return json.loads(substituted)


def test_the_dashboard_shows_every_business_metric_and_flow():
    from clientarea import telemetry

    t = template()
    body = _dashboard_body(t)
    text = json.dumps(body)
    for metric in telemetry.Metric:
        assert f'"{metric}"' in text or f'\\"{metric}\\"' in text, f"{metric} is not on it"
    raw = t["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    for queue in of_type(t, "AWS::SQS::Queue"):
        assert f"${{{queue}.QueueName}}" in raw, f"{queue} is not on it"
    assert "${CessionStateMachine}" in raw
    for widget in body["widgets"]:
        assert widget["x"] + widget["width"] <= 24
