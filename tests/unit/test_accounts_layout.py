"""The accounts side of the storage layer (issue 15): the domain modules read and write
their tables only through `clientarea.storage`, the packages' inits stay empty (a
function imports only the submodules it uses: cold start), no module is over 300 lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.imports import imported

LAYER = Path(__file__).resolve().parents[2] / "layers" / "clientarea" / "clientarea"
DOMAIN = [
    *sorted((LAYER / "accounts").glob("*.py")),
    *sorted((LAYER / "contact_email").glob("*.py")),
    *(
        LAYER / f"{name}.py"
        for name in ("sessions", "tokens", "throttling", "password_reset", "staff", "bounces")
    ),
]
OWNED = [*DOMAIN, *sorted((LAYER / "storage").glob("*.py"))]


@pytest.mark.parametrize("path", DOMAIN, ids=lambda p: str(p.relative_to(LAYER)))
def test_a_domain_module_imports_neither_pynamodb_nor_tables(path: Path) -> None:
    offending = {
        name
        for name in imported(path.read_text())
        if name.split(".")[0] == "pynamodb" or name.startswith("clientarea.tables")
    }
    assert not offending, offending


@pytest.mark.parametrize("package", ["accounts", "contact_email", "storage"])
def test_package_inits_stay_empty(package: str) -> None:
    assert (LAYER / package / "__init__.py").read_text().strip() == ""


@pytest.mark.parametrize("path", OWNED, ids=lambda p: str(p.relative_to(LAYER)))
def test_no_module_is_over_300_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= 300
