"""The built artifacts (`sam build` output) and how Lambda would import them.

Lambda puts the function's code on sys.path first (/var/task), then the layers
(/opt/python), then its runtime (/var/runtime, which brings boto3 and botocore), and
cannot write `.pyc` files there. This module gives the same picture on this machine: a
plain CPython 3.13 (not the venv), PYTHONPATH = artifact, layers, the `make`-installed
copy of the runtime's boto3 (`.aws-sam/lambda-runtime`), PYTHONDONTWRITEBYTECODE=1, and
the function's environment variables from template.yaml with dummy values.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
BUILD = ROOT / ".aws-sam" / "build"
RUNTIME = ROOT / ".aws-sam" / "lambda-runtime"
REGION = "eu-central-1"
ACCOUNT = "123456789012"
SOURCES = (TEMPLATE, ROOT / "functions", ROOT / "layers")
# CPython's fix of gh-142183 (a frame-stack chunk mapped and unmapped on every call
# that crosses its end): in 3.13.13 and later, which Lambda's runtime is taken to be
# (docs/cold-start.md says why, and docs/operations.md how to check). An older 3.13
# runs every process with bench/frame_stack_cache.c preloaded, which does what the fix
# does; False (`make bench ARGS=--interpreter-as-is`) measures the interpreter as it is.
FRAME_STACK_FIX = (3, 13, 13)
FRAME_STACK_CACHE = Path(__file__).with_name("frame_stack_cache.c")
FRAME_STACK_CACHE_LIBRARY = ROOT / ".aws-sam" / "bench" / "frame_stack_cache.so"
stand_in_for_missing_fixes = True


@dataclass(frozen=True)
class Function:
    logical_id: str
    module: str
    attribute: str
    environment: dict[str, str]
    layers: tuple[str, ...]
    code_uri: Path

    @property
    def source(self) -> Path:
        """The handler's source file in the repository."""
        return self.code_uri / f"{self.module.replace('.', '/')}.py"

    @property
    def artifact(self) -> Path:
        return BUILD / self.logical_id

    def layer_dirs(self) -> list[Path]:
        return [BUILD / layer / "python" for layer in self.layers]


def load_template() -> dict[str, Any]:
    return yaml_parse(TEMPLATE.read_text())


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def layer_ids(template: dict[str, Any]) -> list[str]:
    return list(of_type(template, "AWS::Serverless::LayerVersion"))


def _dev_parameters() -> dict[str, str]:
    """The dev server's values for the parameters that have no default (they must be
    real in a deployment: samconfig.toml names them)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from infra.local.deployment import DEV_PARAMETERS  # imports moto: only when needed

    return DEV_PARAMETERS


def _dummy(value: Any, template: dict[str, Any]) -> str:
    """A stand-in for an environment value: parameters take their default (else the dev
    server's value), resources a plausible physical id, literals stay as they are."""
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dict) and "Fn::If" in value:  # the dev parameters host no client
        return _dummy(value["Fn::If"][2], template)
    if isinstance(value, dict) and "Fn::Join" in value:  # e.g. a CommaDelimitedList's values
        separator, parts = value["Fn::Join"]
        return separator.join(
            _dummy(p, template) for p in (parts if isinstance(parts, list) else [parts])
        )
    ref = value.get("Ref") if isinstance(value, dict) else None
    if ref == "AWS::StackName":
        return "clientarea-bench"
    if ref in template.get("Parameters", {}):
        spec = template["Parameters"][ref]
        return str(spec["Default"] if "Default" in spec else _dev_parameters().get(ref, "x"))
    resource_type = template["Resources"].get(ref, {}).get("Type")
    if resource_type == "AWS::SQS::Queue":
        return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{ref}"
    return str(ref or "x")


def functions(template: dict[str, Any] | None = None) -> list[Function]:
    """Every AWS::Serverless::Function of the template, in template order."""
    template = template or load_template()
    globals_ = template.get("Globals", {}).get("Function", {})
    result = []
    for logical_id, resource in of_type(template, "AWS::Serverless::Function").items():
        props = resource["Properties"]
        variables = {
            **globals_.get("Environment", {}).get("Variables", {}),
            **props.get("Environment", {}).get("Variables", {}),
        }
        # SAM merges list-valued globals: the global layers come first.
        layers = [*globals_.get("Layers", []), *props.get("Layers", [])]
        module, _, attribute = props.get("Handler", globals_.get("Handler", "")).rpartition(".")
        result.append(
            Function(
                logical_id=logical_id,
                module=module,
                attribute=attribute,
                environment={k: _dummy(v, template) for k, v in variables.items()},
                layers=tuple(layer["Ref"] for layer in layers if isinstance(layer, dict)),
                code_uri=(ROOT / props["CodeUri"]).resolve(),
            )
        )
    return result


def template_routes(template: dict[str, Any] | None = None) -> list[str]:
    """Every API route of template.yaml, as "METHOD /path/{param}"."""
    template = template or load_template()
    routes = []
    for props in (r["Properties"] for r in of_type(template, "AWS::Serverless::Function").values()):
        for event in props.get("Events", {}).values():
            if event.get("Type") == "Api":
                spec = event["Properties"]
                if spec["Method"].upper() == "OPTIONS":
                    continue  # CORS preflight: answered by Powertools, no AWS call
                routes.append(f"{spec['Method'].upper()} {spec['Path']}")
    return routes


def authorizer_id(template: dict[str, Any]) -> str | None:
    """Logical id of the API's default Lambda authorizer function."""
    for api in of_type(template, "AWS::Serverless::Api").values():
        auth = api["Properties"].get("Auth", {})
        spec = auth.get("Authorizers", {}).get(auth.get("DefaultAuthorizer"), {})
        arn = spec.get("FunctionArn")
        if isinstance(arn, dict) and "Fn::GetAtt" in arn:
            return arn["Fn::GetAtt"][0]
        if isinstance(arn, dict) and str(arn.get("Ref", "")).endswith(".Alias"):
            return arn["Ref"].removesuffix(".Alias")  # `!Ref Function.Alias` (SAM)
    return None


def _patch_level(path: str) -> int:
    """3.13.N's N, from a pyenv path ~/.pyenv/versions/3.13.N/bin/python3.13 (-1: none)."""
    patch = Path(path).parents[1].name.removeprefix("3.13.")
    return int(patch) if patch.isdigit() else -1


def python313() -> str:
    """A plain CPython 3.13 (never the venv's, whose site-packages hold everything)."""
    candidates = [
        os.environ.get("PYTHON313", ""),
        *sorted(
            glob.glob(os.path.expanduser("~/.pyenv/versions/3.13.*/bin/python3.13")),
            key=_patch_level,
            reverse=True,  # the newest 3.13 first
        ),
        getattr(sys, "_base_executable", "") if sys.version_info[:2] == (3, 13) else "",
        shutil.which("python3.13") or "",
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit("no CPython 3.13 found: install it (pyenv) or set PYTHON313")


@functools.cache
def interpreter_version(python: str) -> tuple[int, ...]:
    done = subprocess.run(
        [python, "-c", "import sys; print(*sys.version_info[:3])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return tuple(int(part) for part in done.stdout.split())


def compiled(source: Path, library: Path) -> Path:
    """`source` built as a shared library at `library` (again when the source is newer)."""
    if library.is_file() and library.stat().st_mtime >= source.stat().st_mtime:
        return library
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        raise SystemExit(
            f"no C compiler for {source.relative_to(ROOT)}: install gcc, or measure the "
            "interpreter as it is (make bench ARGS=--interpreter-as-is)"
        )
    library.parent.mkdir(parents=True, exist_ok=True)
    partial = library.with_name(f"{library.name}.{os.getpid()}")
    done = subprocess.run(
        [
            compiler,
            "-O2",
            "-shared",
            "-fPIC",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-o",
            str(partial),
            str(source),
            "-lpthread",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(
            f"{compiler} could not build {source.relative_to(ROOT)}:\n{done.stderr[-2000:]}\n"
            "(make bench ARGS=--interpreter-as-is measures without it)"
        )
    partial.replace(library)  # whole, even with another run compiling beside this one
    return library


def frame_stack_cache(python: str | None = None) -> Path | None:
    """The library to preload into `python` (default: python313()) in place of the
    gh-142183 fix it lacks; None when it has the fix or `stand_in_for_missing_fixes`
    is off."""
    version = interpreter_version(python or python313())
    if not stand_in_for_missing_fixes or version[:2] != (3, 13) or version >= FRAME_STACK_FIX:
        return None
    return compiled(FRAME_STACK_CACHE, FRAME_STACK_CACHE_LIBRARY)


def interpreter_description() -> str:
    """What `make bench` measures with, for its header line."""
    python = python313()
    version = ".".join(map(str, interpreter_version(python)))
    cache = frame_stack_cache(python)
    fix = "" if cache is None else f" + {FRAME_STACK_CACHE.name} (gh-142183's fix, 3.13.13)"
    return f"python {python} ({version}{fix})"


def lambda_environment(function: Function | None) -> dict[str, str]:
    """The process environment of an import: only what Lambda would set."""
    path = [str(function.artifact), *map(str, function.layer_dirs())] if function else []
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": os.pathsep.join([*path, str(RUNTIME)]),
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    }
    if function is not None:
        env["AWS_LAMBDA_FUNCTION_NAME"] = function.logical_id
        env["LAMBDA_TASK_ROOT"] = str(function.artifact)
        env.update(function.environment)
    return env


def pin_command(cpu: int | None) -> list[str]:
    """`taskset -c CPU` when taskset exists and CPU is one this process may use, else
    nothing (the run is then unpinned: see `make bench`'s header line)."""
    taskset = shutil.which("taskset")
    if cpu is None or taskset is None or cpu not in os.sched_getaffinity(0):
        return []
    return [taskset, "-c", str(cpu)]


def run_python(
    code: str,
    function: Function | None,
    *flags: str,
    cwd: Path | None = None,
    pin: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh python3.13 as Lambda would import `function`'s handler
    (`function=None`: the runtime's boto3 only), under `pin` (see pin_command), with
    the fixes a Lambda runtime has and this interpreter lacks (frame_stack_cache)."""
    env = lambda_environment(function)
    cache = frame_stack_cache()
    if cache is not None:
        env["LD_PRELOAD"] = str(cache)
    return subprocess.run(
        [*(pin or []), python313(), "-s", *flags, "-c", code],
        cwd=cwd or (function.artifact if function else RUNTIME),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def newest_source_mtime() -> float:
    newest = 0.0
    for source in SOURCES:
        paths = [source] if source.is_file() else source.rglob("*")
        for path in paths:
            if "__pycache__" in path.parts or path.suffix == ".pyc" or not path.is_file():
                continue
            newest = max(newest, path.stat().st_mtime)
    return newest


def build_is_stale() -> bool:
    built = BUILD / "template.yaml"
    return not built.is_file() or built.stat().st_mtime < newest_source_mtime()


def ensure_runtime() -> None:
    if not (RUNTIME / ".installed").is_file():
        raise SystemExit(f"{RUNTIME} is missing: run `make build` (or `make bench`)")
