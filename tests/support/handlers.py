"""A function's handler imported in a fresh interpreter, with the environment Lambda
would give it and the source tree on the path (its code folder and the layer)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import lambda_env  # noqa: E402

LOADED_MODULES = "import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"


def run_in_function(function: lambda_env.Function, code: str, **environment: str) -> Any:
    """Run `code` in `function`'s folder (with `environment` added); the JSON value of the
    last line it prints. The run must succeed."""
    env = lambda_env.lambda_environment(function)
    env["PYTHONPATH"] = os.pathsep.join([str(function.code_uri), str(ROOT / "layers/clientarea")])
    env.update(environment)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=function.code_uri,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def loaded_modules(function: lambda_env.Function) -> set[str]:
    """The modules loaded once `function`'s handler module is imported."""
    return set(run_in_function(function, LOADED_MODULES.format(module=function.module)))
