"""The support and intake domain packages reach DynamoDB only through
`clientarea.storage` (issue 15): no module of theirs imports PynamoDB or
`clientarea.tables`, and their `__init__.py` stay empty, so each handler loads only the
submodules it names (cold start)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.imports import imported

LAYER = Path(__file__).resolve().parents[2] / "layers/clientarea/clientarea"
PACKAGES = ("support", "intake")
MODULES = sorted(p for package in PACKAGES for p in (LAYER / package).glob("*.py"))


def test_the_packages_hold_modules() -> None:
    assert {p.parent.name for p in MODULES} == set(PACKAGES)


@pytest.mark.parametrize("module", MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_domain_module_leaves_dynamodb_to_the_storage_layer(module: Path) -> None:
    storage_imports = {
        name
        for name in imported(module.read_text())
        if name.split(".")[0] == "pynamodb" or name.startswith("clientarea.tables")
    }
    assert storage_imports == set()


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_init_imports_nothing(package: str) -> None:
    assert (LAYER / package / "__init__.py").read_text().strip() == ""


def test_the_check_sees_an_import_of_tables() -> None:
    assert "clientarea.tables" in imported("from clientarea import tables\n")
    assert "pynamodb.models" in imported("from pynamodb.models import Model\n")


def test_the_support_models_share_the_tables_client() -> None:
    from clientarea.storage import accounts, base, inbound, tickets

    models = [
        tickets.TicketModel,
        tickets.TicketMessageModel,
        tickets.TicketCounterModel,
        inbound.InboundMailModel,
        accounts.AccountModel,
    ]
    assert {id(model._get_connection().connection.client) for model in models} == {
        id(base.connection().client)
    }
