"""Checks `sam build`'s output (run by `make build`; exits non-zero on any problem).

1. Every `.py` of every function and layer artifact has its
   `__pycache__/<name>.cpython-313.pyc`, compiled with `--invalidation-mode
   unchecked-hash`: Lambda's /var/task and /opt are read-only, so a missing or stale
   `.pyc` means compiling from source on every cold start, and an unchecked hash pyc
   is used without a stat of its source.
2. Each function's handler imports from the artifact plus its layers with a plain
   python3.13 (PYTHONDONTWRITEBYTECODE=1) and every module of ours comes from its
   `.pyc`, never compiled from source; the handler attribute exists.
3. Powertools' event_handler and data_classes package inits in the dependencies layer
   are the lazy ones (layers/dependencies/powertools_lazy_init.py, issue 16).
4. The shared layer carries one compiled gettext catalog (`.mo`) per catalog of the
   source tree, each a valid catalog with every message of its `.po`, and no `.po` or
   `.pot` (the layer's Makefile compiles them; only the `.mo` is read at run time).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from lambda_env import (
    BUILD,
    RUNTIME,
    ensure_runtime,
    functions,
    layer_ids,
    load_template,
    run_python,
)

PYC_TAG = "cpython-313"  # the Lambda runtime of template.yaml
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, check_source off
CODE_FROM = re.compile(r"^# code object from '?(?P<path>[^']+)'?$", re.MULTILINE)


def pyc_problems(artifact: Path) -> list[str]:
    problems = []
    if not artifact.is_dir():
        return [f"{artifact}: missing"]
    sources = [p for p in artifact.rglob("*.py") if "__pycache__" not in p.parts]
    if not sources:
        problems.append(f"{artifact}: no Python sources")
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.{PYC_TAG}.pyc"
        if not pyc.is_file():
            problems.append(f"{pyc.relative_to(BUILD)}: missing")
            continue
        flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
        if flags != UNCHECKED_HASH:
            problems.append(f"{pyc.relative_to(BUILD)}: not an unchecked-hash pyc (flags {flags})")
    return problems


CATALOGS = Path(__file__).resolve().parents[1] / "layers/clientarea/clientarea/translations"
LAYER_CATALOGS = BUILD / "ClientareaLayer" / "python" / "clientarea" / "translations"


def _mo_problems(source: Path, compiled: Path) -> list[str]:
    """Every translated message of the .po reads back from the .mo as written."""
    import gettext

    from babel.messages.pofile import read_po

    with source.open("rb") as po, compiled.open("rb") as mo:
        catalog, loaded = read_po(po), gettext.GNUTranslations(mo)
    wrong = 0
    for message in catalog:
        if not message.id or not message.string:
            continue
        ctx = message.context
        if isinstance(message.id, tuple):  # a plural: the form the catalog gives for 1
            got = loaded.npgettext(ctx, *message.id, 1) if ctx else loaded.ngettext(*message.id, 1)
            wrong += got != message.string[loaded.plural(1)]  # type: ignore[attr-defined]
        else:
            got = loaded.pgettext(ctx, message.id) if ctx else loaded.gettext(message.id)
            wrong += got != message.string
    where = compiled.relative_to(BUILD)
    return [f"{where}: {wrong} messages differ from {source.name}"] if wrong else []


def catalog_problems() -> tuple[list[str], int]:
    stray = [*LAYER_CATALOGS.rglob("*.po"), *LAYER_CATALOGS.rglob("*.pot")]
    problems = [f"{p.relative_to(BUILD)}: a catalog source in the layer" for p in stray]
    sources = sorted(CATALOGS.glob("*/LC_MESSAGES/messages.po"))
    for source in sources:
        compiled = LAYER_CATALOGS / source.relative_to(CATALOGS).with_suffix(".mo")
        if not compiled.is_file():
            problems.append(f"{compiled.relative_to(BUILD)}: missing")
        else:
            problems += _mo_problems(source, compiled)
    return problems, len(sources)


def import_problems(function) -> tuple[list[str], int]:
    code = (
        f"import {function.module} as m; "
        f"assert callable(getattr(m, {function.attribute!r}, None)), 'no handler'"
    )
    done = run_python(code, function, "-v")
    if done.returncode != 0:
        tail = "\n    ".join(done.stderr.strip().splitlines()[-8:])
        return [f"{function.logical_id}: import of {function.module} failed:\n    {tail}"], 0
    loaded = [m["path"] for m in CODE_FROM.finditer(done.stderr)]
    ours = [p for p in loaded if p.startswith((str(BUILD), str(RUNTIME)))]
    from_source = [p for p in ours if not p.endswith(".pyc")]
    problems = [f"{function.logical_id}: compiled from source: {p}" for p in from_source]
    return problems, len(ours)


LAZY_INITS = (
    "aws_lambda_powertools/event_handler/__init__.py",
    "aws_lambda_powertools/utilities/data_classes/__init__.py",
)
LAZY_MARKER = "# clientarea: lazy package init"


def lazy_init_problems() -> list[str]:
    layer = BUILD / "DependenciesLayer" / "python"
    return [
        f"{layer.name}/{init}: Powertools' eager init (the lazy rewrite did not run)"
        for init in LAZY_INITS
        if LAZY_MARKER not in (layer / init).read_text()
    ]


def main() -> int:
    ensure_runtime()
    template = load_template()
    fns = functions(template)
    problems: list[str] = []
    for artifact in [*(f.artifact for f in fns), *(BUILD / layer for layer in layer_ids(template))]:
        found = pyc_problems(artifact)
        problems += found
        count = sum(1 for p in artifact.rglob(f"*.{PYC_TAG}.pyc"))
        print(f"  {artifact.name:<30} {count:>5} pyc  {'ok' if not found else 'PROBLEMS'}")
    found = lazy_init_problems()
    problems += found
    print(f"  Powertools lazy package inits    {'ok' if not found else 'MISSING'}")
    found, catalogs = catalog_problems()
    problems += found
    print(f"  ClientareaLayer catalogs: {catalogs} compiled, {'ok' if not found else 'PROBLEMS'}")
    for function in fns:
        found, modules = import_problems(function)
        problems += found
        state = "ok" if not found else "FAILED"
        print(
            f"  import {function.logical_id}.{function.module}: {modules} modules loaded, {state}"
        )
    if problems:
        print(f"\n{len(problems)} problem(s) in {BUILD}:", file=sys.stderr)
        for problem in problems[:40]:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print("build artifacts: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
