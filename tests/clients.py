"""Two ways to reach the API with one interface, so a flow test can run both through
the handlers in-process (moto in the test process) and over HTTP against the dev server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

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


def _encode(payload: Any, raw: bytes | None) -> bytes | None:
    if raw is not None:
        return raw
    return None if payload is None else json.dumps(payload).encode()


def _headers(token: str | None, headers: dict[str, str] | None, has_body: bool) -> dict[str, str]:
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
        raise NotImplementedError

    def mails(self, to: str, *, count: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
        raise NotImplementedError

    def all_mails(self) -> list[dict[str, Any]]:
        raise NotImplementedError

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
        deadline = time.monotonic() + 10
        while True:
            mails = [m for m in self.mails(to, count=count) if subject_contains in m["subject"]]
            if len(mails) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert mails, f"no mail to {to} with {subject_contains!r}"
        links = [link for link in mails[-1]["links"] if "#token=" in link]
        assert links, f"mail to {to} carries no link: {mails[-1]['text']}"
        return links[0].split("#token=", 1)[1]


class InProcessClient(ApiClient):
    transport = "handler"

    def __init__(self, deployment: Any) -> None:
        self.deployment = deployment

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
        body = _encode(json, raw)
        response = self.deployment.api.handle(
            method, path, _headers(token, headers, body is not None), body, ip
        )
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
        from chalice.local import LambdaContext

        route = self._routes[(method, path)]
        assert not route.authorized, "the authorizer's context is the gateway's to add"
        body = _encode(json, raw)
        sent = _headers(token, headers, body is not None)
        event = {
            "resource": path,
            "path": path,
            "httpMethod": method,
            "headers": sent,
            "multiValueHeaders": {k: [v] for k, v in sent.items()},
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
        body = _encode(json, raw)
        response = self.session.request(
            method,
            self.base_url + path,
            data=body,
            headers=_headers(token, headers, body is not None),
            timeout=30,
        )
        return Reply(response.status_code, dict(response.headers), response.content)

    def all_mails(self) -> list[dict[str, Any]]:
        return self.session.get(self.base_url + "/_dev/mail", timeout=30).json()

    def mails(self, to: str, *, count: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.session.get(
                self.base_url + "/_dev/mail", params={"to": to}, timeout=30
            ).json()
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def set_clock(self, **change: Any) -> datetime:
        reply = self.session.post(self.base_url + "/_dev/clock", json=change, timeout=30)
        assert reply.status_code == 200, reply.text
        return _parse_now(reply.json()["now"])


def _parse_now(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
