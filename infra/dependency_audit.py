"""Audit both locks for known vulnerabilities with pip-audit, without trusting silence.

pip-audit skips a package it cannot look up and then still says "No known
vulnerabilities found", and `--strict` turns an unreachable advisory service into the
same failure as a real finding. This tells the cases apart: each advisory service is
tried in turn (PyPI's JSON API, then OSV) and

- a known vulnerability fails (exit 1), listing the package, advisory and fixed versions;
- some packages audited but others skipped fails too (pip-audit's --strict);
- no service reachable prints "pip-audit: advisory service unreachable, nothing audited"
  with what failed, and passes: the network here is not ours to fix, and the message is
  in the CI log rather than a silent pass.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from infra.local.stack import ROOT

LOCKS = ("requirements/dev.txt", "layers/dependencies/requirements.txt")
# Each service and what pip-audit asks it, for the message when it does not answer.
SERVICES = {
    "pypi": "GET https://pypi.org/pypi/<name>/<version>/json",
    "osv": "POST https://api.osv.dev/v1/query",
}
UNREACHABLE = "pip-audit: advisory service unreachable, nothing audited"
# What pip-audit's stderr says when a service cannot be reached at all.
NETWORK_ERRORS = ("ConnectionError", "NameResolutionError", "Max retries exceeded", "Timeout")


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
        return 0
    for dependency in result.vulnerable:
        print(f"pip-audit: vulnerable: {_describe(dependency)}", file=sys.stderr)
    for dependency in result.skipped:
        print(f"pip-audit: not audited: {dependency['skip_reason']}", file=sys.stderr)
    if result.vulnerable or result.skipped:
        return 1
    print(
        f"pip-audit ({result.service}): {len(result.audited)} packages in {len(LOCKS)} locks,"
        " no known vulnerabilities"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
