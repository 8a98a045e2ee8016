"""Powertools' event_handler and data_classes package inits, made lazy at build time
(layers/dependencies/powertools_lazy_init.py, issue 16): every name of the original
`__all__` still resolves to the very same object, importing a package loads none of
the modules it names, and the rewrite refuses any Powertools but the one it was
written for.

The venv's Powertools carries the same rewrite (`make install`), so that every other
test and `make dev` run what Lambda runs; `make build` checks the layer's copy
(bench/check_build.py)."""

from __future__ import annotations

import difflib
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "layers" / "dependencies" / "powertools_lazy_init.py"
PROPOSAL = ROOT / "docs" / "upstream" / "powertools-lazy-init.md"
LOCKS = [ROOT / "requirements" / "dev.txt", ROOT / "layers" / "dependencies" / "requirements.txt"]
PACKAGES = {
    "aws_lambda_powertools.event_handler": "aws_lambda_powertools/event_handler/__init__.py",
    "aws_lambda_powertools.utilities.data_classes": (
        "aws_lambda_powertools/utilities/data_classes/__init__.py"
    ),
}


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("powertools_lazy_init", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lazy = _script()


def _site() -> Path:
    import aws_lambda_powertools

    return Path(aws_lambda_powertools.__file__).parents[1]


def _original(relative: str) -> str:
    return (_site() / relative).with_name(lazy.KEPT).read_text()


def test_the_locks_pin_the_powertools_the_rewrite_was_written_for() -> None:
    for lock in LOCKS:
        pins = re.findall(r"^aws-lambda-powertools==(\S+)$", lock.read_text(), re.MULTILINE)
        assert pins == [lazy.POWERTOOLS_VERSION], lock


def test_the_tests_run_the_rewritten_inits() -> None:
    for relative in PACKAGES.values():
        assert lazy.MARKER in (_site() / relative).read_text(), (
            f"{relative} is Powertools' own: run `make install`"
        )
        assert lazy.sha256(_original(relative)) == lazy.ORIGINALS[relative]


CHECK = """
import importlib, json, sys
package = importlib.import_module({package!r})
loaded_by_init = sorted(m for m in sys.modules if m.startswith({package!r} + "."))
asyncio = "asyncio" in sys.modules
original = importlib.import_module({package!r} + "._original_init")
missing = [n for n in original.__all__ if getattr(package, n) is not getattr(original, n)]
star = {{}}
exec("from " + {package!r} + " import *", star)
print(json.dumps({{
    "loaded_by_init": loaded_by_init, "asyncio": asyncio, "missing": missing,
    "same_all": package.__all__ == original.__all__,
    "star": sorted(set(original.__all__) - set(star)),
    "dir": sorted(set(original.__all__) - set(dir(package))),
}}))
"""


@pytest.mark.parametrize("package", list(PACKAGES))
def test_every_name_of_the_original_all_resolves_to_the_same_object(package: str) -> None:
    """In a fresh interpreter: importing the package loads none of its modules (but
    data_classes' `event_source`, kept eager); then each name of the original `__all__`
    is the original's very object, for attribute access, `import *` and `dir()`."""
    done = subprocess.run(
        [sys.executable, "-c", CHECK.format(package=package)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout)
    eager = {"aws_lambda_powertools.utilities.data_classes.event_source"}
    assert set(result["loaded_by_init"]) <= eager
    assert not result["asyncio"]
    assert result["missing"] == []
    assert result["same_all"]
    assert result["star"] == []
    assert result["dir"] == []


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    import aws_lambda_powertools.event_handler as event_handler

    with pytest.raises(AttributeError, match="no attribute 'NoSuchResolver'"):
        _ = event_handler.NoSuchResolver
    with pytest.raises(ImportError):
        exec("from aws_lambda_powertools.event_handler import NoSuchResolver", {})


def test_event_source_stays_the_decorator_after_its_module_is_imported() -> None:
    """`event_source` names both a module and the decorator it defines: a lazy name
    would be rebound to the module by the module's import."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import aws_lambda_powertools.utilities.data_classes.event_source\n"
            "from aws_lambda_powertools.utilities import data_classes\n"
            "print(callable(data_classes.event_source), type(data_classes.event_source).__name__)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["True", "function"]


@pytest.fixture
def pristine_site(tmp_path: Path) -> Path:
    """A copy of the two packages' inits and Powertools' version file, as pip installs them."""
    site = tmp_path / "site"
    for relative in PACKAGES.values():
        target = site / relative
        target.parent.mkdir(parents=True)
        target.write_text(_original(relative))
    version = site / "aws_lambda_powertools" / "shared" / "version.py"
    version.parent.mkdir(parents=True)
    shutil.copy(_site() / "aws_lambda_powertools" / "shared" / "version.py", version)
    return site


def test_the_rewrite_is_the_same_when_run_again(pristine_site: Path) -> None:
    lazy.patch(pristine_site)
    first = {r: (pristine_site / r).read_text() for r in PACKAGES.values()}
    lazy.patch(pristine_site)
    assert {r: (pristine_site / r).read_text() for r in PACKAGES.values()} == first
    for relative, text in first.items():
        assert text == (_site() / relative).read_text()  # what the venv and the layer get


def test_another_powertools_version_fails_the_build(pristine_site: Path) -> None:
    version = pristine_site / "aws_lambda_powertools" / "shared" / "version.py"
    version.write_text('VERSION = "3.99.0"\n')
    with pytest.raises(lazy.PatchError, match=r"3\.99\.0 is installed .* written for 3\.37\.0"):
        lazy.patch(pristine_site)
    assert lazy.main([str(pristine_site)]) == 1
    for relative in PACKAGES.values():
        assert lazy.MARKER not in (pristine_site / relative).read_text()


def test_a_changed_init_fails_the_build_even_under_the_same_version(pristine_site: Path) -> None:
    init = pristine_site / next(iter(PACKAGES.values()))
    init.write_text(init.read_text() + "\nfrom .graphql_appsync import router\n")
    with pytest.raises(lazy.PatchError, match=r"not the 3\.37\.0 original"):
        lazy.patch(pristine_site)


def test_the_upstream_proposal_shows_the_patch_as_it_is_applied() -> None:
    """docs/upstream/powertools-lazy-init.md carries the diff of each init, as generated."""
    proposal = PROPOSAL.read_text()
    for package, relative in PACKAGES.items():
        original = _original(relative)
        rewritten = lazy.lazy_init(original, package)
        diff = "".join(
            difflib.unified_diff(
                original.splitlines(keepends=True),
                rewritten.splitlines(keepends=True),
                f"a/{relative}",
                f"b/{relative}",
            )
        )
        assert diff in proposal, f"regenerate the diff of {relative} in {PROPOSAL.name}"


def test_a_hard_linked_install_keeps_its_cache_copy_original(
    pristine_site: Path, tmp_path: Path
) -> None:
    # GIVEN inits installed as uv installs them: hard links to its cache's copies
    cache = tmp_path / "uv-cache"
    cached = {}
    for relative in PACKAGES.values():
        installed = pristine_site / relative
        cached[relative] = cache / relative
        cached[relative].parent.mkdir(parents=True, exist_ok=True)
        installed.replace(cached[relative])
        installed.hardlink_to(cached[relative])
    # WHEN the rewrite runs on the install
    lazy.patch(pristine_site)
    # THEN the install is rewritten, and the cache (every other environment) is not
    for relative, copy in cached.items():
        assert lazy.MARKER in (pristine_site / relative).read_text()
        assert copy.read_text() == _original(relative)
