"""What a module's source imports, for the layering tests."""

from __future__ import annotations

import ast


def imported(source: str) -> set[str]:
    """Every name an import statement anywhere in `source` names: `import a.b` gives
    `a.b`; `from a import b` gives `a` and `a.b`."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names
