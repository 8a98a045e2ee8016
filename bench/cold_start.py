"""`make bench` a): cold starts, measured so that a busy machine cannot flip a verdict.

What is measured, in a fresh process per sample, from the BUILT artifact (function +
layers, shipped unchecked-hash .pyc, plain python3.13, PYTHONDONTWRITEBYTECODE=1, the
function's environment; see lambda_env):

- import: the handler module's import, what Lambda's init runs before the first event;
- import + first DynamoDB client: then the DynamoDB client our code creates on its
  first request, as it creates it (`clientarea.storage.base.connection().client`: a PynamoDB
  connection's botocore client; no network call), the cold path a user waits for;
- deferred (informational): what a request that needs them adds on first use.

The yardstick is a bare `import boto3` from the Lambda runtime's copy, measured in the
same way. The protocol:

- every sample of a function is paired with the `import boto3` samples run just before
  and just after it (B F1 B F2 B ... Fn B), and judged as its ratio to their mean:
  whatever slows the machine during that second slows both sides of the ratio;
- every process is pinned to one CPU (`taskset -c 0`, where available), so that no
  sample gains or loses by migrating between cores;
- the times are CPU times of the process (user + system, `time.process_time`), not wall
  clock: on a shared machine a process waits for a core for as long as the others keep
  it, and that wait is no part of what the import costs. Wall-clock ratios are printed
  beside them; on an idle machine the two agree;
- `rounds` rounds, each in a new random order (drift cannot favour the functions that
  happen to come first), and the verdict on the median of a function's paired ratios,
  with the interquartile range printed beside it to show the spread;
- a verdict is not left to chance: while a budget lies inside the 95 % confidence
  interval of a function's median (distribution-free: order statistics), that function
  gets two more paired rounds, up to `max_rounds`. A function clear of its budget is
  judged after `rounds`; one close to it is judged on up to `max_rounds` samples, so
  that another run comes to the same verdict.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lambda_env
from lambda_env import Function

PEERS = Path(__file__).with_name("peers.toml")
# What our code imports on first use, in the requests that need it (boto3 for SQS, S3
# or Step Functions; the idempotency store; email-validator; argon2).
DEFERRED = (
    "boto3",
    "aws_lambda_powertools.utilities.idempotency",
    "email_validator",
    "argon2",
)
DEFERRED_ROUNDS = 3  # informational figures: measured in the first rounds only
# The confidence asked of a verdict before the extra rounds stop (see `undecided`).
CONFIDENCE = 0.95
# The first DynamoDB client, as our code creates it (every table goes through PynamoDB),
# in a function whose handler uses a table (the mailer's does not: no such client).
FIRST_CLIENT = (
    "if 'clientarea.storage.base' in sys.modules:\n"
    "    from clientarea.storage import base\n"
    "    base.connection().client\n"
    "else:\n"
    "    dynamodb = 0"
)
BASELINE_CLIENT = "boto3.client('dynamodb')"
PROBE = """\
import sys, time
dynamodb = 1
wall0, cpu0 = time.perf_counter(), time.process_time()
import {module}
wall1, cpu1 = time.perf_counter(), time.process_time()
{client}
wall2, cpu2 = time.perf_counter(), time.process_time()
if {deferred!r}:
    import importlib, importlib.util, sys
    for name in {deferred!r}:
        if name not in sys.modules and importlib.util.find_spec(name.split('.')[0]):
            importlib.import_module(name)
wall3 = time.perf_counter()
print(cpu1 - cpu0, (cpu2 - cpu0) * dynamodb, wall1 - wall0, wall2 - wall0, wall3 - wall2)
"""


@dataclass(frozen=True)
class Sample:
    """One process's times, in ms."""

    import_cpu: float
    client_cpu: float  # import + first DynamoDB client (0: the handler uses no table)
    import_wall: float
    client_wall: float
    deferred_wall: float


@dataclass
class Series:
    """One function's paired ratios and samples over the rounds."""

    import_ratio: list[float] = field(default_factory=list)
    client_ratio: list[float] = field(default_factory=list)
    wall_ratio: list[float] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)


def probe(function: Function | None, pin: list[str], deferred: bool = False) -> Sample:
    """One fresh process: `import boto3` (function None; with `deferred`, then its
    DynamoDB client, informational) or the function's handler."""
    if function is None:
        client = BASELINE_CLIENT if deferred else ""
        code = PROBE.format(module="boto3", client=client, deferred=())
    else:
        names = DEFERRED if deferred else ()
        code = PROBE.format(module=function.module, client=FIRST_CLIENT, deferred=names)
    done = lambda_env.run_python(code, function, pin=pin)
    if done.returncode != 0:
        where = function.logical_id if function else "runtime"
        raise SystemExit(f"cold-start probe ({where}) failed:\n{done.stderr[-3000:]}")
    values = [float(v) * 1000 for v in done.stdout.split()[-5:]]
    return Sample(*values)


Limits = Callable[[Function], dict[str, float]]


def measure(
    functions: list[Function],
    rounds: int,
    pin: list[str],
    progress: Callable[[str], None] = lambda _: None,
    limits: Limits | None = None,
    max_rounds: int | None = None,
) -> tuple[dict[str, Series], list[Sample]]:
    """Paired rounds (see the module docstring): each function's series, and every
    `import boto3` sample taken. With `limits` (a function's budgets, by metric), then
    more rounds, up to `max_rounds`, of the functions whose verdict is still undecided
    (see `undecided`), so that a median near its budget gets the samples it needs."""
    series: dict[str, Series] = defaultdict(Series)
    baseline: list[Sample] = []
    shuffler = random.Random()  # an order, not a secret
    done = 0
    for done in range(1, rounds + 1):
        started = time.perf_counter()
        _round(shuffler.sample(functions, len(functions)), series, baseline, pin, done)
        progress(f"round {done}/{rounds} in {time.perf_counter() - started:.1f} s")
    # Two rounds at a time: each function keeps an odd number of ratios, its median
    # one measured ratio.
    while limits is not None and done + 2 <= (max_rounds or rounds):
        close = [f for f in functions if undecided(series[f.logical_id], limits(f))]
        if not close:
            break
        for _ in range(2):
            done += 1
            started = time.perf_counter()
            _round(shuffler.sample(close, len(close)), series, baseline, pin, done)
            names = ", ".join(f.logical_id for f in close)
            progress(
                f"round {done}/{max_rounds} (undecided: {names}) in "
                f"{time.perf_counter() - started:.1f} s"
            )
    return series, baseline


def _round(
    order: list[Function],
    series: dict[str, Series],
    baseline: list[Sample],
    pin: list[str],
    number: int,
) -> None:
    """One round: B F1 B F2 B ... Fn B, each F judged against the B on either side."""
    informational = number <= DEFERRED_ROUNDS
    before = probe(None, pin, deferred=informational)
    baseline.append(before)
    for function in order:
        sample = probe(function, pin, deferred=informational)
        after = probe(None, pin, deferred=informational)
        baseline.append(after)
        boto3_cpu = (before.import_cpu + after.import_cpu) / 2
        boto3_wall = (before.import_wall + after.import_wall) / 2
        s = series[function.logical_id]
        s.import_ratio.append(sample.import_cpu / boto3_cpu)
        if sample.client_cpu:
            s.client_ratio.append(sample.client_cpu / boto3_cpu)
        s.wall_ratio.append(sample.import_wall / boto3_wall)
        s.samples.append(sample)
        before = after


def median_interval(values: list[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """A distribution-free confidence interval of the median: the order statistics
    x(k) and x(n+1-k) for the largest k whose coverage, 1 - 2 P(B <= k-1) with
    B ~ Binomial(n, 1/2), is at least `confidence` (n = 9: x(2)..x(8), 96 %).
    (-inf, inf) when there are too few values for any."""
    ordered = sorted(values)
    n, k, tail = len(ordered), 0, 0.0
    for j in range(n // 2 + 1):
        tail += math.comb(n, j) / 2**n
        if 1 - 2 * tail < confidence:
            break
        k = j + 1
    if k == 0:
        return -math.inf, math.inf
    return ordered[k - 1], ordered[n - k]


def undecided(series: Series, limits: dict[str, float]) -> bool:
    """Whether a budget lies inside the confidence interval of its median: the verdict
    (median <= budget) could then come out either way on another run."""
    for metric, ratios in (("import", series.import_ratio), ("first_client", series.client_ratio)):
        limit = limits.get(metric)
        if limit is None or not ratios:
            continue
        low, high = median_interval(ratios)
        if low <= limit < high:
            return True
    return False


def median_iqr(values: list[float]) -> tuple[float, float, float]:
    """(median, first quartile, third quartile)."""
    if len(values) < 2:
        return values[0], values[0], values[0]
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return median, q1, q3


def function_kinds(template: dict[str, Any]) -> dict[str, str]:
    """logical id -> "authorizer", "api" (has an Api event) or "other" (queue, S3)."""
    authorizer = lambda_env.authorizer_id(template)
    kinds = {}
    for logical_id, resource in lambda_env.of_type(template, "AWS::Serverless::Function").items():
        events = resource["Properties"].get("Events", {}).values()
        if logical_id == authorizer:
            kinds[logical_id] = "authorizer"
        elif any(e.get("Type") == "Api" for e in events):
            kinds[logical_id] = "api"
        else:
            kinds[logical_id] = "other"
    return kinds


def peers_table() -> list[list[str]]:
    """The committed peers' figures (bench/peers.toml): numbers only, no peer code."""
    import tomllib

    peers = tomllib.loads(PEERS.read_text())
    return [
        [p["name"], f"{p['import']:.2f}", f"{p['first_client']:.2f}", p.get("note", "")]
        for p in peers["peer"]
    ]
