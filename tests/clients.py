"""Two ways to reach the API with one interface, so a flow test can run both through
the handlers in-process (moto in the test process) and over HTTP against the dev server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from tests.support.waiting import wait_until

TEST_IP = "203.0.113.7"


@dataclass
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


def encode_body(payload: Any, raw: bytes | None) -> bytes | None:
    if raw is not None:
        return raw
    return None if payload is None else json.dumps(payload).encode()


def request_headers(
    token: str | None, headers: dict[str, str] | None, has_body: bool
) -> dict[str, str]:
    result = {"Content-Type": "application/json"} if has_body else {}
    if token:
        result["Authorization"] = f"Bearer {token}"
    result.update(headers or {})
    return result


class ApiClient:
    """What every test client offers."""

    transport = "abstract"

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        raw: bytes | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        ip: str = TEST_IP,
    ) -> Reply:
        body = encode_body(json, raw)
        return self.send(method, path, body, request_headers(token, headers, body is not None), ip)

    def send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str], ip: str
    ) -> Reply:
        """One request as it goes out: its body and all its headers made."""
        raise NotImplementedError

    def mails(self, to: str, *, count: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
        raise NotImplementedError

    def all_mails(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def drain_queues(self) -> None:
        """Run the queue consumers until every queue is empty: what the requests so far
        will mail has then been sent (the way to wait for an absence)."""
        raise NotImplementedError

    def settled_mails(self, to: str) -> list[dict[str, Any]]:
        """Every mail to `to`, once nothing is left in the queues to send."""
        self.drain_queues()
        return self.mails(to, timeout=0)

    def mails_about(
        self, to: str, subject_contains: str = "", *, count: int = 1, timeout: float = 10
    ) -> list[dict[str, Any]]:
        """The mails to `to` whose subject contains the text, once there are `count` of
        them (over HTTP the mailer is asynchronous); an AssertionError after `timeout`."""

        def enough() -> list[dict[str, Any]] | None:
            found = [m for m in self.mails(to, timeout=0) if subject_contains in m["subject"]]
            return found if len(found) >= count else None

        return wait_until(
            enough,
            timeout=timeout,
            message=f"fewer than {count} mail(s) to {to} about {subject_contains!r}",
        )

    def set_clock(self, **change: Any) -> datetime:
        """POST /_dev/clock with `advance_seconds` and/or `freeze`; the server's new "now"."""
        raise NotImplementedError

    def advance_clock(self, seconds: float) -> datetime:
        """Move every function's clock forward; returns the server's new "now"."""
        return self.set_clock(advance_seconds=seconds)

    @contextmanager
    def frozen_clock(self) -> Iterator[datetime]:
        """Stop the functions' clock, so that a boundary holds however slow the path is."""
        try:
            yield self.set_clock(freeze=True)
        finally:
            self.set_clock(freeze=False)

    def server_now(self) -> datetime:
        """The functions' clock (tests on the shared dev server may have moved it)."""
        return self.advance_clock(0)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Reply:
        return self.request("POST", path, json=json, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> Reply:
        return self.request("PATCH", path, json=json, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> Reply:
        return self.request("PUT", path, json=json, **kwargs)

    def mail_link_token(self, to: str, *, subject_contains: str = "", count: int = 1) -> str:
        """The token of the newest mail to `to` whose subject contains the text."""
        newest = self.mails_about(to, subject_contains, count=count)[-1]
        links = [link for link in newest["links"] if "#token=" in link]
        assert links, f"mail to {to} carries no link: {newest['text']}"
        return links[0].split("#token=", 1)[1]


class InProcessClient(ApiClient):
    """The handlers in-process, through the emulated gateway. After each request the
    queues are drained (their consumers ran before the answer is looked at), unless
    `drain=False`: then a test drains them itself (`deployment.queues.drain()`), e.g.
    outside a fault it injected for the request alone."""

    transport = "handler"

    def __init__(self, deployment: Any, *, drain: bool = True) -> None:
        self.deployment = deployment
        self.drain = drain

    def send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str], ip: str
    ) -> Reply:
        response = self.deployment.api.handle(method, path, headers, body, ip)
        if self.drain:
            self.deployment.queues.drain()
        return Reply(response.status, response.headers, response.body)

    def all_mails(self) -> list[dict[str, Any]]:
        from infra.local import mailbox

        self.deployment.queues.drain()
        return mailbox.messages()

    def mails(self, to: str, *, count: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
        from infra.local import mailbox

        self.deployment.queues.drain()
        return mailbox.messages(to)

    def drain_queues(self) -> None:
        self.deployment.queues.drain()

    def set_clock(self, **change: Any) -> datetime:
        from infra.local.server import dev_route

        reply = dev_route("POST", "/_dev/clock", json.dumps(change).encode())
        assert reply is not None and reply.status == 200
        return _parse_now(reply.json()["now"])


class DirectClient(ApiClient):
    """Calls a function's handler itself with a hand-made API Gateway proxy event: no
    emulated gateway, no execution environment, nothing but the handler's own answer
    (what API Gateway would pass through unchanged). Public routes with fixed paths only."""

    transport = "direct"

    def __init__(self, deployment: Any) -> None:
        self.deployment = deployment
        self._modules: dict[str, Any] = {}
        self._routes = {(r.method, r.path): r for r in deployment.stack.routes(preflight=True)}

    def _handler(self, function: str) -> Any:
        from infra.local.lambdas import load_module

        if function not in self._modules:
            spec = self.deployment.stack.functions()[function]
            self._modules[function] = load_module(spec, f"tests_direct.{function}")
        return self._modules[function].lambda_handler

    def send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str], ip: str
    ) -> Reply:
        from chalice.local import LambdaContext

        route = self._routes[(method, path)]
        assert not route.authorized, "the authorizer's context is the gateway's to add"
        event = {
            "resource": path,
            "path": path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": None,
            "multiValueQueryStringParameters": None,
            "pathParameters": None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": path,
                "httpMethod": method,
                "path": f"/api{path}",
                "stage": "api",
                "requestId": "direct",
                "identity": {"sourceIp": ip},
            },
            "body": None if body is None else body.decode(),
            "isBase64Encoded": False,
        }
        context = LambdaContext(route.function, 1024, 10_000)
        arn = f"arn:aws:lambda:eu-central-1:123456789012:function:{route.function}"
        context.invoked_function_arn = arn
        result = self._handler(route.function)(event, context)
        self.deployment.queues.drain()
        answer = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            answer[name] = ", ".join(values)
        return Reply(result["statusCode"], answer, (result.get("body") or "").encode())


class HttpClient(ApiClient):
    transport = "http"

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str], ip: str
    ) -> Reply:
        # The client's address is the machine's: a dev server cannot be told another.
        response = self.session.request(
            method, self.base_url + path, data=body, headers=headers, timeout=30
        )
        return Reply(response.status_code, dict(response.headers), response.content)

    def all_mails(self) -> list[dict[str, Any]]:
        return self.session.get(self.base_url + "/_dev/mail", timeout=30).json()

    def mails(self, to: str, *, count: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
        """The mails to `to`, once there are `count` or `timeout` seconds passed."""
        found: list[dict[str, Any]] = []

        def enough() -> bool:
            found[:] = self.session.get(
                self.base_url + "/_dev/mail", params={"to": to}, timeout=30
            ).json()
            return len(found) >= count

        with suppress(AssertionError):
            wait_until(enough, timeout=timeout)
        return found

    def drain_queues(self) -> None:
        reply = self.session.post(self.base_url + "/_dev/queues/drain", timeout=60)
        assert reply.status_code == 200, reply.text

    def set_clock(self, **change: Any) -> datetime:
        reply = self.session.post(self.base_url + "/_dev/clock", json=change, timeout=30)
        assert reply.status_code == 200, reply.text
        return _parse_now(reply.json()["now"])


def _parse_now(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
