"""What the authorizer and the API functions leave to first use (issue 16): each is paid
at a cold start by every user otherwise, and `make bench` measures that cold start
against budgets with little room. A module named here imported by a handler at init is
a regression even before the bench sees it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import cold_start  # noqa: E402
import lambda_env  # noqa: E402

from tests.support.handlers import loaded_modules, run_in_function  # noqa: E402

# Imported on first use by the requests that need them (the bench's informational
# "deferred ms"), then what our own code defers: the catalogues' TOML parser, the mail
# queue's pydantic model, the cession module (only the cession routes and an admin's
# recovery approval use it).
FIRST_USE = (
    *cold_start.DEFERRED,
    "tomllib",
    "clientarea.mail.message",
    "clientarea.cession",
)
OWN = {"CessionFunction": {"clientarea.cession"}}  # a function's own domain, at init

KINDS = cold_start.function_kinds(lambda_env.load_template())
USER_FACING = [f for f in lambda_env.functions() if KINDS[f.logical_id] != "other"]


@pytest.mark.parametrize("function", USER_FACING, ids=lambda f: f.logical_id)
def test_a_handler_leaves_to_first_use_what_few_requests_need(
    function: lambda_env.Function,
) -> None:
    loaded = loaded_modules(function)
    expected = OWN.get(function.logical_id, set())
    assert {m for m in FIRST_USE if m in loaded} == expected


# Each `@dataclass` compiles its generated methods when the class is made: 0.3-0.55 ms
# of CPU per class at init, against 0.06-0.11 ms for a `typing.NamedTuple`. Twelve of
# them were 0.03-0.05x of `import boto3` on an API function's import, the margin its
# budget needed (docs/cold-start.md). Our value types on a handler's import path are
# NamedTuples; a dataclass made at init is a regression even before the bench sees it.
COUNT_DATACLASSES = """
import dataclasses, json
made = []
process = dataclasses._process_class
def counted(cls, *args, **kwargs):
    made.append(f"{cls.__module__}.{cls.__qualname__}")
    return process(cls, *args, **kwargs)
dataclasses._process_class = counted
import %s
print(json.dumps([name for name in made if name.startswith(("clientarea.", "app."))]))
"""


@pytest.mark.parametrize("function", USER_FACING, ids=lambda f: f.logical_id)
def test_a_handler_makes_no_dataclass_of_ours_at_init(function: lambda_env.Function) -> None:
    assert run_in_function(function, COUNT_DATACLASSES % function.module) == []


# clientarea/startup.py: a handler initialises with the garbage collector paused (it
# would traverse the init's few hundred thousand objects again and again while they
# are made: about a tenth of the import's CPU time), then freezes what the init made
# and turns the collector back on for the requests. Every function, queue consumers
# included (their cold starts are billed).
COLLECTIONS_DURING_INIT = """
import gc, json
collections = []
gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info))
import %s
print(json.dumps({"collections": len(collections), "enabled": gc.isenabled(),
                  "frozen": gc.get_freeze_count() > 10_000}))
"""


@pytest.mark.parametrize("function", lambda_env.functions(), ids=lambda f: f.logical_id)
def test_a_handler_initialises_without_collections_and_collects_after(
    function: lambda_env.Function,
) -> None:
    seen = run_in_function(function, COLLECTIONS_DURING_INIT % function.module)
    assert seen == {"collections": 0, "enabled": True, "frozen": True}
