"""infra.local.lambdas: execution environments as Lambda runs them (one event each at a
time, reused, Timeout enforced, new ones after a change), on small handlers of our own."""

from __future__ import annotations

import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from infra.local import lambdas
from infra.local.lambdas import LambdaService, LambdaTimeout
from infra.local.stack import Function
from tests.support.waiting import wait_until

# Keeps the event it is given in module state, then reads it back after a pause: two
# events in one module at once would each read the other's.
REMEMBERING = """
import time

current = None


def handler(event, context):
    global current
    current = event["n"]
    time.sleep(event.get("pause", 0.2))
    return {"n": current, "module": __name__}
"""


def _function(tmp_path: Path, source: str, *, timeout: int = 5, **environment: str) -> Function:
    folder = tmp_path / "fn"
    folder.mkdir(exist_ok=True)
    (folder / "app.py").write_text(textwrap.dedent(source))
    # A name of its own: environment threads are named after their function.
    name = f"Test{tmp_path.name.replace('_', '')}"
    return Function(name, folder, "app.handler", timeout, 128, dict(environment))


@pytest.fixture
def service():
    """A Lambda service of the test's own, its idle environments stopped afterwards."""
    created = LambdaService()
    yield created
    created.stop()


def _parallel(service: LambdaService, function: Function, events: list[dict]) -> list:
    start = threading.Barrier(len(events))

    def one(event: dict) -> lambdas.Invocation:
        start.wait()
        return service.invoke(function, event)

    with ThreadPoolExecutor(len(events)) as pool:
        return list(pool.map(one, events))


def test_concurrent_invocations_never_share_an_environment(service, tmp_path):
    # GIVEN a handler that keeps its event in module state across a pause
    function = _function(tmp_path, REMEMBERING)
    # WHEN six events arrive at once
    invocations = _parallel(service, function, [{"n": n} for n in range(6)])
    # THEN each is answered from its own event, by an environment of its own
    assert [i.outcome()["n"] for i in invocations] == list(range(6))
    assert len({i.outcome()["module"] for i in invocations}) == 6
    assert all(i.cold for i in invocations)
    # AND later events reuse those environments (warm), starting none
    later = [service.invoke(function, {"n": 9, "pause": 0}) for _ in range(3)]
    assert not any(i.cold for i in later)
    assert service.pool(function).size() == (6, 6)


def test_no_more_than_max_environments_run_at_once(service, tmp_path, monkeypatch):
    # GIVEN a limit of two environments per function
    monkeypatch.setattr(lambdas, "MAX_ENVIRONMENTS", 2)
    function = _function(tmp_path, REMEMBERING)
    # WHEN five events arrive at once
    invocations = _parallel(service, function, [{"n": n, "pause": 0.1} for n in range(5)])
    # THEN all are answered rightly, by two environments taking turns
    assert [i.outcome()["n"] for i in invocations] == list(range(5))
    assert service.pool(function).size()[0] == 2


def test_a_timed_out_invocation_fails_and_its_environment_is_thrown_away(service, tmp_path):
    # GIVEN a function with a one-second Timeout whose handler can spin for longer
    function = _function(
        tmp_path,
        """
        import time

        def handler(event, context):
            end = time.monotonic() + event["seconds"]
            while time.monotonic() < end:
                pass
            return "done"
        """,
        timeout=1,
    )
    # WHEN an invocation runs over
    started = time.monotonic()
    slow = service.invoke(function, {"seconds": 30})
    # THEN it fails at the Timeout, as "Task timed out"
    assert slow.timed_out and time.monotonic() - started < 5
    with pytest.raises(LambdaTimeout):
        slow.outcome()
    # AND its environment is stopped, never reused: the next invocation starts another
    wait_until(
        lambda: all(t.name != slow.environment for t in threading.enumerate()),
        timeout=5,
        interval=0.05,
        message="the timed-out environment still runs",
    )
    fast = service.invoke(function, {"seconds": 0})
    assert fast.outcome() == "done" and fast.cold and fast.environment != slow.environment


def test_a_function_error_reaches_the_caller_and_the_environment_stays(service, tmp_path):
    function = _function(
        tmp_path,
        """
        def handler(event, context):
            if event["fail"]:
                raise Exception("Unauthorized")
            return "ok"
        """,
    )
    failed = service.invoke(function, {"fail": True})
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        failed.outcome()
    again = service.invoke(function, {"fail": False})
    assert again.outcome() == "ok" and not again.cold
    assert again.environment == failed.environment


def test_a_configuration_change_starts_new_environments(service, tmp_path, monkeypatch):
    # GIVEN a function that reads its environment variable at import, as ours do
    function = _function(
        tmp_path,
        """
        import os

        GREETING = os.environ["GREETING"]

        def handler(event, context):
            return GREETING
        """,
        GREETING="configured by the template",
    )
    monkeypatch.setenv("GREETING", "hello")
    assert service.invoke(function, {}).outcome() == "hello"
    # WHEN the deployment changes the variable / THEN a new environment reads it
    monkeypatch.setenv("GREETING", "bonjour")
    changed = service.invoke(function, {})
    assert changed.outcome() == "bonjour" and changed.cold


def test_a_changed_handler_file_is_reloaded_when_watching(service, tmp_path, monkeypatch):
    # GIVEN the service watching, with an empty layer
    monkeypatch.setattr(lambdas, "WATCH_INTERVAL_SECONDS", 0)
    monkeypatch.setattr(lambdas, "LAYER", tmp_path / "empty-layer")
    (tmp_path / "empty-layer").mkdir()
    service.start_watching()
    function = _function(tmp_path, "def handler(event, context):\n    return 'v1'\n")
    assert service.invoke(function, {}).outcome() == "v1"
    # WHEN the handler's file is edited
    (function.code_uri / "app.py").write_text("def handler(event, context):\n    return 'v2'\n")
    # THEN the next invocation runs the new code, in a new environment
    reloaded = service.invoke(function, {})
    assert reloaded.outcome() == "v2" and reloaded.cold


def test_a_changed_layer_is_reloaded_when_watching(service, tmp_path, monkeypatch):
    # GIVEN a layer package the handler imports, and the service watching it
    layer = tmp_path / "layer" / "fakelayer"
    layer.mkdir(parents=True)
    (layer / "__init__.py").write_text("VALUE = 'old'\n")
    monkeypatch.syspath_prepend(str(tmp_path / "layer"))
    monkeypatch.setattr(lambdas, "WATCH_INTERVAL_SECONDS", 0)
    monkeypatch.setattr(lambdas, "LAYER", layer)
    monkeypatch.setattr(lambdas, "LAYER_PACKAGE", "fakelayer")
    service.start_watching()
    function = _function(
        tmp_path,
        """
        import fakelayer

        def handler(event, context):
            return fakelayer.VALUE
        """,
    )
    try:
        assert service.invoke(function, {}).outcome() == "old"
        # WHEN a file of the layer changes
        (layer / "__init__.py").write_text("VALUE = 'new'\n")
        # THEN new environments import the layer afresh
        assert service.invoke(function, {}).outcome() == "new"
    finally:
        sys.modules.pop("fakelayer", None)


def test_aws_calls_are_counted_per_invocation(service, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    function = _function(
        tmp_path,
        """
        import boto3

        def handler(event, context):
            sts = boto3.client("sts")
            for _ in range(event["n"]):
                sts.get_caller_identity()
            return event["n"]
        """,
    )
    with mock_aws():
        boto3.client("sts").get_caller_identity()  # the caller's own call is not counted
        invocations = _parallel(service, function, [{"n": n} for n in (1, 2, 3)])
    assert [i.aws_calls for i in invocations] == [1, 2, 3]


def test_the_invoking_thread_is_known_inside_the_environment(service, tmp_path):
    function = _function(
        tmp_path,
        """
        import threading
        from infra.local.lambdas import invoking_thread

        def handler(event, context):
            return invoking_thread(), threading.get_ident()
        """,
    )
    caller, runner = service.invoke(function, {}).outcome()
    assert caller == threading.get_ident() != runner
