"""`make bench`: cold starts, AWS calls and latency per route, deployable sizes, web client.

a) Cold start: the import time of each function's handler module from the BUILT
   artifact (`.aws-sam/build/<Fn>` plus its layers, plain python3.13, shipped .pyc,
   PYTHONDONTWRITEBYTECODE=1, a fresh process each time), median of N runs, and its
   ratio to a bare `import boto3` measured the same way in the same run: each round
   imports boto3, then every function once; a function's ratio in a round is its time
   over the mean of the boto3 imports before and after that round, and the ratio
   judged is the median of the N rounds' ratios (N odd), so that a busy machine
   (a shared 2-core CI runner) slows both sides of each ratio alike.
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

import lambda_env
from lambda_env import BUILD, ROOT, Function

BUDGETS = Path(__file__).with_name("budgets.toml")
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024  # function + layers, unzipped
# What our code imports on first use, in the requests that need it (boto3 for SQS, S3
# or Step Functions; the idempotency store; email-validator; argon2). A cold start
# whose first request needs them pays the second number too.
DEFERRED = (
    "boto3",
    "aws_lambda_powertools.utilities.idempotency",
    "email_validator",
    "argon2",
)
IMPORT_TIMER = (
    "import importlib, importlib.util, sys, time\n"
    "start = time.perf_counter()\n"
    "import {module}\n"
    "print((time.perf_counter() - start) * 1000)\n"
    "start = time.perf_counter()\n"
    "for name in {deferred!r}:\n"
    "    if name not in sys.modules and importlib.util.find_spec(name.split('.')[0]):\n"
    "        importlib.import_module(name)\n"
    "print((time.perf_counter() - start) * 1000)\n"
)
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


def import_ms(function: Function | None, module: str) -> tuple[float, float]:
    """(ms to import `module`, ms to import then what it defers to first use)."""
    deferred = DEFERRED if function is not None else ()
    code = IMPORT_TIMER.format(module=module, deferred=deferred)
    done = lambda_env.run_python(code, function)
    if done.returncode != 0:
        where = function.logical_id if function else "runtime"
        raise SystemExit(f"import of {module} ({where}) failed:\n{done.stderr[-3000:]}")
    handler, later = done.stdout.strip().splitlines()[-2:]
    return float(handler), float(later)


def where_time_goes(function: Function, top: int = 5) -> str:
    """Self time by top-level package, from one `-X importtime` run."""
    done = lambda_env.run_python(f"import {function.module}", function, "-X", "importtime")
    per_package: dict[str, int] = defaultdict(int)
    for self_us, _cumulative, _indent, name in IMPORTTIME_LINE.findall(done.stderr):
        per_package[name.split(".")[0]] += int(self_us)
    ranked = sorted(per_package.items(), key=lambda kv: -kv[1])[:top]
    return ", ".join(f"{name} {us / 1000:.0f}" for name, us in ranked)


def cold_starts(
    functions: list[Function],
    budgets: dict[str, Any],
    runs: int,
    report: Report,
    profile: bool = True,
) -> None:
    section(f"a) cold start: handler import from the built artifact (median of {runs})")
    samples: dict[str, list[float]] = defaultdict(list)
    deferred: dict[str, list[float]] = defaultdict(list)
    ratios: dict[str, list[float]] = defaultdict(list)
    samples["boto3"].append(import_ms(None, "boto3")[0])
    for _ in range(runs):  # interleaved, so drift hits every function alike
        this_round = {}
        for f in functions:
            handler, later = import_ms(f, f.module)
            this_round[f.logical_id] = handler
            deferred[f.logical_id].append(later)
        samples["boto3"].append(import_ms(None, "boto3")[0])
        around = (samples["boto3"][-2] + samples["boto3"][-1]) / 2
        for logical_id, handler in this_round.items():
            samples[logical_id].append(handler)
            ratios[logical_id].append(handler / around)
    baseline = statistics.median(samples["boto3"])
    limits = budgets.get("max_import_ratio", {})
    rows = [
        [
            "import boto3 (baseline)",
            "boto3",
            f"{baseline:.1f}",
            f"{min(samples['boto3']):.1f}",
            "1.00",
            "",
            "",
            "",
        ]
    ]
    for f in functions:
        median = statistics.median(samples[f.logical_id])
        ratio = round(statistics.median(ratios[f.logical_id]), 2)  # judged as shown
        limit = float(limits.get(f.logical_id, limits.get("default", 1.5)))
        verdict = report.check(
            f"import ratio {f.logical_id}", f"{ratio:.2f}", limit, ratio <= limit
        )
        rows.append(
            [
                f.logical_id,
                f"{f.module}.{f.attribute}",
                f"{median:.1f}",
                f"{min(samples[f.logical_id]):.1f}",
                f"{ratio:.2f}",
                f"<= {limit}",
                verdict,
                f"{statistics.median(deferred[f.logical_id]):.1f}",
            ]
        )
    print(
        table(
            ["function", "handler", "median ms", "min ms", "x boto3", "budget", "", "deferred ms"],
            rows,
            right={2, 3, 4, 7},
        )
    )
    print(
        "deferred ms: what a request that needs them adds on first use (median), imported "
        f"after the handler: {', '.join(DEFERRED)}. Nothing every request of a function needs "
        "is deferred (the mailer's SES client and the intake's S3 client are imported with "
        "the handler)."
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
    parser.add_argument("--runs", type=int, default=budgets["cold_start"].get("runs", 7))
    parser.add_argument("--iterations", type=int, default=budgets["routes"].get("iterations", 30))
    parser.add_argument(
        "--quick",
        action="store_true",
        help="CI: the [quick] runs and iterations of budgets.toml (fewer samples, same "
        "statistics), without the informational import profile",
    )
    parser.add_argument("--enforce", action="store_true", help="exit 1 when a budget fails")
    parser.add_argument("--no-build", action="store_true", help="never run `make build`")
    parser.add_argument("--only", choices=["cold-start", "routes", "size", "web"], action="append")
    parser.add_argument(
        "--check-cost",
        action="store_true",
        help="CI: fail if docs/cost.md is not what the measured calls and prices give "
        "(instead of writing it)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        quick = budgets.get("quick", {})
        args.runs = int(quick.get("runs", args.runs))
        args.iterations = int(quick.get("iterations", args.iterations))
    if args.runs % 2 == 0:
        parser.error("--runs must be odd (the median is then one measured run)")
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
        f"python {lambda_env.python313()} | build {BUILD.relative_to(ROOT)} | budgets "
        f"{BUDGETS.relative_to(ROOT)}"
    )
    if "cold-start" in only:
        cold_starts(functions, budgets["cold_start"], args.runs, report, profile=not args.quick)
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
