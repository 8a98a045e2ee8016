"""The lock audit: every pin is checked offline against the committed PyPA advisory
snapshot (OSV range semantics), a pin the snapshot did not look up fails, and pip-audit
adds its findings when an advisory service answers (its output stubbed: the network here
reaches no advisory service)."""

import pytest

from infra import dependency_audit
from infra.dependency_audit import REFRESH, UNREACHABLE, Audit, Pin

NOT_FOUND = {"name": "pydantic", "skip_reason": "Dependency not found on PyPI: pydantic (2.12.0)"}
CLEAN = {"name": "jinja2", "version": "3.1.6", "vulns": []}
VULNERABLE = {
    "name": "jinja2",
    "version": "3.1.4",
    "vulns": [{"id": "GHSA-q2x7-8rv6-6q7h", "fix_versions": ["3.1.5"]}],
}
UNREACHABLE_SERVICES = {
    "pypi": Audit("pypi", [NOT_FOUND]),
    "osv": Audit("osv", None, "ConnectionError: Failed to resolve 'api.osv.dev'"),
}


def _advisory(id_, package, *ranges, versions=(), **extra):
    return {
        "id": id_,
        "package": package,
        "aliases": [],
        "ranges": [{"type": "ECOSYSTEM", "events": list(events)} for events in ranges],
        "versions": list(versions),
        "modified": "2024-02-06T20:20:18Z",
        **extra,
    }


JINJA = _advisory("PYSEC-2024-1", "jinja2", [{"introduced": "0"}, {"fixed": "3.1.5"}])
AIOHTTP = _advisory("PYSEC-2023-120", "aiohttp", [{"introduced": "0"}, {"last_affected": "3.8.4"}])
DOCX = _advisory("PYSEC-2016-21", "python-docx", versions=["0.8.5"])
# Two introduced/fixed pairs in one range, out of order, as PYSEC-2023-212 has them.
URLLIB3 = _advisory(
    "PYSEC-2023-212",
    "urllib3",
    [{"introduced": "2.0.0"}, {"fixed": "2.0.7"}, {"introduced": "0"}, {"fixed": "1.26.18"}],
)
WITHDRAWN = _advisory(
    "PYSEC-2022-43059", "aiohttp", [{"introduced": "0"}], withdrawn="2023-11-08T00:54:24Z"
)


def _snapshot(*advisories, looked_up=("jinja2", "aiohttp", "python-docx", "urllib3"), **extra):
    return {
        "source": {"newest_modified": "2024-09-09T07:59:30Z"},
        "looked_up": list(looked_up),
        "advisories": list(advisories),
        **extra,
    }


@pytest.fixture
def locks(monkeypatch):
    """Stubs the snapshot and the locks' pins; returns a setter for both."""

    def given(snapshot, *pins):
        monkeypatch.setattr(dependency_audit, "load_snapshot", lambda: snapshot)
        parsed = [Pin(*pin.split("=="), "requirements/dev.txt") for pin in pins]
        monkeypatch.setattr(dependency_audit, "read_pins", lambda: parsed)

    given(_snapshot(JINJA), "jinja2==3.1.6")
    return given


def _services_answer(monkeypatch, **answers):
    monkeypatch.setattr(dependency_audit, "audit", lambda service: answers[service])


@pytest.mark.parametrize(
    ("advisory", "pin", "finding"),
    [
        (JINJA, "jinja2==3.1.4", "jinja2==3.1.4: PYSEC-2024-1 (fixed in 3.1.5)"),
        (AIOHTTP, "aiohttp==3.8.4", "aiohttp==3.8.4: PYSEC-2023-120 (no fixed version"),
        (DOCX, "python-docx==0.8.5", "python-docx==0.8.5: PYSEC-2016-21 (no fixed version"),
        (URLLIB3, "urllib3==1.26.17", "urllib3==1.26.17: PYSEC-2023-212 (fixed in 1.26.18)"),
        (URLLIB3, "urllib3==2.0.6", "urllib3==2.0.6: PYSEC-2023-212 (fixed in 2.0.7)"),
    ],
    ids=["below-fixed", "at-last-affected", "listed-version", "first-pair", "second-pair"],
)
def test_a_pin_the_snapshot_marks_affected_fails_offline(
    locks, monkeypatch, capsys, advisory, pin, finding
):
    # GIVEN a pinned version inside an advisory's range (or listed by it), and no
    # advisory service reachable
    locks(_snapshot(advisory), pin)
    _services_answer(monkeypatch, **UNREACHABLE_SERVICES)
    # WHEN the locks are audited
    status = dependency_audit.main()
    # THEN the step fails, naming the package, version, advisory and fixed version
    assert status == 1
    assert f"advisory snapshot: affected: {finding}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("advisory", "pin"),
    [
        (JINJA, "jinja2==3.1.5"),
        (AIOHTTP, "aiohttp==3.8.5"),
        (DOCX, "python-docx==0.8.6"),
        (URLLIB3, "urllib3==1.26.18"),
        (URLLIB3, "urllib3==2.8.0"),
        (WITHDRAWN, "aiohttp==3.14.5"),
    ],
    ids=["fixed", "after-last-affected", "not-listed", "first-fix", "above-both", "withdrawn"],
)
def test_a_pin_outside_every_range_passes_and_the_message_says_what_was_checked(
    locks, monkeypatch, capsys, advisory, pin
):
    # GIVEN a pinned version the advisory does not affect, and no advisory service
    locks(_snapshot(advisory), pin)
    _services_answer(monkeypatch, **UNREACHABLE_SERVICES)
    # WHEN the locks are audited
    status = dependency_audit.main()
    # THEN the step passes, saying that the snapshot audit ran and how much it covered
    out, err = capsys.readouterr()
    assert status == 0
    assert "affected" not in err
    advisories = 0 if "withdrawn" in advisory else 1
    assert f"1 pins (1 packages) in 3 locks checked against {advisories} advisories" in out
    assert "of 2024-09-09" in out


def test_a_pin_not_looked_up_for_the_snapshot_fails_with_the_refresh_message(
    locks, monkeypatch, capsys
):
    # GIVEN a lock pins a package added after the snapshot was made
    locks(_snapshot(JINJA), "jinja2==3.1.6", "leftpad==1.0")
    _services_answer(monkeypatch, **UNREACHABLE_SERVICES)
    # WHEN the locks are audited
    status = dependency_audit.main()
    # THEN the step fails and says to refresh the snapshot
    assert status == 1
    err = capsys.readouterr().err
    assert "leftpad==1.0 (requirements/dev.txt) was not looked up" in err
    assert f"when the snapshot was made: {REFRESH}" in err
    assert "refresh the advisory snapshot" in REFRESH


def test_an_accepted_advisory_is_reported_but_does_not_fail(locks, monkeypatch, capsys):
    # GIVEN a reviewed exception for exactly the pinned version
    accepted = [{"id": "PYSEC-2024-1", "package": "jinja2", "versions": ["3.1.4"], "reason": "why"}]
    locks(_snapshot(JINJA, accepted=accepted), "jinja2==3.1.4")
    _services_answer(monkeypatch, **UNREACHABLE_SERVICES)
    # WHEN the locks are audited
    status = dependency_audit.main()
    # THEN it passes, printing the exception and its reason
    assert status == 0
    assert "accepted: jinja2==3.1.4: PYSEC-2024-1 (fixed in 3.1.5): why" in capsys.readouterr().err


def test_the_snapshot_still_fails_an_affected_pin_when_pip_audit_finds_nothing(
    locks, monkeypatch, capsys
):
    # GIVEN PyPI's service answers with no vulnerability, but the snapshot knows one
    locks(_snapshot(JINJA), "jinja2==3.1.4")
    _services_answer(monkeypatch, pypi=Audit("pypi", [CLEAN]))
    # WHEN the locks are audited
    status = dependency_audit.main()
    # THEN the step fails on the snapshot's finding
    assert status == 1
    assert "affected: jinja2==3.1.4: PYSEC-2024-1" in capsys.readouterr().err


def test_a_known_vulnerability_fails_and_is_named(locks, monkeypatch, capsys):
    # GIVEN PyPI's advisory service reports a vulnerability in one pinned package
    _services_answer(monkeypatch, pypi=Audit("pypi", [CLEAN, VULNERABLE]))
    # WHEN the locks are audited
    status = dependency_audit.main()
    # THEN the step fails, naming the package, the advisory and the fixed version
    assert status == 1
    assert "jinja2==3.1.4: GHSA-q2x7-8rv6-6q7h (fixed in 3.1.5)" in capsys.readouterr().err


def test_no_reachable_service_passes_on_the_snapshot_and_says_why(locks, monkeypatch, capsys):
    # GIVEN PyPI knows none of the versions and OSV cannot be resolved
    _services_answer(monkeypatch, **UNREACHABLE_SERVICES)
    # WHEN the locks are audited
    status = dependency_audit.main()
    # THEN the step passes on the snapshot audit, saying why pip-audit did not run
    out, err = capsys.readouterr()
    assert status == 0
    assert UNREACHABLE in err
    assert "Failed to resolve 'api.osv.dev'" in err
    assert "checked against 1 advisories of 2024-09-09" in out


def test_a_partly_audited_lock_fails(locks, monkeypatch, capsys):
    # GIVEN the service answers for some packages and not for others
    _services_answer(monkeypatch, pypi=Audit("pypi", [CLEAN, NOT_FOUND]))
    # WHEN the locks are audited
    status = dependency_audit.main()
    # THEN the step fails, naming what was not audited
    assert status == 1
    assert "not audited: Dependency not found on PyPI: pydantic" in capsys.readouterr().err


def test_a_clean_audit_passes(locks, monkeypatch, capsys):
    # GIVEN every package audited, none vulnerable
    _services_answer(monkeypatch, pypi=Audit("pypi", [CLEAN]))
    # WHEN the locks are audited
    status = dependency_audit.main()
    # THEN the step passes and says how many packages it audited
    assert status == 0
    assert "1 packages in 2 locks, no known vulnerabilities" in capsys.readouterr().out
