"""docs/cost.md: what a million password resets, logins, authenticated requests and
cessions cost, from the AWS calls `make bench` measured (routes.py, on moto) and the
published prices in prices.toml.

Nothing here is timed: DynamoDB request units come from each call's parameters (items
in a transaction, consistent or not), Lambda's billed time from an assumed base plus a
fixed time per AWS call and per argon2 hash (prices.toml, [assumptions]), the workflow
from its measured state transitions and tasks. So the document changes only when the
calls, the routes, the template or the prices do, and CI can hold it current
(`make bench ARGS=--check-cost`).
"""

from __future__ import annotations

import math
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PRICES = Path(__file__).with_name("prices.toml")
DOC = ROOT / "docs" / "cost.md"
MILLION = 1_000_000
GB = 1024**3


# --- DynamoDB request units of one call ---------------------------------------------------


def capacity(service: str, operation: str, params: dict[str, Any]) -> tuple[float, float]:
    """(read, write) request units of one DynamoDB call, items assumed within one unit
    (reads up to 4 KB, writes up to 1 KB): eventually consistent reads 0.5, strongly
    consistent 1, every item of a transaction 2 (condition checks included: an upper
    bound), a query as one read of up to 4 KB."""
    if service != "dynamodb":
        return (0.0, 0.0)
    read = 1.0 if params.get("ConsistentRead") else 0.5
    items = params.get("TransactItems", [])
    units = {
        "GetItem": (read, 0.0),
        "Query": (read, 0.0),
        "Scan": (read, 0.0),
        "PutItem": (0.0, 1.0),
        "UpdateItem": (0.0, 1.0),
        "DeleteItem": (0.0, 1.0),
        "TransactGetItems": (2.0 * len(items), 0.0),
        "TransactWriteItems": (0.0, 2.0 * len(items)),
        "BatchGetItem": (
            sum(read * len(t.get("Keys", [])) for t in params.get("RequestItems", {}).values()),
            0.0,
        ),
        "BatchWriteItem": (
            0.0,
            float(sum(len(requests) for requests in params.get("RequestItems", {}).values())),
        ),
    }
    return units.get(operation, (0.0, 0.0))


_TASK_UNITS = {  # a workflow task's DynamoDB units, by its API
    "getItem": lambda p: (1.0 if p.get("ConsistentRead") else 0.5, 0.0),
    "updateItem": lambda p: (0.0, 1.0),
    "putItem": lambda p: (0.0, 1.0),
    "transactWriteItems": lambda p: (0.0, 2.0 * len(p.get("TransactItems", []))),
}


# --- one unit of work -----------------------------------------------------------------------


@dataclass
class Work:
    """What one password reset (or login, ...) uses."""

    name: str
    api_requests: int = 0
    invocations: Counter[str] = field(default_factory=Counter)  # function -> count
    lambda_calls: Counter[str] = field(default_factory=Counter)  # function -> AWS calls
    argon2: Counter[str] = field(default_factory=Counter)  # function -> hashes
    read_units: float = 0.0
    write_units: float = 0.0
    operations: Counter[str] = field(default_factory=Counter)  # "dynamodb:GetItem" -> n
    queued_messages: int = 0
    mails: int = 0
    transitions: int = 0

    def invoke(self, function: str, calls: list[Any], argon2: int = 0, times: int = 1) -> None:
        """`times` invocations of `function` that made `calls` (routes.Call) between them."""
        self.invocations[function] += times
        self.lambda_calls[function] += len(calls)
        self.argon2[function] += argon2
        for call in calls:
            self._count(call.operation, call.units)

    def _count(self, operation: str, units: tuple[float, float]) -> None:
        self.operations[operation] += 1
        self.read_units += units[0]
        self.write_units += units[1]
        if operation == "sqs:SendMessage":
            self.queued_messages += 1
        if operation in {"sesv2:SendEmail", "ses:SendRawEmail", "ses:SendEmail"}:
            self.mails += 1

    def workflow_task(self, resource_type: str, resource: str, parameters: dict[str, Any]) -> None:
        api = resource.split(".", 1)[0]
        service = resource_type.rsplit(":", 1)[-1].lower()
        units = _TASK_UNITS.get(api, lambda p: (0.0, 0.0))(parameters)
        self._count(f"{service}:{api[0].upper()}{api[1:]} (workflow)", units)
        if (service, api) == ("sqs", "sendMessage"):
            self.queued_messages += 1


def _by_function(calls: list[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for call in calls:
        grouped.setdefault(call.function, []).append(call)
    return grouped


def _last(measured: list[Any], route: str, variant: str = "") -> Any:
    for m in measured:
        if m.route == route and m.variant == variant:
            return m
    raise KeyError(f"no measurement of {route} {variant}".strip())


def _request(work: Work, m: Any, argon2: int = 0) -> None:
    """The route's last measured request (steady state): its function, its authorizer."""
    work.api_requests += 1
    for function, made in _by_function([c for c in m.calls[-1] if c.function]).items():
        work.invoke(function, made, argon2 if function != m.authorizer else 0)


def scenarios(report: Any) -> list[Work]:
    measured = report.measured
    mailer = "MailerFunction"

    reset = Work("password reset")
    _request(reset, _last(measured, "POST /password/forgot", "known login"))
    for function, made in _by_function(report.background_calls["known login"]).items():
        reset.invoke(function, made)  # the worker, then the mailer (the link)
    _request(reset, _last(measured, "POST /password/reset/verify"))
    _request(reset, _last(measured, "POST /password/reset"), argon2=1)
    mail = _by_function(report.background_calls["known login"])[mailer]
    reset.invoke(mailer, mail)  # the "password changed" notice

    login = Work("login")
    _request(login, _last(measured, "POST /auth/login"), argon2=1)

    authenticated = Work("authenticated request")
    _request(authenticated, _last(measured, "GET /account"))

    cession = Work("cession")
    full = report.cession
    cession.api_requests = 4  # order, activate, the owner's and the recipient's confirmation
    for function, made in _by_function(full["calls"]).items():
        # the authorizer runs for the two signed-in requests; the links need no session
        cession.invoke(function, made, times=2 if function == _authorizer_of(measured) else 4)
    for task in full["tasks"]:
        cession.workflow_task(task["resource_type"], task["resource"], task["parameters"])
    cession.transitions = full["transitions"]
    mails = cession.queued_messages  # two confirmation links, two outcome mails
    cession.invoke(mailer, mail * mails, times=mails)
    return [reset, login, authenticated, cession]


def _authorizer_of(measured: list[Any]) -> str | None:
    return next((m.authorizer for m in measured if m.authorizer), None)


# --- prices ---------------------------------------------------------------------------------


def memory_mb(template: dict[str, Any]) -> dict[str, int]:
    default = int(template.get("Globals", {}).get("Function", {}).get("MemorySize", 128))
    return {
        name: int(resource["Properties"].get("MemorySize", default))
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def billed_ms(work: Work, function: str, a: dict[str, Any]) -> int:
    """Billed milliseconds of all of `work`'s invocations of `function`."""
    per_invocation = a["lambda_base_ms"] * work.invocations[function]
    calls = a["lambda_ms_per_aws_call"] * work.lambda_calls[function]
    return math.ceil(per_invocation + calls + a["argon2_ms"] * work.argon2[function])


def line_items(work: Work, prices: dict[str, Any], memory: dict[str, int]) -> dict[str, float]:
    """USD for one unit of `work`, by service."""
    a = prices["assumptions"]
    gb_seconds = sum(
        memory[f] / 1024 * billed_ms(work, f, a) / 1000 for f in sorted(work.invocations)
    )
    invocations = sum(work.invocations.values())
    log_bytes = (
        invocations * a["log_bytes_per_invocation"]
        + work.api_requests * a["access_log_bytes_per_request"]
    )
    sqs = work.queued_messages * (1 + a["sqs_requests_per_consumed_message"])
    return {
        "API Gateway": work.api_requests
        * prices["api_gateway"]["rest_requests_per_million"]
        / MILLION,
        "Lambda": invocations * prices["lambda"]["requests_per_million"] / MILLION
        + gb_seconds * prices["lambda"]["gb_second"],
        "DynamoDB": work.read_units * prices["dynamodb"]["read_request_units_per_million"] / MILLION
        + work.write_units * prices["dynamodb"]["write_request_units_per_million"] / MILLION,
        "SQS": sqs * prices["sqs"]["requests_per_million"] / MILLION,
        "SES": work.mails * prices["ses"]["outbound_mails_per_thousand"] / 1000,
        "Step Functions": work.transitions
        * prices["step_functions"]["standard_transitions_per_thousand"]
        / 1000,
        "CloudWatch Logs": log_bytes / GB * prices["cloudwatch"]["logs_ingested_per_gb"],
        "X-Ray": work.api_requests
        * a["xray_traces_per_api_request"]
        * prices["xray"]["traces_recorded_per_million"]
        / MILLION,
    }


def fixed_monthly(template: dict[str, Any], prices: dict[str, Any]) -> list[tuple[str, str, float]]:
    """(item, how many, USD a month) that do not depend on traffic."""
    from clientarea import telemetry  # the layer is on the path when routes ran

    cw, a = prices["cloudwatch"], prices["assumptions"]
    resources = template["Resources"].values()
    alarms = [r["Properties"] for r in resources if r["Type"] == "AWS::CloudWatch::Alarm"]
    alarm_metrics = sum(
        len([m for m in alarm.get("Metrics", []) if "MetricStat" in m]) or 1 for alarm in alarms
    )
    metrics = sum(
        len(telemetry.DIMENSIONS[m][1]) if m in telemetry.DIMENSIONS else 1
        for m in telemetry.Metric
    )
    routes = sum(
        1
        for r in resources
        if r["Type"] == "AWS::Serverless::Function"
        for e in r["Properties"].get("Events", {}).values()
        if e["Type"] == "Api"
    )
    detailed = routes * a["detailed_metrics_per_route"]
    consumers = sum(
        1
        for r in resources
        if r["Type"] == "AWS::Serverless::Function"
        for e in r["Properties"].get("Events", {}).values()
        if e["Type"] == "SQS"
    )
    polls = consumers * a["idle_sqs_polls_per_queue_month"]
    return [
        (
            f"alarms ({len(alarms)}, reading {alarm_metrics} metrics)",
            str(alarm_metrics),
            alarm_metrics * cw["alarm_metric_per_month"],
        ),
        ("the dashboard (free if among the account's first three)", "1", cw["dashboard_per_month"]),
        (
            "business metrics (telemetry.Metric, each dimension value one metric)",
            str(metrics),
            metrics * cw["custom_metric_per_month"],
        ),
        (
            f"per-route API metrics, ApiDetailedMetrics=true ({routes} routes)",
            str(detailed),
            detailed * cw["custom_metric_per_month"],
        ),
        (
            f"Lambda polling {consumers} idle queues (SQS requests)",
            f"{polls:,}",
            polls * prices["sqs"]["requests_per_million"] / MILLION,
        ),
    ]


# --- the document ---------------------------------------------------------------------------


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def render(report: Any, template: dict[str, Any], prices: dict[str, Any]) -> str:
    works = scenarios(report)
    memory = memory_mb(template)
    items = [line_items(w, prices, memory) for w in works]
    services = list(items[0])
    a = prices["assumptions"]
    out = [
        "# What the work costs",
        "",
        "Generated by `make bench` (`bench/cost.py`) from the AWS calls it measured per",
        "route on moto and the published on-demand prices in `bench/prices.toml`",
        f"({prices['region']}, as of {prices['as_of']}; not re-read from AWS on this machine:",
        "check them before relying on a total). Do not edit: change the prices or the code,",
        "run `make bench`, commit both; CI fails when this file is stale. USD, no free tier.",
        "",
        "## A million of each",
        "",
        "| | " + " | ".join(f"{MILLION:,} {w.name}s" for w in works) + " |",
        "|---|" + "---:|" * len(works),
    ]
    for service in services:
        row = [_usd(i[service] * MILLION) for i in items]
        out.append(f"| {service} | " + " | ".join(row) + " |")
    out.append(
        "| **total** | "
        + " | ".join(f"**{_usd(sum(i.values()) * MILLION)}**" for i in items)
        + " |"
    )
    out += ["", "## What one of each is made of", ""]
    for work in works:
        out.append(
            f"**{work.name.capitalize()}**: {work.api_requests} API request(s); "
            + ", ".join(
                f"{f} x{n} ({memory[f]} MB, {billed_ms(work, f, a)} ms billed)"
                for f, n in sorted(work.invocations.items())
            )
            + f"; {work.read_units:g} read and {work.write_units:g} write request units"
            + f"; {work.queued_messages} queued message(s); {work.mails} mail(s)"
            + (f"; {work.transitions} state transitions" if work.transitions else "")
            + "."
        )
        out.append("")
        out.append("  " + ", ".join(f"`{op}` x{n}" for op, n in sorted(work.operations.items())))
        out.append("")
    out += _cognito(report, works, items, prices, memory)
    out += _fixed(template, prices)
    out += [
        "## Assumptions (not measured)",
        "",
        *(f"- `{k}` = {v}" for k, v in a.items()),
        "- DynamoDB items within one request unit (reads up to 4 KB, writes up to 1 KB); every",
        "  item of a write transaction, condition checks included, at 2 write units.",
        "- Lambda bills per millisecond: billed time = `lambda_base_ms` per invocation +",
        "  `lambda_ms_per_aws_call` per AWS call + `argon2_ms` per password hash, at the",
        "  function's MemorySize from template.yaml.",
        "",
    ]
    return "\n".join(out)


def session_check(report: Any) -> Work:
    """The authorizer's part of an authenticated request: what a Cognito authorizer
    would do without a Lambda invocation or a table read."""
    m = _last(report.measured, "GET /account")
    work = Work("session check")
    work.invoke(m.authorizer, [c for c in m.calls[-1] if c.function == m.authorizer])
    return work


def _cognito(
    report: Any,
    works: list[Work],
    items: list[dict[str, float]],
    prices: dict[str, Any],
    memory: dict[str, int],
) -> list[str]:
    c = prices["cognito"]
    per_million = {w.name: sum(i.values()) * MILLION for w, i in zip(works, items, strict=True)}
    check = sum(line_items(session_check(report), prices, memory).values()) * MILLION
    rows = []
    for users in (1_000_000, 250_000, 100_000):
        paid = max(0, users - c["free_mau"])
        rows.append(
            f"| {users:,} | {MILLION // users} | {_usd(paid * c['lite_per_mau'])} "
            f"| {_usd(paid * c['essentials_per_mau'])} |"
        )
    return [
        "## The accounts part against Amazon Cognito",
        "",
        "Cognito user pools bill per monthly active user (MAU), whatever each one does. Here",
        "the accounts part is billed per use, however many people make the requests: a",
        f"million logins cost **{_usd(per_million['login'])}**, a million password resets",
        f"**{_usd(per_million['password reset'])}** (mostly SES, which Cognito's own mail",
        "would also use at volume), and the session check of a million authenticated",
        f"requests (the authorizer's invocation and read) **{_usd(check)}**,",
        "which a Cognito authorizer does for free. Cognito for the people making a million",
        "logins a month:",
        "",
        "| monthly active users | logins each | Cognito Lite | Cognito Essentials |",
        "|---:|---:|---:|---:|",
        *rows,
        "",
        f"(first {c['free_mau']:,} MAU free. Cognito would replace sign-in, sessions and the",
        "reset flow only: this API, its functions and the mailer stay for everything else.)",
        "",
    ]


def _fixed(template: dict[str, Any], prices: dict[str, Any]) -> list[str]:
    rows = fixed_monthly(template, prices)
    return [
        "## Every month, whatever the traffic",
        "",
        "| what | metrics or requests | USD a month |",
        "|---|---:|---:|",
        *(f"| {what} | {count} | {_usd(usd)} |" for what, count, usd in rows),
        "",
        "Custom metrics are billed only in a month they are published; the per-route API",
        "metrics only with `ApiDetailedMetrics=true` (samconfig.toml: prod yes, dev no).",
        "",
    ]


def load_prices() -> dict[str, Any]:
    return tomllib.loads(PRICES.read_text())
