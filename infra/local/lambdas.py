"""Lambda's part of the local stack: execution environments, as Lambda runs them.

What Lambda guarantees, and what the handlers rely on (Powertools' resolver keeps the
current event on the module's `app`, so two events in one module at once read each
other's headers, locale and authorizer context):

- an invocation takes an idle environment of its function, else starts a new one: a
  cold start, the handler module imported afresh under a name of its own, so its
  module state (the resolver and its current event, the metrics) is never shared;
- at most MAX_ENVIRONMENTS of a function exist at once. Lambda would start more, each
  on a CPU of its own; here they would share this machine's few cores and time out
  for no fault of theirs. A further invocation waits for a free environment, and its
  Timeout starts when an environment takes it, as on Lambda;
- an environment runs one event at a time, on a thread of its own, and is reused
  afterwards;
- an invocation that outlives the function's `Timeout` fails ("Task timed out"), and
  its environment is thrown away, as Lambda does (the handler's thread gets an
  exception at its next Python instruction; one stuck in a C call finishes unseen);
- a change of the function's configuration (its environment variables) or, when
  watching, of its code or the layer's, retires every environment: the next
  invocation starts a new one.

What one process cannot give each environment: the layer (`clientarea`) and the
libraries are imported once and shared (tests patch the layer in-process and must
reach every environment). So each piece of their module state was looked at:
- Powertools' resolvers keep the current event and Lambda context on *class*
  attributes (`BaseRouter.current_event`, `.lambda_context`): one per process on
  Lambda, so here one per environment thread (`_per_environment_router_state`).
- The layer keeps caches of constant data (password lists, templates), boto3 clients
  (thread-safe) and one idempotency config whose registered Lambda context sets the
  in-progress expiry: a concurrent invocation's context (the same Timeout) may be used.
- Powertools' Logger keys and Metrics set are per service name, and its cold-start
  flag per process: a function's JSON log line may carry a concurrent invocation's
  request id or cold_start. Log lines only, never an answer.
Shared on purpose, as the deployed functions share them: the AWS backends (moto) and
the dev clock (`clientarea.clock` reads the environment at every call).
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import queue
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from chalice.local import LambdaContext

from infra.local.roles import _current_function
from infra.local.stack import ACCOUNT_ID, REGION, ROOT

if TYPE_CHECKING:
    from collections.abc import Callable

    from infra.local.stack import Function

logger = logging.getLogger("infra.local")  # not under "clientarea": Powertools owns that logger
LAYER = ROOT / "layers" / "clientarea" / "clientarea"
LAYER_PACKAGE = "clientarea"
INIT_LIMIT_SECONDS = 10  # Lambda's limit on an environment's init phase
MAX_ENVIRONMENTS = 4 * (os.cpu_count() or 1)  # per function; see the module's docstring
WATCH_INTERVAL_SECONDS = 1.0


class LambdaTimeout(Exception):
    """The invocation outlived the function's Timeout (Lambda: "Task timed out")."""


class _Killed(BaseException):
    """Raised inside a timed-out environment's thread to stop it. A BaseException, so
    that the handler's own `except Exception` cannot swallow it."""


@dataclass
class Invocation:
    """One invocation as the Lambda service saw it."""

    function: str
    environment: str = ""
    cold: bool = False
    init_ms: float = 0.0
    duration_ms: float = 0.0
    aws_calls: int = 0
    result: Any = None
    error: BaseException | None = None
    timed_out: bool = False

    @property
    def failed(self) -> bool:
        return self.error is not None or self.timed_out

    def outcome(self) -> Any:
        """The handler's return value; its exception, or LambdaTimeout, raised."""
        if self.timed_out:
            raise LambdaTimeout(f"{self.function}: Task timed out")
        if self.error is not None:
            raise self.error
        return self.result


# --- counting AWS calls per invocation ------------------------------------------------

_current = threading.local()  # .invocation on an environment's thread while it runs one
_counting_installed = False
_counting_lock = threading.Lock()


def _install_call_counting() -> None:
    """Count each botocore API call (boto3 and PynamoDB both make theirs through
    `BaseClient._make_api_call`) against the invocation running on the calling thread."""
    global _counting_installed  # noqa: PLW0603 - one patch per process
    with _counting_lock:
        if _counting_installed:
            return
        from botocore.client import BaseClient  # noqa: PLC0415

        original = BaseClient._make_api_call

        def counted(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            invocation = getattr(_current, "invocation", None)
            if invocation is not None:
                invocation.aws_calls += 1
            return original(client, operation_name, api_params)

        BaseClient._make_api_call = counted  # type: ignore[method-assign]
        _counting_installed = True


def running_function() -> str | None:
    """The function (logical id) whose invocation runs on this thread, else None: what
    Lambda tells a function by AWS_LAMBDA_FUNCTION_NAME. The tests check each AWS
    request against that function's IAM statements (tests/accounts_iam.py)."""
    invocation = getattr(_current, "invocation", None)
    return invocation.function if invocation is not None else None


def invoking_thread() -> int:
    """The thread an invocation was made from (the request's, a test's), also when
    asked from inside the environment that runs it: tests inject faults into the calls
    made on behalf of their own thread only."""
    return getattr(_current, "caller", None) or threading.get_ident()


# --- what Lambda keeps per process --------------------------------------------------


class _PerThread:
    """An attribute whose value belongs to the thread that set it: per environment."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._values = threading.local()

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        try:
            return self._values.value
        except AttributeError:
            raise AttributeError(self._name) from None

    def __set__(self, instance: Any, value: Any) -> None:
        self._values.value = value


_ROUTER_STATE = ("current_event", "lambda_context")


def _per_environment_router_state() -> None:
    """Powertools' REST resolver sets `BaseRouter.current_event` (and `.lambda_context`)
    on the class, for every resolver of the process: on Lambda, one environment's. Two
    environments in this process would read each other's event (headers, locale,
    authorizer context), so these class attributes become per thread: the descriptor on
    the class serves instances, the one on its metaclass serves the class itself."""
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter  # noqa: PLC0415

    if isinstance(BaseRouter.__dict__.get(_ROUTER_STATE[0]), _PerThread):
        return
    descriptors = {name: _PerThread(name) for name in _ROUTER_STATE}
    for name, descriptor in descriptors.items():
        setattr(BaseRouter, name, descriptor)
    meta = type("PerEnvironmentRouterMeta", (type(BaseRouter),), dict(descriptors))
    BaseRouter.__class__ = meta


# --- modules --------------------------------------------------------------------------


def load_module(function: Function, name: str | None = None) -> ModuleType:
    """A fresh instance of the function's handler module, imported by file path under
    `name` (unique per environment). It stays in sys.modules while its environment
    lives: pydantic resolves a deferred model's annotations through it."""
    module_file = function.handler.rpartition(".")[0]
    name = name or f"clientarea_local.{function.logical_id}.{module_file}"
    spec = importlib.util.spec_from_file_location(name, function.code_uri / f"{module_file}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {function.handler} from {function.code_uri}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when a file of the folder is edited, added or removed."""
    entries = []
    for path in sorted(folder.rglob("*")):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        stat = path.stat()
        entries.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(entries)


def _changed(before: tuple, after: tuple) -> list[str]:
    old, new = {e[0]: e for e in before}, {e[0]: e for e in after}
    names = {n for n in old.keys() | new.keys() if old.get(n) != new.get(n)}
    return sorted(str(Path(n).relative_to(ROOT)) if n.startswith(str(ROOT)) else n for n in names)


# --- environments ---------------------------------------------------------------------


class _Job:
    def __init__(self, invocation: Invocation, event: dict[str, Any] | None, context: Any) -> None:
        self.invocation = invocation
        self.event = event
        self.context = context
        self.initialised = threading.Event()
        self.done = threading.Event()
        self.caller = invoking_thread()


class Environment:
    """One execution environment: a module instance and the thread that runs its
    events, one at a time."""

    def __init__(self, function: Function, number: int, version: tuple) -> None:
        self.function = function
        self.name = f"{function.logical_id}#{number}"
        self.version = version
        self._module_name = f"clientarea_local.{function.logical_id}.env{number}"
        self._handler: Callable[[dict[str, Any], Any], Any] | None = None
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.alive = True
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    @property
    def initialised(self) -> bool:
        return self._handler is not None

    def submit(self, job: _Job) -> None:
        self._jobs.put(job)

    def _run(self) -> None:
        # The environment's thread is the function's: every AWS call it makes signs with
        # the function's role (when the deployment enforces IAM: infra/local/roles.py).
        _current_function.set(self.function.logical_id)
        try:
            while (job := self._jobs.get()) is not None:
                self._serve(job)
        except _Killed:
            pass
        finally:
            self.alive = False
            sys.modules.pop(self._module_name, None)

    def _serve(self, job: _Job) -> None:
        invocation = job.invocation
        _current.invocation = invocation
        _current.caller = job.caller
        try:
            if self._handler is None:
                started = time.perf_counter()
                module = load_module(self.function, self._module_name)
                self._handler = getattr(module, self.function.handler.rpartition(".")[2])
                invocation.init_ms = (time.perf_counter() - started) * 1000
            job.initialised.set()
            if job.event is not None:  # None: start the environment only (LambdaService.warm)
                invocation.result = self._handler(job.event, job.context)
        except _Killed:
            raise
        except Exception as exc:  # the function's error, handed to its caller
            invocation.error = exc
        finally:
            _current.invocation = _current.caller = None
            job.initialised.set()
            job.done.set()

    def stop(self) -> None:
        """Retire an idle environment: its thread ends, its module is dropped."""
        self.alive = False
        self._jobs.put(None)

    def kill(self) -> None:
        """Tear down a busy environment (its invocation timed out)."""
        self.alive = False
        ident = self._thread.ident
        if ident is not None and self._thread.is_alive():
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(ident), ctypes.py_object(_Killed)
            )
        self._jobs.put(None)


class FunctionPool:
    """A function's environments: idle ones are reused, busy ones are never shared."""

    def __init__(self, function: Function, service: LambdaService) -> None:
        self.function = function
        self._service = service
        self._idle: list[Environment] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(MAX_ENVIRONMENTS)
        self._started = 0
        self._code = _signature(function.code_uri)
        self._code_generation = 0
        self._checked_at = time.monotonic()

    def invoke(self, event: dict[str, Any] | None) -> Invocation:
        """Run one event (None: only start an environment, as provisioned concurrency does)."""
        invocation = Invocation(self.function.logical_id)
        with self._slots:
            self._run(invocation, event)
        return invocation

    def _run(self, invocation: Invocation, event: dict[str, Any] | None) -> None:
        environment = self._acquire()
        invocation.environment = environment.name
        invocation.cold = not environment.initialised
        context = LambdaContext(
            self.function.logical_id, self.function.memory, self.function.timeout * 1000
        )
        context.invoked_function_arn = (  # type: ignore[attr-defined]
            f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function.logical_id}"
        )
        job = _Job(invocation, event, context)
        started = time.perf_counter()
        environment.submit(job)
        if invocation.cold and not job.initialised.wait(INIT_LIMIT_SECONDS):
            self._time_out(environment, invocation, "init")
        elif not job.done.wait(self.function.timeout):
            self._time_out(environment, invocation, "invocation")
        invocation.duration_ms = (time.perf_counter() - started) * 1000 - invocation.init_ms
        if invocation.cold:
            logger.info(
                "%s: new execution environment %s (init %.0f ms)",
                self.function.logical_id,
                environment.name,
                invocation.init_ms,
            )
        self._release(environment)

    def _time_out(self, environment: Environment, invocation: Invocation, phase: str) -> None:
        invocation.timed_out = True
        environment.kill()
        limit = INIT_LIMIT_SECONDS if phase == "init" else self.function.timeout
        logger.warning(
            "%s: %s timed out after %s s; environment %s discarded",
            self.function.logical_id,
            phase,
            limit,
            environment.name,
        )

    def _version(self) -> tuple:
        """What an environment was started from: code generations and configuration."""
        self._watch()
        configuration = tuple(os.environ.get(name) for name in sorted(self.function.environment))
        return (self._code_generation, self._service.layer_generation, configuration)

    def _acquire(self) -> Environment:
        version = self._version()
        with self._lock:
            while self._idle:
                environment = self._idle.pop()
                if environment.alive and environment.version == version:
                    return environment
                environment.stop()
            self._started += 1
            number = self._started
        return Environment(self.function, number, version)

    def _release(self, environment: Environment) -> None:
        if not environment.alive:
            return
        if environment.version != self._version():
            environment.stop()
            return
        with self._lock:
            self._idle.append(environment)

    def _watch(self) -> None:
        """When watching, a changed file of the function (or of the layer) retires
        its environments: the next invocation imports the new code."""
        if not self._service.watch:
            return
        now = time.monotonic()
        if now - self._checked_at < WATCH_INTERVAL_SECONDS:
            return
        self._checked_at = now
        self._service.check_layer()
        code = _signature(self.function.code_uri)
        if code != self._code:
            changed = _changed(self._code, code)
            self._code, self._code_generation = code, self._code_generation + 1
            logger.info(
                "%s: code changed (%s); new environments from now on",
                self.function.logical_id,
                ", ".join(changed[:3]) + (" ..." if len(changed) > 3 else ""),
            )

    def retire_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for environment in idle:
            environment.stop()

    def size(self) -> tuple[int, int]:
        """(environments started so far, idle now)."""
        with self._lock:
            return self._started, len(self._idle)


class LambdaService:
    """The functions' pools, one per function (by its logical id, code and handler)."""

    def __init__(self, *, watch: bool = False) -> None:
        self.watch = watch
        self.layer_generation = 0
        self._layer = _signature(LAYER) if watch else ()  # see start_watching
        self._layer_lock = threading.Lock()
        self._layer_checked_at = time.monotonic()
        self._pools: dict[tuple[str, str, str, int], FunctionPool] = {}
        self._lock = threading.Lock()
        _install_call_counting()
        _per_environment_router_state()

    def pool(self, function: Function) -> FunctionPool:
        key = (function.logical_id, str(function.code_uri), function.handler, function.timeout)
        with self._lock:
            if key not in self._pools:
                self._pools[key] = FunctionPool(function, self)
            return self._pools[key]

    def invoke(self, function: Function, event: dict[str, Any]) -> Invocation:
        return self.pool(function).invoke(event)

    def warm(self, functions: list[Function]) -> None:
        """One initialised environment per function, so no first request pays for it."""
        for function in functions:
            if self.pool(function).size()[1] == 0:
                self.pool(function).invoke(None).outcome()

    def start_watching(self) -> None:
        """Reload code on change from now on (`make dev`)."""
        with self._layer_lock:
            self._layer = _signature(LAYER)
        self.watch = True

    def check_layer(self) -> None:
        """A changed layer file: drop the layer's modules, so that new environments
        import it afresh, and retire every environment started before."""
        now = time.monotonic()
        with self._layer_lock:
            if now - self._layer_checked_at < WATCH_INTERVAL_SECONDS:
                return
            self._layer_checked_at = now
            layer = _signature(LAYER)
            if layer == self._layer:
                return
            changed = _changed(self._layer, layer)
            self._layer = layer
            for name in [n for n in sys.modules if n.split(".")[0] == LAYER_PACKAGE]:
                del sys.modules[name]
            self.layer_generation += 1
        logger.info(
            "layer changed (%s); new environments from now on",
            ", ".join(changed[:3]) + (" ..." if len(changed) > 3 else ""),
        )

    def stop(self) -> None:
        with self._lock:
            pools = list(self._pools.values())
        for pool in pools:
            pool.retire_idle()


# One Lambda service per process, as one region has one: the tests' deployments (a
# fresh moto each) reuse warm environments, as the module cache did before.
SERVICE = LambdaService()


def invoke(function: Function, event: dict[str, Any]) -> Any:
    """Invoke synchronously (RequestResponse): the result, or the function's error."""
    return SERVICE.invoke(function, event).outcome()
