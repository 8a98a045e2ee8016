"""Compile the gettext catalogs (`.po` → `.mo`) in the source tree, for the tests and
the dev server: `python -m infra.catalogs` (run by `make install`) and the tests'
conftest, which compile only what is missing or older than its `.po`. The deployed
layer compiles its own with pybabel (layers/clientarea/Makefile); git ignores `.mo`.

A catalog with an error (a placeholder that differs from the English, a broken plural)
is refused rather than compiled, as `pybabel compile` does for the layer.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = (
    Path(__file__).resolve().parents[1] / "layers" / "clientarea" / "clientarea" / "translations"
)


def sources(directory: Path = TRANSLATIONS) -> list[Path]:
    return sorted(directory.glob("*/LC_MESSAGES/messages.po"))


def stale(po: Path) -> bool:
    mo = po.with_suffix(".mo")
    return not mo.is_file() or mo.stat().st_mtime_ns < po.stat().st_mtime_ns


def compile_catalog(po: Path) -> Path:
    """Write `po`'s `.mo` next to it (atomically: parallel test workers may read it)."""
    with po.open("rb") as source:
        catalog = read_po(source)
    problems = [f"{msg.id!r}: {error}" for msg, errors in catalog.check() for error in errors]
    if problems:
        raise ValueError(f"{po}: " + "; ".join(problems))
    mo = po.with_suffix(".mo")
    with tempfile.NamedTemporaryFile(dir=mo.parent, suffix=".tmp", delete=False) as target:
        write_mo(target, catalog, use_fuzzy=False)
    os.replace(target.name, mo)
    return mo


def compile_catalogs(directory: Path = TRANSLATIONS, *, force: bool = False) -> list[Path]:
    return [compile_catalog(po) for po in sources(directory) if force or stale(po)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="recompile every catalog")
    args = parser.parse_args()
    try:
        done = compile_catalogs(force=args.force)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for mo in done:
        print(f"compiled {mo.relative_to(TRANSLATIONS.parents[3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
