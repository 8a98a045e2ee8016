"""A function's initialisation with the garbage collector paused (issue 16).

Importing a handler creates a few hundred thousand objects (botocore's, pydantic's,
Powertools', our models and routes) that all live as long as the execution environment.
With the collector on, CPython traverses them again and again while they are being
created: about a tenth of the import's CPU time (docs/cold-start.md). So each handler
module imports this module first, which pauses the collector, and calls `done()` as its
last statement, which moves everything the initialisation made into the permanent
generation (`gc.freeze()`: never traversed again, so the cost is not merely moved to the
first request's collections) and turns the collector back on for the requests.

Only in a Lambda execution environment: tests and the dev server import handlers
in-process, where an import that failed half-way would leave the collector off.
"""

from __future__ import annotations

import gc
import os


def in_lambda() -> bool:
    return os.environ.get("AWS_EXECUTION_ENV", "").startswith("AWS_Lambda_")


def begin() -> None:
    if in_lambda():
        gc.disable()


def done() -> None:
    """End of a handler module's initialisation."""
    if in_lambda() and not gc.isenabled():
        gc.freeze()
        gc.enable()


begin()
