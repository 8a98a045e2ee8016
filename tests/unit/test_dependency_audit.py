"""The lock audit fails on a known vulnerability or a half-done audit, and says so
plainly, without failing, when no advisory service answers (pip-audit's own output
stubbed: the network here reaches no advisory service)."""

from infra import dependency_audit
from infra.dependency_audit import UNREACHABLE, Audit

NOT_FOUND = {"name": "pydantic", "skip_reason": "Dependency not found on PyPI: pydantic (2.12.0)"}
CLEAN = {"name": "jinja2", "version": "3.1.6", "vulns": []}
VULNERABLE = {
    "name": "jinja2",
    "version": "3.1.4",
    "vulns": [{"id": "GHSA-q2x7-8rv6-6q7h", "fix_versions": ["3.1.5"]}],
}


def _services_answer(monkeypatch, **answers):
    monkeypatch.setattr(dependency_audit, "audit", lambda service: answers[service])


def test_a_known_vulnerability_fails_and_is_named(monkeypatch, capsys):
    # GIVEN PyPI's advisory service reports a vulnerability in one pinned package
    _services_answer(monkeypatch, pypi=Audit("pypi", [CLEAN, VULNERABLE]))
    # WHEN the locks are audited
    status = dependency_audit.main()
    # THEN the step fails, naming the package, the advisory and the fixed version
    assert status == 1
    assert "jinja2==3.1.4: GHSA-q2x7-8rv6-6q7h (fixed in 3.1.5)" in capsys.readouterr().err


def test_no_reachable_service_passes_but_says_nothing_was_audited(monkeypatch, capsys):
    # GIVEN PyPI knows none of the versions and OSV cannot be resolved
    _services_answer(
        monkeypatch,
        pypi=Audit("pypi", [NOT_FOUND]),
        osv=Audit("osv", None, "ConnectionError: Failed to resolve 'api.osv.dev'"),
    )
    # WHEN the locks are audited
    status = dependency_audit.main()
    # THEN the step passes, saying plainly that nothing was audited and why
    err = capsys.readouterr().err
    assert status == 0
    assert UNREACHABLE in err
    assert "Failed to resolve 'api.osv.dev'" in err


def test_a_partly_audited_lock_fails(monkeypatch, capsys):
    # GIVEN the service answers for some packages and not for others
    _services_answer(monkeypatch, pypi=Audit("pypi", [CLEAN, NOT_FOUND]))
    # WHEN the locks are audited
    status = dependency_audit.main()
    # THEN the step fails, naming what was not audited
    assert status == 1
    assert "not audited: Dependency not found on PyPI: pydantic" in capsys.readouterr().err


def test_a_clean_audit_passes(monkeypatch, capsys):
    # GIVEN every package audited, none vulnerable
    _services_answer(monkeypatch, pypi=Audit("pypi", [CLEAN]))
    # WHEN the locks are audited
    status = dependency_audit.main()
    # THEN the step passes and says how many packages it audited
    assert status == 0
    assert "1 packages in 2 locks, no known vulnerabilities" in capsys.readouterr().out
