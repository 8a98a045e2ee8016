"""Audit the locks for known vulnerabilities: offline against a committed snapshot of the
PyPA advisory database, and online with pip-audit when an advisory service answers.

The snapshot (requirements/advisories/pypa.json, see its README.md) is checked on every
run, with no network: each pin of the three locks (the checkov venv's lock too) is
compared with the ECOSYSTEM ranges of its package's advisories, as OSV defines them
(affected from an `introduced` version up to, not including, a `fixed` one, or up to and
including a `last_affected` one; or listed in `versions`). It fails (exit 1)

- on a pin an advisory affects, naming the package, version, advisory and fixed version;
- on a pin of a package that was not looked up when the snapshot was made: a new
  dependency cannot pass unaudited, the snapshot has to be refreshed first.

Withdrawn advisories are skipped; a reviewed exception (`accepted` in the snapshot, with
its reason and the versions it covers) is printed but does not fail.

pip-audit then adds what the snapshot is too old to know. It skips a package it cannot
look up and still says "No known vulnerabilities found", and `--strict` turns an
unreachable advisory service into the same failure as a real finding. So each advisory
service is tried in turn (PyPI's JSON API, then OSV) and

- a known vulnerability fails (exit 1), listing the package, advisory and fixed versions;
- some packages audited but others skipped fails too (pip-audit's --strict);
- no service reachable prints "pip-audit: advisory service unreachable, snapshot audit
  only" with what failed and what the snapshot audit covered, and passes: the network
  here is not ours to fix, and the snapshot audit ran.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from infra.local.stack import ROOT

LOCKS = ("requirements/dev.txt", "layers/dependencies/requirements.txt")
# The checkov venv's lock is audited against the snapshot too (pip-audit sees only LOCKS).
SNAPSHOT_LOCKS = (*LOCKS, "requirements/checkov.txt")
SNAPSHOT = "requirements/advisories/pypa.json"
# Each service and what pip-audit asks it, for the message when it does not answer.
SERVICES = {
    "pypi": "GET https://pypi.org/pypi/<name>/<version>/json",
    "osv": "POST https://api.osv.dev/v1/query",
}
UNREACHABLE = "pip-audit: advisory service unreachable, snapshot audit only"
REFRESH = "refresh the advisory snapshot (requirements/advisories/README.md)"
# What pip-audit's stderr says when a service cannot be reached at all.
NETWORK_ERRORS = ("ConnectionError", "NameResolutionError", "Max retries exceeded", "Timeout")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


@dataclass(frozen=True)
class Pin:
    package: str  # normalised (PEP 503)
    version: str
    lock: str


@dataclass(frozen=True)
class Finding:
    pin: Pin
    advisory: str
    fixed: str  # the lowest fixed version above the pin, or why there is none

    def __str__(self) -> str:
        return f"{self.pin.package}=={self.pin.version}: {self.advisory} ({self.fixed})"


@dataclass
class SnapshotAudit:
    pins: list[Pin]
    advisories: int
    newest: str
    findings: list[Finding]
    accepted: list[tuple[Finding, str]]
    not_looked_up: list[Pin]


def read_pins(locks: tuple[str, ...] = SNAPSHOT_LOCKS) -> list[Pin]:
    pins = []
    for lock in locks:
        for line in (ROOT / lock).read_text().splitlines():
            if match := PIN.match(line):
                pins.append(Pin(canonicalize_name(match[1]), match[2], lock))
    return pins


def load_snapshot(path: Path = ROOT / SNAPSHOT) -> dict[str, Any]:
    return json.loads(path.read_text())


def _event(event: dict[str, str]) -> tuple[str, Version]:
    ((kind, value),) = event.items()
    return kind, Version(value)


def in_range(version: Version, events: list[dict[str, str]]) -> bool:
    """OSV's evaluation of one ECOSYSTEM range: the events in version order, each
    `introduced` at or below the version opening it, each `fixed` at or below (or
    `last_affected` below) closing it again."""
    affected = False
    for kind, bound in sorted((_event(e) for e in events), key=lambda e: e[1]):
        closes = bound <= version if kind == "fixed" else bound < version
        if kind == "introduced" and bound <= version:
            affected = True
        elif kind in ("fixed", "last_affected") and closes:
            affected = False
    return affected


def affects(advisory: dict[str, Any], version: str) -> bool:
    parsed = Version(version)
    listed = {Version(v) for v in advisory.get("versions", [])}
    return parsed in listed or any(
        in_range(parsed, r["events"]) for r in advisory["ranges"] if r["type"] == "ECOSYSTEM"
    )


def _fixed(advisory: dict[str, Any], version: str) -> str:
    above = sorted(
        bound
        for r in advisory["ranges"]
        for kind, bound in map(_event, r["events"])
        if kind == "fixed" and bound > Version(version)
    )
    return f"fixed in {above[0]}" if above else "no fixed version in the snapshot"


def audit_snapshot(snapshot: dict[str, Any], pins: list[Pin]) -> SnapshotAudit:
    looked_up = {canonicalize_name(n) for n in snapshot["looked_up"]}
    advisories = [a for a in snapshot["advisories"] if not a.get("withdrawn")]
    accepted = {
        (canonicalize_name(a["package"]), a["id"], v): a["reason"]
        for a in snapshot.get("accepted", [])
        for v in a["versions"]
    }
    result = SnapshotAudit(pins, len(advisories), snapshot["source"]["newest_modified"], [], [], [])
    for pin in pins:
        if pin.package not in looked_up:
            result.not_looked_up.append(pin)
            continue
        try:
            Version(pin.version)
        except InvalidVersion:
            raise SystemExit(f"{pin.lock}: {pin.package}=={pin.version} is not PEP 440") from None
        for advisory in advisories:
            if canonicalize_name(advisory["package"]) != pin.package:
                continue
            if not affects(advisory, pin.version):
                continue
            finding = Finding(pin, advisory["id"], _fixed(advisory, pin.version))
            reason = accepted.get((pin.package, advisory["id"], pin.version))
            if reason:
                result.accepted.append((finding, reason))
            else:
                result.findings.append(finding)
    return result


def report_snapshot(result: SnapshotAudit) -> bool:
    """Prints the snapshot audit; True when it passes."""
    for finding in dict.fromkeys(result.findings):  # a pin in two locks is one finding
        print(f"advisory snapshot: affected: {finding}", file=sys.stderr)
    for finding, reason in dict.fromkeys(result.accepted):
        print(f"advisory snapshot: accepted: {finding}: {reason}", file=sys.stderr)
    for pin in result.not_looked_up:
        print(
            f"advisory snapshot: {pin.package}=={pin.version} ({pin.lock}) was not looked up"
            f" when the snapshot was made: {REFRESH}",
            file=sys.stderr,
        )
    return not result.findings and not result.not_looked_up


def describe_snapshot(result: SnapshotAudit) -> str:
    packages = len({p.package for p in result.pins})
    return (
        f"{len(result.pins)} pins ({packages} packages) in {len(SNAPSHOT_LOCKS)} locks checked"
        f" against {result.advisories} advisories of {result.newest[:10]}"
        " (PyPA advisory database snapshot)"
    )


@dataclass
class Audit:
    service: str
    dependencies: list[dict[str, Any]] | None  # None: the service could not be asked
    error: str = ""

    @property
    def audited(self) -> list[dict[str, Any]]:
        return [d for d in self.dependencies or [] if "skip_reason" not in d]

    @property
    def skipped(self) -> list[dict[str, Any]]:
        return [d for d in self.dependencies or [] if "skip_reason" in d]

    @property
    def vulnerable(self) -> list[dict[str, Any]]:
        return [d for d in self.audited if d.get("vulns")]


def audit(service: str) -> Audit:
    command = [sys.executable, "-m", "pip_audit", "--no-deps", "--disable-pip"]
    command += ["--progress-spinner", "off", "--format", "json", "--vulnerability-service", service]
    for lock in LOCKS:
        command += ["--requirement", lock]
    # Our own interpreter running pip-audit on our own lock files: no untrusted input.
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        error = next(
            (line for line in reversed(lines) if any(e in line for e in NETWORK_ERRORS)), ""
        )
        if not error:
            raise SystemExit(f"pip-audit failed (exit {done.returncode}):\n{done.stderr}") from None
        return Audit(service, None, error.strip())
    return Audit(service, report.get("dependencies", []))


def _describe(dependency: dict[str, Any]) -> str:
    advisories = ", ".join(
        f"{v['id']} (fixed in {', '.join(v.get('fix_versions') or ['no release yet'])})"
        for v in dependency["vulns"]
    )
    return f"{dependency['name']}=={dependency['version']}: {advisories}"


def main() -> int:
    snapshot = audit_snapshot(load_snapshot(), read_pins())
    snapshot_passed = report_snapshot(snapshot)
    tried = []
    for service, request in SERVICES.items():
        result = audit(service)
        if result.audited:
            break
        reason = result.error or (result.skipped[0]["skip_reason"] if result.skipped else "")
        tried.append(f"  {service} ({request}): {reason}")
    else:
        print(UNREACHABLE, file=sys.stderr)
        print("\n".join(tried), file=sys.stderr)
        if not snapshot_passed:
            return 1
        print(f"advisory snapshot: {describe_snapshot(snapshot)}, none affected")
        return 0
    for dependency in result.vulnerable:
        print(f"pip-audit: vulnerable: {_describe(dependency)}", file=sys.stderr)
    for dependency in result.skipped:
        print(f"pip-audit: not audited: {dependency['skip_reason']}", file=sys.stderr)
    if result.vulnerable or result.skipped or not snapshot_passed:
        return 1
    print(f"advisory snapshot: {describe_snapshot(snapshot)}, none affected")
    print(
        f"pip-audit ({result.service}): {len(result.audited)} packages in {len(LOCKS)} locks,"
        " no known vulnerabilities"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
