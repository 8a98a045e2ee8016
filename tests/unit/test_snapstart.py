"""SnapStart (template parameter EnableSnapStart, issue 16): the template publishes what
API Gateway invokes as versions behind an alias and snapshots them only when asked, and
nothing our functions make at init has to be unique (clientarea/snapstart.py)."""

from __future__ import annotations

import json
import os
import random
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from clientarea import snapstart
from samtranslator.translator.transform import transform

from infra.local.stack import load

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import lambda_env  # noqa: E402

from tests.support.handlers import run_in_function  # noqa: E402

SNAPSHOTTED = {
    "AuthorizerFunction",
    "AccountsFunction",
    "PasswordResetFunction",
    "CessionFunction",
    "RecoveryFunction",
    "RecoveryStaffFunction",
    "SupportFunction",
    "StaffSupportFunction",
    "ContactEmailFunction",
}


# --- the template ------------------------------------------------------------------------


class _NoPolicies:
    def load(self) -> dict[str, Any]:
        return {}


def _translated(enable: str) -> dict[str, Any]:
    """template.yaml as CloudFormation (SAM transform, offline), with `Fn::If` on the
    SnapStartOn condition resolved for EnableSnapStart=`enable` (other conditions, e.g.
    the web client's hosting, left as they are)."""
    template = json.loads(json.dumps(load().template))
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://placeholder/{props[key]}"
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
    translated = transform(template, {"EnableSnapStart": enable}, _NoPolicies())
    assert translated["Conditions"]["SnapStartOn"] == {
        "Fn::Equals": [{"Ref": "EnableSnapStart"}, "true"]
    }

    def resolve(value: Any) -> Any:
        if isinstance(value, dict):
            if "Fn::If" in value and value["Fn::If"][0] == "SnapStartOn":
                _, when_true, when_false = value["Fn::If"]
                return resolve(when_true if enable == "true" else when_false)
            return {
                k: resolve(v) for k, v in value.items() if resolve(v) != {"Ref": "AWS::NoValue"}
            }
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    return resolve(translated)


def _functions(translated: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        k: v["Properties"]
        for k, v in translated["Resources"].items()
        if v["Type"] == "AWS::Lambda::Function"
    }


def test_snapstart_is_off_unless_asked_for() -> None:
    assert load().template["Parameters"]["EnableSnapStart"]["Default"] == "false"
    for name, props in _functions(_translated("false")).items():
        assert "SnapStart" not in props, name


def test_enabled_it_snapshots_the_authorizer_and_every_api_function_only() -> None:
    snapshotted = {
        name
        for name, props in _functions(_translated("true")).items()
        if props.get("SnapStart") == {"ApplyOn": "PublishedVersions"}
    }
    assert snapshotted == SNAPSHOTTED
    api_functions = {r.function for r in load().routes()}
    assert snapshotted == api_functions | {load().authorizer_function()}


@pytest.mark.parametrize("enable", ["true", "false"])
def test_api_gateway_invokes_the_published_version_behind_the_alias(enable: str) -> None:
    """A snapshot exists only for a published version: $LATEST would cold-start."""
    translated = _translated(enable)
    resources = translated["Resources"]
    body = json.dumps(resources["ClientareaApi"]["Properties"]["Body"])
    for name in SNAPSHOTTED - {"AuthorizerFunction"}:
        alias = resources[f"{name}Aliaslive"]
        assert alias["Type"] == "AWS::Lambda::Alias"
        assert f"${{{name}Aliaslive}}/invocations" in body, name
        assert f"${{{name}.Arn}}" not in body and f'"{name}.Arn"' not in body
    permissions = [
        r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"
    ]
    authorizer = [p for p in permissions if "authorizers" in json.dumps(p.get("SourceArn"))]
    assert [p["FunctionName"] for p in authorizer] == [{"Ref": "AuthorizerFunctionAliaslive"}]
    assert "AuthorizerFunctionAliaslive" in body
    for p in permissions:
        name = json.dumps(p["FunctionName"])
        assert not any(f'"{fn}"' in name for fn in SNAPSHOTTED), p  # never the bare function


def test_switching_the_parameter_publishes_a_new_version() -> None:
    """SAM names a version by a hash of the function's properties, in which a parameter
    stays unresolved; the version's description resolves it, and a new description
    replaces the version (CloudFormation publishes it with the new setting)."""
    descriptions = {}
    for enable in ("true", "false"):
        versions = {
            k: v
            for k, v in _translated(enable)["Resources"].items()
            if k.startswith("AccountsFunctionVersion")
        }
        ((version,),) = [list(versions.values())]
        # A replaced version is deleted: its snapshot is billed while it is cached.
        assert version["DeletionPolicy"] == "Delete"
        descriptions[enable] = version["Properties"]["Description"]
    assert (
        descriptions["true"] == descriptions["false"] == {"Fn::Sub": "SnapStart ${EnableSnapStart}"}
    )


# --- the runtime hook ---------------------------------------------------------------------


def test_a_restored_snapshot_draws_its_own_random_numbers() -> None:
    """`random`'s state is part of the snapshot: two environments restored from it draw
    the same numbers (botocore's retry jitter, Message-IDs, log sampling) unless reseeded."""
    snapshot = random.getstate()
    draws = []
    for _ in range(2):  # two environments restored from one snapshot
        random.setstate(snapshot)
        draws.append(random.getrandbits(64))
    assert draws[0] == draws[1]  # the problem is real
    draws = []
    for _ in range(2):
        random.setstate(snapshot)
        snapstart.after_restore()
        draws.append(random.getrandbits(64))
    assert draws[0] != draws[1]


@pytest.fixture
def runtime_hooks(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """A stand-in for the Lambda runtime's snapshot_restore_py."""
    registered: list[Any] = []
    module = types.ModuleType("snapshot_restore_py")
    module.register_after_restore = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    return registered


def test_the_hook_is_registered_when_lambda_builds_a_snapshot(
    monkeypatch: pytest.MonkeyPatch, runtime_hooks: list[Any]
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    snapstart.register()
    assert runtime_hooks == [snapstart.after_restore]


@pytest.mark.parametrize("init_type", ["on-demand", "provisioned-concurrency", None])
def test_without_snapstart_nothing_is_registered_or_imported(
    monkeypatch: pytest.MonkeyPatch, init_type: str | None
) -> None:
    if init_type is None:
        monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE", raising=False)
    else:
        monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", init_type)
    monkeypatch.delitem(sys.modules, "snapshot_restore_py", raising=False)
    snapstart.register()  # no snapshot_restore_py outside Lambda: must not be imported
    assert "snapshot_restore_py" not in sys.modules


# --- the uniqueness audit ------------------------------------------------------------------

# Every way our code (or a library on its behalf) could make something unique or
# time-bound, or open what a restore would leave stale, recorded while a handler imports.
AUDIT = """
import json, os, random, secrets, sys, time, types, uuid
runtime = types.ModuleType("snapshot_restore_py")  # Lambda's, stood in for
runtime.hooks = []
runtime.register_after_restore = lambda hook, *args, **kwargs: runtime.hooks.append(hook.__name__)
sys.modules["snapshot_restore_py"] = runtime
made = []
def spy(owner, name, label):
    original = getattr(owner, name)
    def recorded(*args, **kwargs):
        made.append(label + " by " + sys._getframe(1).f_globals.get("__name__", "?"))
        return original(*args, **kwargs)
    setattr(owner, name, recorded)
for name in ("token_bytes", "token_hex", "token_urlsafe", "randbelow", "randbits", "choice"):
    spy(secrets, name, "secrets." + name)
spy(os, "urandom", "os.urandom")
for name in ("random", "getrandbits", "randint", "randrange", "choice", "choices", "uniform",
             "shuffle", "sample"):
    spy(random, name, "random." + name)
spy(uuid, "uuid1", "uuid.uuid1")
spy(uuid, "uuid4", "uuid.uuid4")
spy(time, "time", "time.time")
spy(time, "time_ns", "time.time_ns")
import botocore.session, botocore.credentials, pynamodb.connection.base
spy(botocore.session.Session, "create_client", "botocore client")
spy(botocore.session.Session, "get_credentials", "credentials")
spy(pynamodb.connection.base.Connection, "__init__", "PynamoDB connection")
import clientarea.clock
spy(clientarea.clock, "now", "clientarea.clock.now")
import {module}
print(json.dumps({{"made": made, "hooks": runtime.hooks}}))
"""


# Made at init, reviewed, harmless in a snapshot:
ACCEPTED = {
    # The stdlib's logging notes when it was imported, for LogRecord.relativeCreated
    # (ms since then), which Powertools' JSON log lines do not carry.
    "time.time_ns by logging",
    # multiprocessing's authkey for its main process (boto3's s3transfer imports it: the
    # mailer and the intake, which are not snapshotted): it authenticates
    # multiprocessing connections, and no function opens one.
    "os.urandom by multiprocessing.process",
}


@pytest.mark.parametrize("function", lambda_env.functions(), ids=lambda f: f.logical_id)
def test_no_handler_makes_anything_unique_or_time_bound_at_init(
    function: lambda_env.Function,
) -> None:
    audit = run_in_function(
        function, AUDIT.format(module=function.module), AWS_LAMBDA_INITIALIZATION_TYPE="snap-start"
    )
    assert [m for m in audit["made"] if m not in ACCEPTED] == []
    expected = ["after_restore"] if function.logical_id in SNAPSHOTTED else []
    assert audit["hooks"] == expected
