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
from datetime import timedelta
from typing import Any

from cost import capacity
from lambda_env import ROOT, authorizer_id, functions, load_template

PASSWORD = "correct horse battery staple 9"
OTHER_PASSWORD = "correct horse battery staple 10"
JSON_HEADERS = {"Content-Type": "application/json"}
Request = tuple[dict[str, Any] | None, str | None]  # (JSON body, bearer session token)
STAFF_PASSWORD = "staff horse battery staple 11"


class BenchError(Exception):
    """The scenario could not be played (an unexpected answer): nothing was measured."""


@dataclass(frozen=True)
class Call:
    function: str | None  # logical id of the function that made it; None: the emulator
    operation: str  # "dynamodb:TransactGetItems"
    units: tuple[float, float] = (0.0, 0.0)  # DynamoDB read and write request units (cost.py)


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
            units = capacity(service, operation_name, api_params)
            log.calls.append(Call(log._caller(), f"{service}:{operation_name}", units))
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
        try:
            decoded = json.loads(body) if body else None
        except ValueError:  # a document (DOCX), not JSON
            decoded = None
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
    cession: dict[str, Any]  # one full cession: transitions, AWS calls
    captured_output: str
    background_calls: dict[str, list[Call]] = field(default_factory=dict)  # variant -> calls


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
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        token: str | None,
        ip: str,
        extra: dict[str, str] | None = None,
    ) -> tuple[Any, float, list[Call]]:
        headers = {**JSON_HEADERS, **(extra or {})}
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
        headers: dict[str, str] | None = None,
    ) -> Any:
        """An unmeasured request (setup), which must answer `expected`."""
        response, _, _ = self.send(method, path, body, token, "192.0.2.1", headers)
        if response.status != expected:
            raise BenchError(f"setup {method} {path}: {response.status} {response.body[:300]!r}")
        return response.json() if response.body else None

    def measure(
        self,
        method: str,
        path: str,
        expected: int,
        requests: list[Request],
        *,
        variant: str = "",
        block: int = 0,
        paths: list[str] | None = None,
        headers: list[dict[str, str]] | None = None,
    ) -> Measured:
        """`path` is the template's route ("/orders/{order_id}"); `paths`, when given,
        the concrete path of each request."""
        m = Measured(f"{method} {path}", variant, expected, self.log.authorizer)
        for i, (body, token) in enumerate(requests):
            response, elapsed, calls = self.send(
                method,
                paths[i] if paths else path,
                body,
                token,
                address(i, block),
                headers[i] if headers else None,
            )
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

    def provision(self, name: str, role: str | None = None) -> str:
        from clientarea.accounts import registration
        from clientarea.roles import Role

        extra = {"role": Role(role)} if role else {}
        registration.provision(
            email=f"{name}@example.com",
            password=STAFF_PASSWORD if role else PASSWORD,
            full_name=name.title(),
            login=name,
            **extra,
        )
        return name

    def session(self, name: str, role: str | None = None) -> str:
        """A session token of a new account `name` (a staff member with `role`)."""
        login = self.provision(name, role)
        password = STAFF_PASSWORD if role else PASSWORD
        reply = self.call("POST", "/auth/login", {"login": login, "password": password}, 200)
        return reply["session_token"]

    def client_number(self, token: str) -> int:
        return int(self.call("GET", "/account", None, 200, token)["client_number"])

    def service_for(self, client_number: int, domain: str) -> dict[str, Any]:
        from infra.local.server import dev_route

        body = {"client_number": client_number, "product": "Hosting Pro", "domain": domain}
        reply = dev_route("POST", "/_dev/services", json.dumps(body).encode())
        if reply is None or reply.status != 201:
            raise BenchError(f"setup /_dev/services: {reply and reply.status}")
        return reply.json()

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
        self.login_refusals()
        self.own_sessions()

    def login_refusals(self) -> None:
        """Wrong passwords and locked logins, each for an account and for a login nobody
        has: the same AWS calls either way (budgets.toml, same_calls)."""
        from clientarea import clock
        from clientarea.accounts import login as sign_in
        from clientarea.storage import accounts as account_store
        from clientarea.storage.throttling import AttemptsModel

        n = self.n
        known = [self.provision(f"benchwrong{i}") for i in range(n)]
        wrong = "not the password at all"
        self.measure(
            "POST",
            "/auth/login",
            401,
            [({"login": login, "password": wrong}, None) for login in known],
            variant="wrong password, account",
            block=3,
        )
        self.measure(
            "POST",
            "/auth/login",
            401,
            [({"login": f"nobody-wrong-{i}", "password": wrong}, None) for i in range(n)],
            variant="wrong password, nobody",
            block=4,
        )
        # Locked: the attempts in a row on record (as that many wrong passwords leave
        # them), per login name as typed.
        locked = [self.provision(f"benchlocked{i}") for i in range(n)]
        unknown = [f"nobody-locked-{i}" for i in range(n)]
        keys = [account_store.login_claim_key(login) for login in locked + unknown]
        lock = sign_in.LOGIN_ATTEMPTS
        for key in keys:
            AttemptsModel(
                lock.item_key(key),
                consecutive=lock.consecutive,
                ttl=clock.now() + timedelta(seconds=lock.keep_seconds),
            ).save()
        for variant, logins, block in (
            ("locked, account", locked, 5),
            ("locked, nobody", unknown, 6),
        ):
            self.measure(
                "POST",
                "/auth/login",
                429,
                [({"login": login, "password": PASSWORD}, None) for login in logins],
                variant=variant,
                block=block,
            )

    def own_sessions(self) -> None:
        """GET /account/sessions, DELETE one, POST revoke-others: one account with
        n + 1 sessions (the caller's first)."""
        n = self.n
        login = self.provision("benchsessions")
        body = {"login": login, "password": PASSWORD}
        tokens = [self.call("POST", "/auth/login", body, 200) for _ in range(n + 1)]
        caller = tokens[0]["session_token"]
        self.measure("GET", "/account/sessions", 200, [(None, caller)] * n)
        listed = self.call("GET", "/account/sessions", None, 200, caller)
        others = [s["session_id"] for s in listed if not s["current"]]
        if len(others) != n:
            raise BenchError(f"setup: {len(others)} other sessions listed, not {n}")
        self.measure(
            "DELETE",
            "/account/sessions/{session_id}",
            204,
            [(None, caller)] * n,
            paths=[f"/account/sessions/{session_id}" for session_id in others],
        )
        self.measure("POST", "/account/sessions/revoke-others", 204, [(None, caller)] * n)

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

    def contact_email(self) -> None:
        n = self.n
        # One account per change: the requests are limited per account and hour.
        sessions = [self.session(f"benchmail{i}") for i in range(n)]
        new = [f"bench-new-{i}@example.org" for i in range(n)]
        self.measure(
            "POST",
            "/account/email-change",
            202,
            [
                ({"new_email": e, "current_password": PASSWORD}, t)
                for e, t in zip(new, sessions, strict=True)
            ],
        )
        tokens = self.tokens_for(new, "/email-change/confirm")
        self.measure(
            "POST", "/account/email-change/confirm", 200, [({"token": t}, None) for t in tokens]
        )
        # At most 20 authorised senders per account: one each, over the same accounts.
        senders = [f"bench-sender-{i}@example.net" for i in range(n)]
        self.measure(
            "POST",
            "/account/authorised-emails",
            202,
            [({"email": e}, t) for e, t in zip(senders, sessions, strict=True)],
        )
        tokens = self.tokens_for(senders, "/authorised-emails/confirm")
        self.measure(
            "POST",
            "/account/authorised-emails/confirm",
            200,
            [({"token": t}, None) for t in tokens],
        )
        self.measure("GET", "/account/authorised-emails", 200, [(None, t) for t in sessions])
        self.measure(
            "DELETE",
            "/account/authorised-emails/{email}",
            204,
            [(None, t) for t in sessions],
            paths=[f"/account/authorised-emails/{e}" for e in senders],
        )

    def staff_me(self) -> None:
        staff = self.session("benchstaffme", role="support")
        self.measure("GET", "/staff/me", 200, [(None, staff)] * self.n)

    def cession(self) -> None:
        n = self.n
        owner = self.session("benchowner")
        recipient_login = self.provision("benchrecipient")
        recipient = self.call(
            "POST", "/auth/login", {"login": recipient_login, "password": PASSWORD}, 200
        )["session_token"]
        owner_number = self.client_number(owner)
        recipient_number = self.client_number(recipient)
        services = [self.service_for(owner_number, f"bench-{i}.example") for i in range(2 * n)]
        self.measure("GET", "/services", 200, [(None, owner)] * n)
        order_body = {
            "recipient_login": recipient_login,
            "recipient_client_number": recipient_number,
        }
        created = self.measure(
            "POST",
            "/services/{service_id}/cession",
            201,
            [(order_body, owner)] * (2 * n),
            paths=[f"/services/{s['service_id']}/cession" for s in services],
        )
        orders = [body["order_id"] for body in created.bodies if body]
        if len(orders) < 2 * n:
            raise BenchError("fewer cession orders than requests")
        to_activate, to_cancel = orders[:n], orders[n:]
        self.measure("GET", "/orders", 200, [(None, owner)] * n)
        self.measure(
            "GET",
            "/orders/{order_id}",
            200,
            [(None, owner)] * n,
            paths=[f"/orders/{o}" for o in to_activate],
        )
        self.measure(
            "POST",
            "/orders/{order_id}/cancel",
            200,
            [(None, owner)] * n,
            paths=[f"/orders/{o}/cancel" for o in to_cancel],
        )
        self.measure(
            "POST",
            "/orders/{order_id}/activate",
            202,
            [(None, owner)] * n,
            paths=[f"/orders/{o}/activate" for o in to_activate],
        )
        self.await_task_tokens(to_activate)
        self.measure(
            "POST",
            "/orders/{order_id}/resend",
            202,
            [({"party": "recipient"}, owner)] * n,
            paths=[f"/orders/{o}/resend" for o in to_activate],
        )
        links = self.cession_links()
        owner_links = [links[(o, "benchowner")] for o in to_activate]
        recipient_links = [links[(o, "benchrecipient")] for o in to_activate]
        self.measure("POST", "/cession/confirm", 200, [({"token": t}, None) for t in owner_links])
        self.measure(
            "POST", "/cession/decline", 200, [({"token": t}, None) for t in recipient_links]
        )

    def await_task_tokens(self, orders: list[str], seconds: float = 30) -> None:
        """Wait until each order's workflow waits for both confirmations (tokens stored)."""
        from clientarea.storage.orders import OrderModel

        deadline = time.monotonic() + seconds
        waiting = set(orders)
        while waiting:
            for order_id in list(waiting):
                item = OrderModel.get(order_id, consistent_read=True)
                if item.owner_task_token and item.recipient_task_token:
                    waiting.discard(order_id)
            if waiting and time.monotonic() > deadline:
                raise BenchError(f"{len(waiting)} cession workflows did not store their tokens")
            time.sleep(0.05)

    def cession_links(self) -> dict[tuple[str, str], str]:
        """(order id, login) -> the newest cession link token mailed for that order."""
        from clientarea.storage.orders import OrderModel

        from infra.local import mailbox

        self.d.queues.drain()
        by_domain = {}
        for order in OrderModel.scan():
            by_domain[order.domain] = order.order_id
        links: dict[tuple[str, str], str] = {}
        for mail in mailbox.messages():
            for link in mail["links"]:
                if "/cession#token=" not in link:
                    continue
                login = mail["to"].split("@", 1)[0]
                for domain, order_id in by_domain.items():
                    if domain in mail["subject"]:
                        links[(order_id, login)] = link.split("#token=", 1)[1]
        return links

    def full_cession(self) -> dict[str, Any]:
        """One cession from order to completion: its state transitions (Standard
        workflows bill per transition), the workflow's own AWS calls (its tasks) and
        those of the requests that drive it (order, activate, two confirmations)."""
        import boto3
        from clientarea.storage.orders import OrderModel

        owner = self.session("benchfullowner")
        recipient_login = self.provision("benchfullrecipient")
        recipient = self.call(
            "POST", "/auth/login", {"login": recipient_login, "password": PASSWORD}, 200
        )["session_token"]
        service = self.service_for(self.client_number(owner), "bench-full.example")
        body = {
            "recipient_login": recipient_login,
            "recipient_client_number": self.client_number(recipient),
        }
        request_calls: Counter[str] = Counter()
        every_call: list[Call] = []  # the requests' calls, the authorizer's included

        def step(method: str, path: str, payload: Any, expected: int, token: Any) -> Any:
            response, _, calls = self.send(method, path, payload, token, "192.0.2.9")
            if response.status != expected:
                raise BenchError(f"full cession {method} {path}: {response.status}")
            every_call.extend(c for c in calls if c.function is not None)
            for c in calls:
                if c.function not in (None, self.log.authorizer):
                    request_calls[c.operation] += 1
            return response.json() if response.body else None

        order_id = step("POST", f"/services/{service['service_id']}/cession", body, 201, owner)[
            "order_id"
        ]
        step("POST", f"/orders/{order_id}/activate", None, 202, owner)
        self.await_task_tokens([order_id])
        links = self.cession_links()
        step("POST", "/cession/confirm", {"token": links[(order_id, "benchfullowner")]}, 200, None)
        step(
            "POST",
            "/cession/confirm",
            {"token": links[(order_id, "benchfullrecipient")]},
            200,
            None,
        )
        sfn = boto3.client("stepfunctions", region_name="eu-central-1")
        arn = next(
            e["executionArn"]
            for machine in sfn.list_state_machines()["stateMachines"]
            for e in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
            if e["name"] == order_id
        )
        deadline = time.monotonic() + 30
        while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
            if time.monotonic() > deadline:
                raise BenchError("the full cession's execution did not finish")
            time.sleep(0.05)
        status = sfn.describe_execution(executionArn=arn)["status"]
        if status != "SUCCEEDED" or OrderModel.get(order_id).status != "completed":
            raise BenchError(f"the full cession ended {status}")
        events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        entered = [e for e in events if e["type"].endswith("StateEntered")]
        tasks = [e for e in events if e["type"] == "TaskScheduled"]
        return {
            "transitions": len(entered),
            "states": [e["stateEnteredEventDetails"]["name"] for e in entered],
            "workflow_calls": len(tasks),
            "request_calls": sum(request_calls.values()),
            "request_operations": dict(request_calls),
            "calls": every_call,
            "tasks": [
                {
                    "resource_type": e["taskScheduledEventDetails"]["resourceType"],
                    "resource": e["taskScheduledEventDetails"]["resource"],
                    "parameters": json.loads(e["taskScheduledEventDetails"]["parameters"]),
                }
                for e in tasks
            ],
        }

    def support(self) -> None:
        n = self.n
        client = self.session("benchsupport")
        staff = self.session("benchagent", role="support")
        ticket = {"department": "billing", "subject": "Invoice", "message": "Wrong VAT number."}
        opened = self.measure("POST", "/tickets", 201, [(ticket, client)] * (2 * n))
        numbers = [body["number"] for body in opened.bodies if body]
        if len(numbers) < 2 * n:
            raise BenchError("fewer tickets than requests")
        self.measure("GET", "/tickets", 200, [(None, client)] * n)
        self.measure(
            "GET",
            "/tickets/{number}",
            200,
            [(None, client)] * n,
            paths=[f"/tickets/{x}" for x in numbers[:n]],
        )
        self.measure(
            "POST",
            "/tickets/{number}/messages",
            201,
            [({"message": "More detail."}, client)] * n,
            paths=[f"/tickets/{x}/messages" for x in numbers[:n]],
        )
        self.measure("GET", "/staff/tickets", 200, [(None, staff)] * n)
        self.measure(
            "GET",
            "/staff/tickets/{number}",
            200,
            [(None, staff)] * n,
            paths=[f"/staff/tickets/{x}" for x in numbers[:n]],
        )
        self.measure(
            "POST",
            "/staff/tickets/{number}/messages",
            201,
            [({"message": "We are on it."}, staff)] * n,
            paths=[f"/staff/tickets/{x}/messages" for x in numbers[:n]],
        )
        number = self.client_number(client)
        self.measure(
            "GET",
            "/staff/clients/{client_number}/products",
            200,
            [(None, staff)] * n,
            paths=[f"/staff/clients/{number}/products"] * n,
        )
        self.measure(
            "POST",
            "/tickets/{number}/close",
            200,
            [(None, client)] * n,
            paths=[f"/tickets/{x}/close" for x in numbers[n:]],
        )
        self.measure(
            "POST",
            "/support/access-requests",
            201,
            [
                (
                    {
                        "full_name": "Bench Access",
                        "address": "1 Bench Street",
                        "phone": "+380 44 000 00 00",
                        "login_or_email": "benchsupport",
                        "message": "I lost my phone.",
                    },
                    None,
                )
            ]
            * n,
            block=3,
        )
        self.measure(
            "POST",
            "/support/sales-questions",
            201,
            [({"email": "buyer@example.org", "message": "A price, please?"}, None)] * n,
            block=4,
        )
        self.d.queues.drain()

    def recovery(self) -> None:
        n = self.n
        self.measure("GET", "/recovery/requirements", 200, [(None, None)] * n)
        self.measure(
            "GET",
            "/recovery/templates/{applicant_type}",
            200,
            [(None, None)] * n,
            paths=["/recovery/templates/individual"] * n,
        )
        self.provision("benchlost")
        application = {
            "account_hint": "benchlost",
            "applicant_type": "legal_entity",
            "full_name": "Olena Kovalenko",
            "phone": "+380 44 000 00 00",
            "channel": "post",
            "company_name": "Bench LLC",
            "company_code": "12345678",
        }
        created = self.measure(
            "POST",
            "/recovery/requests",
            201,
            [({**application, "new_email": f"bench-rec-{i}@example.org"}, None) for i in range(n)],
            block=5,
        )
        cases = [body for body in created.bodies if body]
        if len(cases) < n:
            raise BenchError("fewer recovery cases than requests")
        keys = [{"X-Recovery-Key": c["access_key"]} for c in cases]
        self.measure(
            "GET",
            "/recovery/requests/{reference}",
            200,
            [(None, None)] * n,
            paths=[f"/recovery/requests/{c['reference']}" for c in cases],
            headers=keys,
            block=6,
        )
        self.measure(
            "GET",
            "/recovery/requests/{reference}/application",
            200,
            [(None, None)] * n,
            paths=[f"/recovery/requests/{c['reference']}/application" for c in cases],
            headers=keys,
            block=7,
        )
        self.measure(
            "POST",
            "/recovery/requests/{reference}/submit",
            202,
            [(None, None)] * n,
            paths=[f"/recovery/requests/{c['reference']}/submit" for c in cases],
            headers=keys,
            block=8,
        )
        staff = self.session("benchreviewer", role="support")
        self.measure("GET", "/staff/recovery-requests", 200, [(None, staff)] * n)
        self.measure(
            "GET",
            "/staff/recovery-requests/{reference}",
            200,
            [(None, staff)] * n,
            paths=[f"/staff/recovery-requests/{c['reference']}" for c in cases],
        )
        self.measure(
            "POST",
            "/staff/recovery-requests/{reference}/decision",
            200,
            [({"decision": "reject", "reason": "The stamp is missing."}, staff)] * n,
            paths=[f"/staff/recovery-requests/{c['reference']}/decision" for c in cases],
        )
        self.d.queues.drain()

    def behind_the_queue(self) -> tuple[dict[str, dict[str, list[str]]], dict[str, list[Call]]]:
        """What a forgot request costs after the answer: worker and mailer calls (by
        function, and as the calls themselves)."""
        self.d.queues.drain()
        known = self.provision("benchworker")
        result, calls = {}, {}
        for variant, login in (("known login", known), ("unknown login", "nobody-at-all")):
            self.call("POST", "/password/forgot", {"login": login}, 202)
            self.log.take()
            self.d.queues.drain()
            by_function: dict[str, list[str]] = {}
            made = [c for c in self.log.take() if c.function is not None]
            for c in made:
                by_function.setdefault(c.function, []).append(c.operation)
            result[variant], calls[variant] = by_function, made
        return result, calls


def _warm_up(deployment: Any) -> None:
    """Import every handler first, so no route's first request pays a cold start."""
    from infra.local.lambdas import SERVICE

    SERVICE.warm(list(deployment.stack.functions().values()))


def run(iterations: int, progress: Callable[[str], None]) -> RouteReport:
    for path in (ROOT, ROOT / "layers" / "clientarea"):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    from moto import mock_aws

    from infra.local.deployment import MOTO_CONFIG, LocalDeployment

    log = CallLog()
    captured = io.StringIO()  # the functions' JSON logs, metrics and warnings
    with (
        mock_aws(config=MOTO_CONFIG),
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
            background, background_calls = scenario.behind_the_queue()
            progress("contact email")
            scenario.contact_email()
            scenario.staff_me()
            progress("cession")
            scenario.cession()
            full_cession = scenario.full_cession()
            progress("support")
            scenario.support()
            progress("recovery")
            scenario.recovery()
        except BenchError:
            sys.stderr.write(captured.getvalue()[-4000:])
            raise
    return RouteReport(
        scenario.measured, background, full_cession, captured.getvalue(), background_calls
    )
