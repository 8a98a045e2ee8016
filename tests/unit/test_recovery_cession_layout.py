"""The layout issue 15 asks of the recovery and cession code: packages of one concept
per module (none over 300 lines, empty package inits, so that a handler imports only
the modules it calls), no import cycle, and domain modules that leave every table to
`clientarea.storage`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LAYER = Path(__file__).resolve().parents[2] / "layers" / "clientarea"
PACKAGE = LAYER / "clientarea"
OWNED = [
    *sorted((PACKAGE / "recovery").glob("*.py")),
    *sorted((PACKAGE / "cession").glob("*.py")),
    PACKAGE / "services.py",
    PACKAGE / "storage" / "recovery.py",
    PACKAGE / "storage" / "services.py",
    PACKAGE / "storage" / "orders.py",
]
DOMAIN = [p for p in OWNED if p.parent.name != "storage"]
# The recipient check's login-claim read is the accounts storage's to offer (issue 15
# gives claim lookups to clientarea.storage.accounts); until then it stays as it was.


def _name(path: Path) -> str:
    return ".".join(path.relative_to(LAYER).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path, *, top_level_only: bool) -> set[str]:
    """The modules `path` imports (`from a import b` counts `a.b` when that is a module)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            for alias in node.names:
                candidate = LAYER.joinpath(*f"{node.module}.{alias.name}".split("."))
                if candidate.with_suffix(".py").is_file() or candidate.is_dir():
                    found.add(f"{node.module}.{alias.name}")
    return found


@pytest.mark.parametrize("path", OWNED, ids=_name)
def test_a_module_holds_at_most_300_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= 300


@pytest.mark.parametrize("package", ["recovery", "cession", "storage"])
def test_package_inits_are_empty(package: str) -> None:
    assert (PACKAGE / package / "__init__.py").read_text() == ""


@pytest.mark.parametrize("path", DOMAIN, ids=_name)
def test_domain_modules_leave_tables_to_the_storage_layer(path: Path) -> None:
    imported = _imports(path, top_level_only=False)
    touching = {m for m in imported if m == "clientarea.tables" or m.startswith("pynamodb")}
    assert touching == set()


def test_no_two_modules_of_the_layer_import_each_other() -> None:
    # Every module of the layer with everything it imports, deferred and type-checking
    # imports included (recovery.py and application_forms.py once imported each other
    # that way: this test failed on them).
    graph = {
        _name(path): {m for m in _imports(path, top_level_only=False) if m.startswith("clientarea")}
        for path in PACKAGE.rglob("*.py")
    }
    done: set[str] = set()

    def visit(module: str, stack: list[str]) -> None:
        if module in stack:
            raise AssertionError(" -> ".join([*stack[stack.index(module) :], module]))
        if module in done or module not in graph:
            return
        for target in sorted(graph[module]):
            visit(target, [*stack, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
