"""`make bench`: cold starts, AWS calls and latency per route, deployable sizes, web client.

a) Cold start (cold_start.py): each function's handler import, and that import plus
   the first DynamoDB client our code creates, from the BUILT artifact, as multiples
   of a bare `import boto3`: every sample paired with the boto3 imports just before and
   after it, CPU time, pinned to one CPU, shuffled rounds, median and interquartile
   range; the peers' committed figures beside ours.
b) Routes: AWS API calls per request (the authorizer's apart) and in-process p50/p95
   latency, the whole API on moto in this process (see routes.py).
c) Size: what each function deploys: its code plus its layers, unzipped and zipped.
d) Web client: web/dist's JavaScript and CSS, gzipped, per file and in all (the whole
   client against its budget), and what a first visit loads.
e) Cost on paper: docs/cost.md from the calls of b) and bench/prices.toml (cost.py);
   --check-cost compares instead of writing (CI).

Budgets come from bench/budgets.toml. A FAIL is reported; the exit status is non-zero
only with --enforce. A scenario that cannot be played (an unexpected answer, a failed
import) always exits non-zero.
"""

from __future__ import annotations

import argparse
import gzip
import io
import re
import shutil
import statistics
import subprocess
import sys
import time
import tomllib
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cold_start
import lambda_env
from lambda_env import BUILD, ROOT, Function

BUDGETS = Path(__file__).with_name("budgets.toml")
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024  # function + layers, unzipped
IMPORTTIME_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)$", re.MULTILINE)


@dataclass
class Verdict:
    budget: str
    measured: str
    limit: str
    ok: bool


class Report:
    def __init__(self) -> None:
        self.verdicts: list[Verdict] = []
        self.errors: list[str] = []

    def check(self, budget: str, measured: float | str, limit: float | str, ok: bool) -> str:
        self.verdicts.append(Verdict(budget, str(measured), str(limit), ok))
        return "PASS" if ok else "FAIL"


def table(headers: list[str], rows: list[list[Any]], right: set[int] | None = None) -> str:
    right = right if right is not None else set(range(1, len(headers)))
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 76 - len(title)), flush=True)


def mib(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / 1024 / 1024:.2f} MiB"


# --- a) cold start --------------------------------------------------------------------


def where_time_goes(function: Function, top: int = 5) -> str:
    """Self time by top-level package, from one `-X importtime` run."""
    done = lambda_env.run_python(f"import {function.module}", function, "-X", "importtime")
    per_package: dict[str, int] = defaultdict(int)
    for self_us, _cumulative, _indent, name in IMPORTTIME_LINE.findall(done.stderr):
        per_package[name.split(".")[0]] += int(self_us)
    ranked = sorted(per_package.items(), key=lambda kv: -kv[1])[:top]
    return ", ".join(f"{name} {us / 1000:.0f}" for name, us in ranked)


def _spread(values: list[float]) -> str:
    median, q1, q3 = cold_start.median_iqr(values)
    return f"{median:.2f} ({q1:.2f}-{q3:.2f})"


def cold_starts(
    functions: list[Function],
    budgets: dict[str, Any],
    rounds: int,
    report: Report,
    profile: bool = True,
    max_rounds: int | None = None,
) -> None:
    pin = lambda_env.pin_command(budgets.get("cpu", 0))
    pinned = " ".join([Path(pin[0]).name, *pin[1:]]) if pin else "NOT pinned: no taskset"
    section(f"a) cold start: x import boto3, paired, {rounds} shuffled rounds")
    print(
        f"  CPU time of each process ({pinned}), each "
        "function between two `import boto3` runs; median (interquartile range) of the "
        "paired ratios",
        flush=True,
    )
    kinds = cold_start.function_kinds(lambda_env.load_template())
    limits = budgets["max_ratio"]
    max_rounds = max(rounds, max_rounds or rounds)
    if max_rounds > rounds:
        print(
            f"  a function whose budget lies within the 95 % confidence interval of its "
            f"median gets more rounds, up to {max_rounds}",
            flush=True,
        )
    started = time.perf_counter()
    series, baseline = cold_start.measure(
        functions,
        rounds,
        pin,
        lambda step: print(f"  ... {step}", flush=True),
        limits=lambda f: limits.get(f.logical_id, limits.get(kinds[f.logical_id], {})),
        max_rounds=max_rounds,
    )
    print(f"  (measured in {time.perf_counter() - started:.0f} s)\n")
    boto3_cpu = statistics.median(b.import_cpu for b in baseline)
    boto3_client = statistics.median(
        b.client_cpu for b in baseline[: cold_start.DEFERRED_ROUNDS * (len(functions) + 1)]
    )
    rows = [
        [
            "import boto3 (yardstick)",
            "",
            "1.00",
            "",
            "",
            f"{boto3_client / boto3_cpu:.2f}",
            "",
            "",
            "1.00",
            "",
            f"{boto3_cpu:.0f}",
            "",
        ],
    ]
    for f in functions:
        s, kind = series[f.logical_id], kinds[f.logical_id]
        cells = [f.logical_id, kind]
        for metric, ratios in (("import", s.import_ratio), ("first_client", s.client_ratio)):
            if not ratios:
                cells += ["(uses no table)", "", ""]
                continue
            ratio = round(cold_start.median_iqr(ratios)[0], 2)  # judged as shown
            # A function's own budget (a table named after it), else its kind's.
            limit = limits.get(f.logical_id, limits.get(kind, {})).get(metric)
            label = "import" if metric == "import" else "import + first DynamoDB client"
            verdict = ""
            if limit is not None:
                verdict = report.check(
                    f"cold start {label} {f.logical_id} (x boto3)",
                    f"{ratio:.2f}",
                    limit,
                    ratio <= float(limit),
                )
            cells += [_spread(ratios), f"<= {limit}" if limit is not None else "", verdict]
        deferred = [x.deferred_wall for x in s.samples[: cold_start.DEFERRED_ROUNDS]]
        cells += [
            f"{cold_start.median_iqr(s.wall_ratio)[0]:.2f}",
            len(s.samples),
            f"{statistics.median(x.import_cpu for x in s.samples):.0f}",
            f"{statistics.median(deferred):.0f}",
        ]
        rows.append(cells)
    print(
        table(
            [
                "function",
                "kind",
                "import x boto3",
                "budget",
                "",
                "+ DynamoDB client x boto3",
                "budget",
                "",
                "wall x",
                "rounds",
                "import ms",
                "deferred ms",
            ],
            rows,
            right={2, 5, 8, 9, 10, 11},
        )
    )
    print(
        "\nimport ms: CPU ms of the handler import (median); wall x: the import's wall-clock "
        "ratio (informational); rounds: the paired samples judged; the yardstick's "
        "`+ client` is `import boto3` then "
        "`boto3.client('dynamodb')`. deferred ms: what a request that needs them adds on "
        f"first use (wall, first {cold_start.DEFERRED_ROUNDS} rounds): "
        f"{', '.join(cold_start.DEFERRED)}."
    )
    print(
        "\npeers, same protocol on Python 3.13.0 as it is (committed figures from "
        "bench/peers.toml, not measured here; ours on the same footing: --interpreter-as-is):"
    )
    print(
        table(
            ["peer", "import x boto3", "+ DynamoDB client x boto3", ""],
            cold_start.peers_table(),
            right={1, 2},
        )
    )
    if not profile:
        return
    print("\nwhere the import time goes (self ms by top-level package, one -X importtime run):")
    for f in functions:
        print(f"  {f.logical_id:<28} {where_time_goes(f)}")


# --- b) routes --------------------------------------------------------------------------


def _fmt_ops(operations: tuple[str, ...] | list[str]) -> str:
    return ", ".join(operations) if operations else "(none)"


def _route_rows(measured: list[Any], limits: dict[str, Any], report: Report) -> list[list[Any]]:
    rows = []
    for m in measured:
        calls = m.max_calls()
        counts = sorted({len(s) for s in m.sequences()})
        authz = m.max_calls(authorizer=True) if any(m.sequences(authorizer=True)) else ""
        limit = limits.get(m.route)
        verdict = ""
        if limit is not None:
            verdict = report.check(f"AWS calls {m.label}", calls, limit, calls <= int(limit))
        rows.append(
            [
                m.label,
                " ".join(f"{s}x{c}" for s, c in sorted(m.statuses.items())),
                f"{m.first_ms():.1f}",
                f"{m.percentile_ms(50):.1f}",
                f"{m.percentile_ms(95):.1f}",
                calls if len(counts) == 1 else f"{counts[0]}-{counts[-1]}",
                authz,
                f"<= {limit}" if limit is not None else "",
                verdict,
            ]
        )
    return rows


def _authorizer_budget(measured: list[Any], limits: dict[str, Any], report: Report) -> None:
    authorized = [m for m in measured if any(m.sequences(authorizer=True))]
    if "authorizer" not in limits or not authorized:
        return
    worst = max(m.max_calls(authorizer=True) for m in authorized)
    ops = sorted({s for m in authorized for s in m.sequences(authorizer=True)})
    verdict = report.check(
        "AWS calls authorizer", worst, limits["authorizer"], worst <= int(limits["authorizer"])
    )
    print(
        f"\nauthorizer (every authenticated request): {worst} call(s) "
        f"[{'; '.join(_fmt_ops(o) for o in ops)}]  budget <= {limits['authorizer']}  {verdict}"
    )


def _coverage(measured: list[Any], limits: dict[str, Any], report: Report) -> None:
    """Every route of template.yaml is played, and has an AWS-call budget."""
    from lambda_env import template_routes

    played = {m.route for m in measured}
    for route in template_routes():
        if route not in played:
            report.check(f"route played {route}", "no scenario", "a scenario", False)
        elif route not in limits:
            report.check(f"AWS calls {route}", "no budget", "a budget", False)


def _full_cession(cession: dict[str, Any], limits: dict[str, Any], report: Report) -> None:
    transitions, calls = cession["transitions"], cession["request_calls"]
    workflow = cession["workflow_calls"]
    print("\none full cession (order, activate, both confirm, completed):")
    t_limit = limits.get("max_transitions", 12)
    c_limit = limits.get("max_aws_calls")
    t_verdict = report.check(
        "cession state transitions", transitions, t_limit, transitions <= t_limit
    )
    print(f"  state transitions: {transitions}  budget <= {t_limit}  {t_verdict}")
    print(f"    {' > '.join(cession['states'])}")
    total = calls + workflow
    c_verdict = ""
    if c_limit is not None:
        c_verdict = report.check("cession AWS calls", total, c_limit, total <= int(c_limit))
    print(
        f"  AWS calls: {total} = {calls} by the four requests + {workflow} workflow tasks"
        f"  budget <= {c_limit}  {c_verdict}"
    )
    operations = cession["request_operations"].items()
    print(f"    requests: {', '.join(f'{op} x{n}' for op, n in operations)}")


def _same_calls(measured: list[Any], same: dict[str, list[Any]], report: Report) -> None:
    """Each group of variants of a route made one and the same sequence of calls (a
    route's value is one group of variant names, or a list of such groups)."""
    groups = [
        (route, group)
        for route, value in same.items()
        for group in (value if value and isinstance(value[0], list) else [value])
    ]
    for route, variants in groups:
        chosen = [m for m in measured if m.route == route and m.variant in variants]
        sequences = {s for m in chosen for s in m.sequences()}
        ok = len(chosen) == len(variants) and len(sequences) == 1
        verdict = report.check(
            f"same AWS calls {route} ({' / '.join(variants)})",
            f"{len(sequences)} distinct",
            "1",
            ok,
        )
        print(f"\n{route}: {' vs '.join(variants)} make the same calls: {verdict}")
        for m in chosen:
            for seq in sorted(set(m.sequences())):
                print(f"  {m.variant:<14} {_fmt_ops(seq)}")


def routes(budgets: dict[str, Any], iterations: int, report: Report) -> Any:
    import routes as route_bench

    section(f"b) routes: AWS calls per request, in-process latency ({iterations} requests each)")
    started = time.perf_counter()
    try:
        out = sys.stdout  # the scenario captures stdout (the functions' logs)
        result = route_bench.run(
            iterations, lambda step: print(f"  ... {step}", file=out, flush=True)
        )
    except route_bench.BenchError as exc:
        report.errors.append(f"route scenario: {exc}")
        print(f"  scenario failed: {exc}")
        return None
    print(f"  (played in {time.perf_counter() - started:.1f} s)\n")
    limits = budgets.get("max_aws_calls", {})
    for m in result.measured:
        report.errors.extend(m.errors)
    print(
        table(
            [
                "route",
                "status",
                "1st ms",
                "p50 ms",
                "p95 ms",
                "AWS calls",
                "authz calls",
                "budget",
                "",
            ],
            _route_rows(result.measured, limits, report),
            right={2, 3, 4, 5, 6},
        )
    )
    print(
        "(p50/p95 over all requests but the first; 1st: the route's first request, which "
        "creates clients and fills caches; latency includes the authorizer)"
    )
    _coverage(result.measured, limits, report)
    _authorizer_budget(result.measured, limits, report)
    print("\ncalls per request (route function only):")
    for m in result.measured:
        for seq in sorted(set(m.sequences())):
            print(f"  {m.label:<40} {_fmt_ops(seq)}")
    _same_calls(result.measured, budgets.get("same_calls", {}), report)
    _full_cession(result.cession, budgets.get("cession", {}), report)
    print("\nbehind the queue, after the 202 (not part of the answer; informational):")
    for variant, by_function in result.background.items():
        parts = [f"{fn}: {len(ops)} [{_fmt_ops(ops)}]" for fn, ops in by_function.items()]
        print(f"  forgot, {variant:<14} {'; '.join(parts) or '(no calls)'}")
    return result


def cost_sheet(result: Any, check: bool, report: Report) -> None:
    """docs/cost.md from the calls just measured: written, or (--check-cost) compared."""
    import cost

    section("d) cost on paper: docs/cost.md")
    text = cost.render(result, lambda_env.load_template(), cost.load_prices())
    where = cost.DOC.relative_to(ROOT)
    current = cost.DOC.read_text() if cost.DOC.is_file() else ""
    if check:
        if text != current:
            report.errors.append(f"{where} is stale: run `make bench` and commit it")
        print(f"  {where}: {'current' if text == current else 'STALE'}")
        return
    cost.DOC.write_text(text)
    print(f"  {where}: {'unchanged' if text == current else 'written'}")


# --- c) sizes ---------------------------------------------------------------------------


def _sizes(directory: Path) -> tuple[int, int]:
    """(unzipped bytes, zipped bytes) of a directory as it would be uploaded."""
    buffer = io.BytesIO()
    unzipped = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                unzipped += path.stat().st_size
                archive.write(path, path.relative_to(directory))
    return unzipped, len(buffer.getvalue())


def sizes(functions: list[Function], budgets: dict[str, Any], report: Report) -> None:
    section("c) deployable size: function code + its layers")
    cache: dict[Path, tuple[int, int]] = {}

    def measured(directory: Path) -> tuple[int, int]:
        if directory not in cache:
            cache[directory] = _sizes(directory)
        return cache[directory]

    rows = []
    for f in functions:
        code = measured(f.artifact)
        layers = [measured(BUILD / layer) for layer in f.layers]
        unzipped = code[0] + sum(u for u, _ in layers)
        zipped = code[1] + sum(z for _, z in layers)
        share = unzipped / LAMBDA_UNZIPPED_LIMIT
        limits = budgets.get("max_unzipped_mib", {})
        limit = float(limits.get(f.logical_id, limits.get("default", 250)))
        size_mib = unzipped / 1024 / 1024
        verdict = report.check(
            f"size {f.logical_id} (MiB unzipped)", f"{size_mib:.2f}", limit, size_mib <= limit
        )
        rows.append(
            [
                f.logical_id,
                mib(code[0]),
                mib(sum(u for u, _ in layers)),
                mib(unzipped),
                mib(code[1]),
                mib(zipped),
                f"{share:.1%}",
                f"<= {limit:g} MiB",
                verdict,
            ]
        )
    print(
        table(
            [
                "function",
                "code",
                "layers",
                "unzipped",
                "code zip",
                "total zip",
                "of 250 MB",
                "budget",
                "",
            ],
            rows,
        )
    )
    print(
        "\nlayers: "
        + ", ".join(
            f"{d.name} {mib(u)} unzipped / {mib(z)} zipped"
            for d, (u, z) in cache.items()
            if d.parent == BUILD and d.name not in {f.logical_id for f in functions}
        )
    )


# --- d) the web client -------------------------------------------------------------------

WEB_DIST = ROOT / "web" / "dist"


def web_client(budgets: dict[str, Any], report: Report) -> None:
    """web/dist's JavaScript and CSS, gzipped (what a browser downloads): the whole
    client (every page and all five catalogs) against the budget, and what the first
    visit loads (index.html's script and stylesheet) apart."""
    section("d) web client (web/dist), gzipped")
    index = WEB_DIST / "index.html"
    if not index.is_file():
        make = shutil.which("make") or "make"
        subprocess.run([make, "-C", str(ROOT), "web"], check=True)
    entry = set(re.findall(r'(?:src|href)="/(assets/[^"]+)"', index.read_text()))
    rows, totals, first = [], {"js": 0, "css": 0}, 0
    for path in sorted((WEB_DIST / "assets").iterdir()):
        kind = path.suffix.lstrip(".")
        if kind not in totals:
            continue
        raw = path.read_bytes()
        zipped = len(gzip.compress(raw, compresslevel=9, mtime=0))
        totals[kind] += zipped
        loaded_first = str(path.relative_to(WEB_DIST)) in entry
        first += zipped if loaded_first else 0
        rows.append(
            [path.name, mib(len(raw)), mib(zipped), "first visit" if loaded_first else "on demand"]
        )
    print(table(["file", "size", "gzipped", "loaded"], rows, right={1, 2}))
    for kind, limit_key in (("js", "max_js_gzip_kib"), ("css", "max_css_gzip_kib")):
        limit = float(budgets[limit_key])
        kib = totals[kind] / 1024
        verdict = report.check(
            f"web client {kind.upper()} (KiB gzipped)", f"{kib:.1f}", limit, kib <= limit
        )
        print(f"{kind.upper()} in all: {kib:.1f} KiB gzipped (budget {limit:g} KiB) {verdict}")
    print(f"first visit (index.html's script and stylesheet): {first / 1024:.1f} KiB gzipped")


# --- main -------------------------------------------------------------------------------


def ensure_build(allowed: bool) -> None:
    if not lambda_env.build_is_stale():
        return
    if not allowed:
        print("warning: .aws-sam/build is missing or older than the sources (--no-build)")
        return
    print("building: .aws-sam/build is missing or older than the sources", flush=True)
    make = shutil.which("make") or "make"
    subprocess.run([make, "-C", str(ROOT), "build"], check=True)


def summary(report: Report, enforce: bool) -> int:
    section("budgets")
    failed = [v for v in report.verdicts if not v.ok]
    for v in report.verdicts:
        print(f"  {'PASS' if v.ok else 'FAIL'}  {v.budget}: {v.measured} (budget {v.limit})")
    print(f"\nbudgets: {len(report.verdicts) - len(failed)} met, {len(failed)} over")
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)
    if report.errors:
        return 2
    if failed and enforce:
        return 1
    if failed:
        print("(budgets are not enforced: run with --enforce to fail on them)")
    return 0


def main(argv: list[str] | None = None) -> int:
    budgets = tomllib.loads(BUDGETS.read_text())
    parser = argparse.ArgumentParser(
        prog="make bench ARGS=...",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="cold-start rounds (odd: the median is then one measured ratio), exactly "
        "(no extra rounds for close verdicts); default: budgets.toml's rounds, or its "
        "[quick] rounds with --quick, then up to its max_rounds for close verdicts",
    )
    parser.add_argument("--iterations", type=int, default=budgets["routes"].get("iterations", 30))
    parser.add_argument(
        "--quick",
        action="store_true",
        help="CI: the [quick] rounds and iterations of budgets.toml (fewer samples, same "
        "pairing and statistics), without the informational import profile",
    )
    parser.add_argument("--enforce", action="store_true", help="exit 1 when a budget fails")
    parser.add_argument(
        "--interpreter-as-is",
        action="store_true",
        help="without bench/frame_stack_cache.c, which gives a Python 3.13 older than "
        "3.13.13 the fix of gh-142183 that Lambda's runtime has (docs/cold-start.md)",
    )
    parser.add_argument("--no-build", action="store_true", help="never run `make build`")
    parser.add_argument("--only", choices=["cold-start", "routes", "size", "web"], action="append")
    parser.add_argument(
        "--check-cost",
        action="store_true",
        help="CI: fail if docs/cost.md is not what the measured calls and prices give "
        "(instead of writing it)",
    )
    args = parser.parse_args(argv)
    lambda_env.stand_in_for_missing_fixes = not args.interpreter_as_is
    quick = budgets.get("quick", {}) if args.quick else {}
    explicit_rounds = args.rounds is not None
    if args.rounds is None:
        args.rounds = int(quick.get("rounds", budgets["cold_start"]["rounds"]))
    # --rounds N alone: exactly N rounds (no extra rounds for close verdicts).
    max_rounds = (
        args.rounds
        if explicit_rounds
        else int(quick.get("max_rounds", budgets["cold_start"].get("max_rounds", args.rounds)))
    )
    if args.quick:
        args.iterations = int(quick.get("iterations", args.iterations))
    if args.rounds % 2 == 0:
        parser.error("--rounds must be odd (the median is then one measured ratio)")
    only = set(args.only or ["cold-start", "routes", "size", "web"])
    if only == {"web"}:
        report = Report()
        web_client(budgets["web"], report)
        return summary(report, args.enforce)

    ensure_build(not args.no_build)
    lambda_env.ensure_runtime()
    functions = lambda_env.functions()
    report = Report()
    print(
        f"{lambda_env.interpreter_description()} | build {BUILD.relative_to(ROOT)} | budgets "
        f"{BUDGETS.relative_to(ROOT)}"
    )
    if "cold-start" in only:
        cold_starts(
            functions,
            budgets["cold_start"],
            args.rounds,
            report,
            profile=not args.quick,
            max_rounds=max_rounds,
        )
    if "routes" in only:
        measured = routes(budgets["routes"], args.iterations, report)
        if measured is not None:
            cost_sheet(measured, args.check_cost, report)
    if "size" in only:
        sizes(functions, budgets.get("size", {}), report)
    if "web" in only:
        web_client(budgets["web"], report)
    return summary(report, args.enforce)


if __name__ == "__main__":
    sys.exit(main())
