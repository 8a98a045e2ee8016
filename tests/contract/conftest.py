"""A summary of what schemathesis did, at the end of the run (pytest shows one test per
operation, not how many requests and checks went into each)."""

from __future__ import annotations

from collections import Counter

import pytest

CHECKS: Counter[str] = Counter()
FAILED_CHECKS: Counter[str] = Counter()
ANSWERS: Counter[tuple[str, str, int]] = Counter()  # (test, "METHOD /path", status)
NOTES: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not ANSWERS:
        return  # not run here (skipped, deselected, or on another xdist worker)
    write = terminalreporter.write_line
    for test in sorted({test for test, _, _ in ANSWERS}):
        answers = {key: count for key, count in ANSWERS.items() if key[0] == test}
        operations = {operation for _, operation, _ in answers}
        write(
            f"schemathesis {test}: {len(operations)} operations, {sum(answers.values())} requests"
        )
        # Operations on an existing resource that got past "no such id": what links buy.
        reached = sorted({o for (_, o, status) in answers if "{" in o and status < 300})
        write(f"  on an existing resource (2xx): {', '.join(reached) or 'none'}")
    for note in NOTES:
        write(f"schemathesis {note}")
    write(
        f"schemathesis checks: {sum(CHECKS.values())} run, {sum(FAILED_CHECKS.values())} failed "
        f"({', '.join(f'{name} {count}' for name, count in sorted(CHECKS.items()))})"
    )
