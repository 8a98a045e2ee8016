"""Per route: the AWS API calls one request makes, and in-process latency, on moto.

The whole API runs in this process as `infra.local` wires it for the dev server
(template.yaml's routes, the Lambda authorizer, the queues), on `moto.mock_aws`.
Every botocore API call is counted by patching `BaseClient._make_api_call`, which
boto3 and PynamoDB (with its own botocore session) both go through; each call is
credited to the function whose handler file is on the call stack, so the
authorizer's calls are told apart from the route function's, and the emulator's
own calls (queue polling) from both.
"""

from __future__ import annotations

import contextlib
import io
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lambda_env import ROOT, authorizer_id, functions, load_template

PASSWORD = "correct horse battery staple 9"
OTHER_PASSWORD = "correct horse battery staple 10"
JSON_HEADERS = {"Content-Type": "application/json"}
Request = tuple[dict[str, Any] | None, str | None]  # (JSON body, bearer session token)


class BenchError(Exception):
    """The scenario could not be played (an unexpected answer): nothing was measured."""


@dataclass(frozen=True)
class Call:
    function: str | None  # logical id of the function that made it; None: the emulator
    operation: str  # "dynamodb:TransactGetItems"


class CallLog:
    def __init__(self) -> None:
        template = load_template()
        self.authorizer = authorizer_id(template)
        self.files = {str(f.source): f.logical_id for f in functions(template)}
        self.calls: list[Call] = []

    def _caller(self) -> str | None:
        frame = sys._getframe(2)
        while frame is not None:
            logical_id = self.files.get(frame.f_code.co_filename)
            if logical_id is not None:
                return logical_id
            frame = frame.f_back
        return None

    @contextlib.contextmanager
    def installed(self) -> Iterator[CallLog]:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        log = self

        def counting(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            service = client.meta.service_model.service_name
            log.calls.append(Call(log._caller(), f"{service}:{operation_name}"))
            return original(client, operation_name, api_params)

        BaseClient._make_api_call = counting
        try:
            yield self
        finally:
            BaseClient._make_api_call = original

    def take(self) -> list[Call]:
        calls, self.calls = self.calls, []
        return calls


@dataclass
class Measured:
    route: str  # "POST /password/forgot"
    variant: str  # "" or e.g. "known login"
    expected: int
    authorizer: str
    seconds: list[float] = field(default_factory=list)
    calls: list[list[Call]] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    bodies: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.route} ({self.variant})" if self.variant else self.route

    def add(self, status: int, body: bytes, seconds: float, calls: list[Call]) -> None:
        self.statuses[status] += 1
        self.seconds.append(seconds)
        self.calls.append(calls)
        decoded = json.loads(body) if body else None
        self.bodies.append(decoded)
        if status != self.expected and len(self.errors) < 3:
            self.errors.append(f"{self.label}: {status} {body[:300]!r}")

    def operations(self, i: int, authorizer: bool = False) -> list[str]:
        """The route function's calls in request `i` (or the authorizer's)."""
        calls = self.calls[i]
        if authorizer:
            return [c.operation for c in calls if c.function == self.authorizer]
        return [c.operation for c in calls if c.function not in (None, self.authorizer)]

    def sequences(self, authorizer: bool = False) -> list[tuple[str, ...]]:
        return [tuple(self.operations(i, authorizer)) for i in range(len(self.calls))]

    def max_calls(self, authorizer: bool = False) -> int:
        return max((len(s) for s in self.sequences(authorizer)), default=0)

    @property
    def warm(self) -> list[float]:
        """Every request but the route's first (which creates clients, fills caches)."""
        return self.seconds[1:] or self.seconds

    def first_ms(self) -> float:
        return self.seconds[0] * 1000 if self.seconds else 0.0

    def percentile_ms(self, q: int) -> float:
        if len(self.warm) < 2:
            return self.first_ms()
        return statistics.quantiles(self.warm, n=100, method="inclusive")[q - 1] * 1000


@dataclass
class RouteReport:
    measured: list[Measured]
    background: dict[str, dict[str, list[str]]]  # variant -> function -> operations
    captured_output: str


def address(i: int, block: int = 0) -> str:
    """A different client address per request (documentation range, never dialled)."""
    return f"203.0.{113 + block}.{i % 254 + 1}"


class Scenario:
    """Plays the client area's flows against the local deployment and measures them."""

    def __init__(self, deployment: Any, log: CallLog, iterations: int) -> None:
        self.d = deployment
        self.log = log
        self.n = iterations
        self.measured: list[Measured] = []

    # --- plumbing -------------------------------------------------------------------

    def send(
        self, method: str, path: str, body: dict[str, Any] | None, token: str | None, ip: str
    ) -> tuple[Any, float, list[Call]]:
        headers = dict(JSON_HEADERS)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        raw = json.dumps(body).encode() if body is not None else None
        self.log.take()
        start = time.perf_counter()
        response = self.d.api.handle(method, path, headers, raw, ip)
        elapsed = time.perf_counter() - start
        return response, elapsed, self.log.take()

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        expected: int,
        token: str | None = None,
    ) -> Any:
        """An unmeasured request (setup), which must answer `expected`."""
        response, _, _ = self.send(method, path, body, token, "192.0.2.1")
        if response.status != expected:
            raise BenchError(f"setup {method} {path}: {response.status} {response.body[:300]!r}")
        return response.json()

    def measure(
        self,
        method: str,
        path: str,
        expected: int,
        requests: list[Request],
        *,
        variant: str = "",
        block: int = 0,
    ) -> Measured:
        m = Measured(f"{method} {path}", variant, expected, self.log.authorizer)
        for i, (body, token) in enumerate(requests):
            response, elapsed, calls = self.send(method, path, body, token, address(i, block))
            m.add(response.status, response.body, elapsed, calls)
        self.measured.append(m)
        return m

    def tokens_for(self, emails: list[str], page: str) -> list[str]:
        """The token of the newest mailed link to `page` for each address, in order."""
        from infra.local import mailbox

        self.d.queues.drain()
        newest: dict[str, str] = {}
        for mail in mailbox.messages():
            for link in mail["links"]:
                if page in link and "#token=" in link:
                    newest[mail["to"]] = link.split("#token=", 1)[1]
        found = {e: t for to, t in newest.items() for e in emails if e in to}
        missing = [e for e in emails if e not in found]
        if missing:
            raise BenchError(f"no {page} mail for {missing[:3]} ({len(missing)} missing)")
        return [found[e] for e in emails]

    def provision(self, name: str) -> str:
        from clientarea import accounts

        accounts.provision(
            email=f"{name}@example.com", password=PASSWORD, full_name=name.title(), login=name
        )
        return name

    # --- the flows ------------------------------------------------------------------

    def accounts_and_sessions(self) -> None:
        n = self.n
        emails = [f"bench-reg-{i}@example.com" for i in range(n)]
        self.measure(
            "POST",
            "/auth/register",
            202,
            [
                ({"email": e, "password": PASSWORD, "full_name": f"Bench Reg {i}"}, None)
                for i, e in enumerate(emails)
            ],
        )
        tokens = self.tokens_for(emails, "/verify-email")
        self.measure("POST", "/auth/verify-email", 200, [({"token": t}, None) for t in tokens])

        login = self.provision("benchlogin")
        logins = self.measure(
            "POST", "/auth/login", 200, [({"login": login, "password": PASSWORD}, None)] * n
        )
        sessions = [body["session_token"] for body in logins.bodies if body]
        if len(sessions) < n:
            raise BenchError("login gave fewer sessions than requests")
        self.measure("GET", "/account", 200, [(None, sessions[0])] * n)
        self.measure(
            "PATCH",
            "/account",
            200,
            [({"full_name": f"Bench Login {i}"}, sessions[0]) for i in range(n)],
        )

        changer = self.provision("benchchanger")
        session = self.call("POST", "/auth/login", {"login": changer, "password": PASSWORD}, 200)
        passwords = [PASSWORD, OTHER_PASSWORD]
        self.measure(
            "PUT",
            "/account/password",
            204,
            [
                (
                    {"current_password": passwords[i % 2], "new_password": passwords[(i + 1) % 2]},
                    session["session_token"],
                )
                for i in range(n)
            ],
        )
        self.measure("POST", "/auth/logout", 204, [(None, s) for s in sessions])

    def password_reset(self) -> None:
        n = self.n
        known = self.provision("benchforgot")
        self.measure(
            "POST",
            "/password/forgot",
            202,
            [({"login": known}, None)] * n,
            variant="known login",
            block=1,
        )
        self.measure(
            "POST",
            "/password/forgot",
            202,
            [({"login": f"nobody-{i}"}, None) for i in range(n)],
            variant="unknown login",
            block=2,
        )
        self.d.queues.drain()

        names = [self.provision(f"benchreset{i}") for i in range(n)]
        for name in names:
            self.call("POST", "/password/forgot", {"login": name}, 202)
        tokens = self.tokens_for([f"{name}@example.com" for name in names], "/reset-password")
        self.measure("POST", "/password/reset/verify", 200, [({"token": t}, None) for t in tokens])
        self.measure(
            "POST",
            "/password/reset",
            204,
            [({"token": t, "new_password": OTHER_PASSWORD}, None) for t in tokens],
        )

    def behind_the_queue(self) -> dict[str, dict[str, list[str]]]:
        """What a forgot request costs after the answer: worker and mailer calls."""
        self.d.queues.drain()
        known = self.provision("benchworker")
        result = {}
        for variant, login in (("known login", known), ("unknown login", "nobody-at-all")):
            self.call("POST", "/password/forgot", {"login": login}, 202)
            self.log.take()
            self.d.queues.drain()
            by_function: dict[str, list[str]] = {}
            for c in self.log.take():
                if c.function is not None:
                    by_function.setdefault(c.function, []).append(c.operation)
            result[variant] = by_function
        return result


def _warm_up(deployment: Any) -> None:
    """Import every handler first, so no route's first request pays a cold start."""
    from infra.local.gateway import load_handler

    for function in deployment.stack.functions().values():
        load_handler(function)


def run(iterations: int, progress: Callable[[str], None]) -> RouteReport:
    for path in (ROOT, ROOT / "layers" / "clientarea"):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    from moto import mock_aws

    from infra.local.deployment import LocalDeployment

    log = CallLog()
    captured = io.StringIO()  # the functions' JSON logs, metrics and warnings
    with (
        mock_aws(),
        log.installed(),
        contextlib.redirect_stdout(captured),
        contextlib.redirect_stderr(captured),
    ):
        deployment = LocalDeployment({"LogLevel": "ERROR"}).start()
        _warm_up(deployment)
        scenario = Scenario(deployment, log, iterations)
        try:
            progress("accounts and sessions")
            scenario.accounts_and_sessions()
            progress("password reset")
            scenario.password_reset()
            background = scenario.behind_the_queue()
        except BenchError:
            sys.stderr.write(captured.getvalue()[-4000:])
            raise
    return RouteReport(scenario.measured, background, captured.getvalue())
