"""`make bench`'s cold-start protocol (bench/cold_start.py, issue 16): what a busy
machine does to the times must not decide a verdict. The probes are stood in for
(no process is started): each test plays a machine whose speed it controls."""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import cold_start  # noqa: E402
from lambda_env import Function  # noqa: E402


def _lognormal(sigma: float, seed: int) -> Callable[[str], float]:
    """Noise of each process: log-normal with `sigma`, one seeded stream per name."""
    streams: dict[str, random.Random] = {}

    def draw(name: str) -> float:
        stream = streams.setdefault(name, random.Random(f"{seed}-{name}"))
        return math.exp(stream.gauss(0, sigma))

    return draw


def _function(name: str) -> Function:
    return Function(name, "app", "lambda_handler", {}, (), ROOT)


class Machine:
    """A stand-in for `cold_start.probe`: every process costs its intrinsic CPU ms
    (boto3: 100) times the machine's slowdown at that moment, times its own noise
    (drawn per function name, so that the rounds' random order does not change what
    each function draws)."""

    def __init__(
        self,
        ratios: dict[str, float],
        slowdown: Callable[[int], float] = lambda _: 1.0,
        noise: Callable[[str], float] = lambda _: 1.0,
    ) -> None:
        self.ratios, self.slowdown, self.noise = ratios, slowdown, noise
        self.calls: list[str] = []

    def probe(self, function: Function | None, pin: list[str], deferred: bool = False):
        name = function.logical_id if function else "boto3"
        self.calls.append(name)
        cpu = 100 * self.ratios.get(name, 1.0) * self.slowdown(len(self.calls)) * self.noise(name)
        return cold_start.Sample(cpu, cpu * 1.3, cpu, cpu * 1.3, 0.0)


def test_each_function_is_judged_against_the_boto3_runs_on_either_side(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The machine gets five times slower over the run (others start their tests):
    the paired ratios still give every function's own cost."""
    machine = Machine({"A": 1.6, "B": 1.1}, slowdown=lambda call: 1 + call / 10)
    monkeypatch.setattr(cold_start, "probe", machine.probe)
    functions = [_function("A"), _function("B")]
    series, baseline = cold_start.measure(functions, rounds=15, pin=[])
    assert machine.calls[:5:2] == ["boto3"] * 3  # B F B F B
    assert len(baseline) == 15 * 3
    for name, ratio in (("A", 1.6), ("B", 1.1)):
        ratios = series[name].import_ratio
        assert len(ratios) == 15
        assert all(math.isclose(r, ratio, rel_tol=1e-9) for r in ratios)
    # Against the run's median boto3 instead, the slowdown alone would move A by 20 %.
    unpaired = [s.import_cpu / 100 for s in series["A"].samples]
    assert max(unpaired) / min(unpaired) > 1.2


@pytest.mark.parametrize(
    ("n", "ranks"),
    [(9, (2, 8)), (15, (4, 12)), (31, (10, 22)), (6, (1, 6))],
)
def test_the_median_interval_is_the_order_statistics_of_95_percent(
    n: int, ranks: tuple[int, int]
) -> None:
    values = list(range(1, n + 1))
    random.Random(n).shuffle(values)
    assert cold_start.median_interval(values) == ranks
    # Its coverage, 1 - 2 P(B <= k - 1), is at least 95 %, and one rank narrower is not.
    k = ranks[0]

    def coverage(k: int) -> float:
        return 1 - 2 * sum(math.comb(n, j) for j in range(k)) / 2**n

    assert coverage(k) >= 0.95 > coverage(k + 1)


def test_too_few_values_decide_nothing() -> None:
    assert cold_start.median_interval([1.0, 2.0, 3.0, 4.0, 5.0]) == (-math.inf, math.inf)


def test_a_close_verdict_gets_more_rounds_and_a_clear_one_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    machine = Machine({"close": 1.64, "clear": 1.2}, noise=_lognormal(0.05, 16))
    monkeypatch.setattr(cold_start, "probe", machine.probe)
    series, _ = cold_start.measure(
        [_function("close"), _function("clear")],
        rounds=9,
        pin=[],
        limits=lambda f: {"import": 1.65},
        max_rounds=31,
    )
    assert len(series["clear"].import_ratio) == 9
    assert len(series["close"].import_ratio) == 31  # odd: the median is one ratio
    # Without limits (or with --rounds), exactly the rounds asked for.
    series, _ = cold_start.measure([_function("close")], rounds=9, pin=[])
    assert len(series["close"].import_ratio) == 9


def test_extra_rounds_stop_once_the_verdict_is_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    """Noisy early rounds, then a quiet machine: no more rounds than needed."""
    noise = random.Random(3)
    machine = Machine(
        {"f": 1.5},
        noise=lambda _: math.exp(noise.gauss(0, 0.3 if len(machine.calls) < 20 else 0.01)),
    )
    monkeypatch.setattr(cold_start, "probe", machine.probe)
    series, _ = cold_start.measure(
        [_function("f")], rounds=9, pin=[], limits=lambda f: {"import": 1.65}, max_rounds=41
    )
    rounds = len(series["f"].import_ratio)
    assert 9 < rounds < 41 and rounds % 2 == 1
    _, high = cold_start.median_interval(series["f"].import_ratio)
    assert high <= 1.65


def test_runs_in_a_row_agree_more_often_than_with_fixed_rounds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A function 3 % under its budget on a loaded machine (each process's CPU time off
    by about 5 %, as measured under a load average of 8 on 2 cores), over 200 runs:
    CI's 9 fixed rounds would fail it in 15 runs of 200, the extra rounds in 1. (Nothing can decide a function at its very budget: that one is
    the budget's to move, or the code's.)"""

    def failures(max_rounds: int) -> int:
        machine = Machine({"f": 1.60}, noise=_lognormal(0.05, 1616))
        monkeypatch.setattr(cold_start, "probe", machine.probe)
        failed = 0
        for _ in range(200):
            series, _ = cold_start.measure(
                [_function("f")],
                rounds=9,
                pin=[],
                limits=lambda f: {"import": 1.65},
                max_rounds=max_rounds,
            )
            failed += round(cold_start.median_iqr(series["f"].import_ratio)[0], 2) > 1.65
        return failed

    fixed, extra = failures(9), failures(31)
    assert fixed >= 10
    assert extra * 3 <= fixed and extra < 4
