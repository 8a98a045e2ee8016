"""The local HTTP API (`make dev`): the template's API on 127.0.0.1, plus /_dev/*."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from clientarea import clock

from infra.local import mailbox
from infra.local.gateway import HttpResponse, Trace
from infra.local.stack import ROOT

if TYPE_CHECKING:
    from infra.local.gateway import LocalApi
    from infra.local.queues import QueueConsumers

logger = logging.getLogger("infra.local")  # not under "clientarea": Powertools owns that logger
MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
OPENAPI = ROOT / "docs" / "openapi.json"

# Swagger UI from a Python package (swagger-ui-bundle-v2), so the docs work offline.
SWAGGER_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>clientarea API</title>
<link rel="icon" type="image/png" href="/_dev/docs/favicon-32x32.png">
<link rel="stylesheet" href="/_dev/docs/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/_dev/docs/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/_dev/openapi.json", dom_id: "#ui"});</script>
</body></html>"""
SWAGGER_ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
# What a page on an allowed dev origin may do with /_dev/* (read the mailbox, move the
# clock, drop inbound mail): the dev server's own routes, so its own CORS.
DEV_METHODS = "GET, POST"
DEV_REQUEST_HEADERS = "Content-Type"


def _json(status: int, body: Any) -> HttpResponse:
    return HttpResponse(status, {"Content-Type": "application/json"}, json.dumps(body).encode())


def dev_route(method: str, path: str, body: bytes | None) -> HttpResponse | None:
    """The /_dev/* routes, which exist only here and are never deployed."""
    route = (method, path.split("?", 1)[0].rstrip("/"))
    if route == ("GET", "/_dev/mail"):
        to = parse_qs(urlsplit(path).query).get("to", [None])[-1]
        return _json(200, mailbox.messages(to))
    if route == ("POST", "/_dev/clock"):
        return _advance_clock(body)
    if route == ("POST", "/_dev/services"):
        return _provision_service(body)
    if route == ("POST", "/_dev/inbound-mail"):
        return _inbound_mail(path, body)
    if route == ("POST", "/_dev/ses-feedback"):
        return _ses_feedback(body)
    if route == ("GET", "/_dev/docs"):
        return HttpResponse(
            200, {"Content-Type": "text/html; charset=utf-8"}, SWAGGER_PAGE.encode()
        )
    if route[0] == "GET" and route[1].startswith("/_dev/docs/"):
        return _swagger_asset(route[1].removeprefix("/_dev/docs/"))
    if route == ("GET", "/_dev/openapi.json"):
        document = OPENAPI.read_bytes() if OPENAPI.exists() else b"{}"
        return HttpResponse(200, {"Content-Type": "application/json"}, document)
    return None


def _swagger_asset(name: str) -> HttpResponse:
    """One of Swagger UI's files (a fixed list: nothing else of the disk is served)."""
    if name not in SWAGGER_ASSETS:
        return _json(404, {"code": "not_found", "message": "No such dev route."})
    from swagger_ui_bundle import swagger_ui_path  # noqa: PLC0415 - a dev-only package

    content = (swagger_ui_path / name).read_bytes()
    return HttpResponse(200, {"Content-Type": SWAGGER_ASSETS[name]}, content)


def dev_cors(origins: tuple[str, ...], method: str, headers: dict[str, str]) -> dict[str, str]:
    """CORS for /_dev/*, for the dev origins only (a frontend reads the mailbox)."""
    origin = next((v for k, v in headers.items() if k.lower() == "origin"), None)
    if origin not in origins:
        return {"Vary": "Origin"}
    allowed = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    if method == "OPTIONS":
        allowed.update(
            {
                "Access-Control-Allow-Methods": DEV_METHODS,
                "Access-Control-Allow-Headers": DEV_REQUEST_HEADERS,
                "Access-Control-Max-Age": "600",
            }
        )
    return allowed


def _advance_clock(body: bytes | None) -> HttpResponse:
    """`{advance_seconds?, freeze?}`: move every function's clock forward and/or stop or
    restart it. Unfreezing resumes from the frozen instant, so time never runs back."""
    try:
        request = json.loads(body or b"{}")
        seconds = float(request.get("advance_seconds", 0))
        freeze = request.get("freeze")
        if not {"advance_seconds", "freeze"} & request.keys() or freeze not in (None, True, False):
            raise ValueError
    except (ValueError, AttributeError, TypeError):
        return _json(
            422,
            {
                "code": "validation_error",
                "message": "advance_seconds (a number) or freeze (true or false) is required",
                "errors": [
                    {"loc": ["body", "advance_seconds"], "msg": "required", "type": "missing"}
                ],
            },
        )
    if seconds < 0:
        return _json(
            422,
            {"code": "validation_error", "message": "the clock only moves forward", "errors": []},
        )
    offset = float(os.environ.get(clock.OFFSET_ENV, "0")) + seconds
    frozen_at = os.environ.get(clock.FROZEN_ENV)
    if freeze is True and frozen_at is None:
        os.environ[clock.FROZEN_ENV] = str(time.time())
    elif freeze is False and frozen_at is not None:
        offset += float(frozen_at) - time.time()
        del os.environ[clock.FROZEN_ENV]
    os.environ[clock.OFFSET_ENV] = str(offset)
    return _json(
        200,
        {
            "now": clock.iso(clock.now()),
            "offset_seconds": offset,
            "frozen": clock.FROZEN_ENV in os.environ,
        },
    )


def _provision_service(body: bytes | None) -> HttpResponse:
    """Give an account a service (what billing does when a plan is bought), so that
    cessions and the staff product view can be tried: `{client_number, product, domain}`."""
    from clientarea import services  # noqa: PLC0415 - after the deployment's environment

    try:
        data = json.loads(body or b"{}")
        service = services.provision(
            owner_client_number=int(data["client_number"]),
            product=str(data.get("product") or "Hosting Pro"),
            domain=str(data["domain"]),
        )
    except (ValueError, KeyError, TypeError):
        return _json(
            422,
            {
                "code": "validation_error",
                "message": "client_number (a number) and domain are required",
                "errors": [],
            },
        )
    return _json(201, {**service.as_dict(), "client_number": service.owner_client_number})


def _inbound_mail(path: str, body: bytes | None) -> HttpResponse:
    """Drop a raw .eml into the intake as SES would: `?to=support|sales|<address>`
    and SES verdicts `?spf=&dkim=&dmarc=&spam=&virus=` (PASS by default),
    `?mail_from=` for the envelope sender (the From address by default)."""
    from infra.local import inbound  # noqa: PLC0415 - after the deployment's environment

    query = parse_qs(urlsplit(path).query)

    def one(name: str) -> str | None:
        return query[name][-1] if name in query else None

    verdicts = {name: (one(name) or "PASS").upper() for name in inbound.VERDICTS}
    bad = [name for name, value in verdicts.items() if value not in inbound.STATUSES]
    if not body or bad:
        return _json(
            422,
            {
                "code": "validation_error",
                "message": "a raw RFC 5322 message as the body; verdicts PASS, FAIL, GRAY "
                "or PROCESSING_FAILED",
                "errors": [
                    {"loc": ["query", name], "msg": "invalid", "type": "enum"} for name in bad
                ],
            },
        )
    to = one("to") or "support"
    address = {"support": os.environ["SUPPORT_ADDRESS"], "sales": os.environ["SALES_ADDRESS"]}
    outcome = inbound.deliver(
        body, to=address.get(to, to), verdicts=verdicts, mail_from=one("mail_from")
    )
    return _json(200, outcome)


def _ses_feedback(body: bytes | None) -> HttpResponse:
    """What SES publishes when a mail to `email` bounces or draws a complaint:
    `{email, type: bounce|suppressionlist|complaint|transient}` (202; the bounces
    function picks it up from its queue like any other)."""
    from infra.local import ses_feedback  # noqa: PLC0415

    try:
        data = json.loads(body or b"{}")
        email, kind = str(data["email"]), str(data.get("type") or "bounce")
        if "@" not in email or kind not in ses_feedback.SCENARIOS:
            raise ValueError
    except (ValueError, KeyError, TypeError, AttributeError):
        return _json(
            422,
            {
                "code": "validation_error",
                "message": "email, and type: " + ", ".join(ses_feedback.SCENARIOS),
                "errors": [],
            },
        )
    configuration_set = os.environ["MAIL_CONFIGURATION_SET"]
    record = ses_feedback.event_record(
        kind, email, source=os.environ["SENDER_ADDRESS"], configuration_set=configuration_set
    )
    published = ses_feedback.publish(configuration_set, record)
    return _json(202, {"event_type": record["eventType"], "published": published})


def access_line(method: str, path: str, status: int, ms: float, trace: Trace | None) -> str:
    """`200 GET /account 21 ms  AccountsFunction warm aws=1 | authorizer ...`"""
    line = f"{status} {method} {path} {ms:.0f} ms"
    if trace is None:
        return f"{line}  dev"
    served = []
    for invocation in reversed(trace.invocations):  # the route's function first
        state = f"cold (init {invocation.init_ms:.0f} ms)" if invocation.cold else "warm"
        error = invocation.error
        outcome = (
            " TIMED OUT"
            if invocation.timed_out
            else ""
            if error is None
            else " Unauthorized"
            if str(error) == "Unauthorized"
            else f" raised {type(error).__name__}"
        )
        served.append(f"{invocation.function} {state} aws={invocation.aws_calls}{outcome}")
    if trace.gateway_response is not None:
        served.insert(0, f"gateway {trace.gateway_response}")
    return f"{line}  {' | '.join(served)}"


class DevRequestHandler(BaseHTTPRequestHandler):
    """Every request goes to /_dev/* or through the emulated API Gateway."""

    api: LocalApi  # bound by make_server
    dev_origins: tuple[str, ...] = ()  # bound by make_server
    queues: QueueConsumers | None = None  # bound by make_server (`make dev`'s consumers)
    server_version = "clientarea-dev"
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        started = time.perf_counter()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if 0 < length <= MAX_BODY else None
        headers = dict(self.headers.items())
        try:
            if length > MAX_BODY:  # API Gateway's REQUEST_TOO_LARGE, before any route
                response = self.api.gateway_response("REQUEST_TOO_LARGE", headers)
                self.close_connection = True
            elif self.path.startswith("/_dev/"):
                response = self._dev(headers, body)
            else:
                response = self.api.handle(
                    self.command, self.path, headers, body, self.client_address[0]
                )
        except Exception:
            logger.exception("request failed")
            response = _json(500, {"code": "internal_error", "message": "Something went wrong."})
        self._send(response)
        elapsed = (time.perf_counter() - started) * 1000
        logger.info(access_line(self.command, self.path, response.status, elapsed, response.trace))

    def _dev(self, headers: dict[str, str], body: bytes | None) -> HttpResponse:
        cors = dev_cors(self.dev_origins, self.command, headers)
        if self.command == "OPTIONS":
            response = HttpResponse(204)
        elif (self.command, self.path) == ("POST", "/_dev/queues/drain") and self.queues:
            # What the queue consumers have still to do, done before the answer: a test
            # that expects no mail looks after this instead of sleeping.
            self.queues.drain()
            response = _json(200, {})
        else:
            response = dev_route(self.command, self.path, body) or _json(
                404, {"code": "not_found", "message": "No such dev route."}
            )
        response.headers.update(cors)
        return response

    def _send(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            if name.lower() not in {"content-length", "connection"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def __getattr__(self, name: str) -> Any:
        # Every method, including TRACE or made-up ones, reaches the gateway, which
        # answers what API Gateway answers rather than the stdlib's 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        """The stdlib's own lines (malformed requests): one access line per request is ours."""
        logger.debug("%s %s", self.address_string(), format % args)


class DevServer(ThreadingHTTPServer):
    daemon_threads = True
    # Many browsers' and tests' connections at once: the stdlib's backlog of 5 would make
    # the kernel drop connection attempts (each one costing its client a 1 s retry).
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up is not news; anything else is logged once, with its trace."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            logger.debug("%s hung up", client_address[0])
        else:
            logger.exception("request from %s failed", client_address[0])


def make_server(
    api: LocalApi,
    host: str,
    port: int,
    *,
    dev_origins: tuple[str, ...] = (),
    queues: QueueConsumers | None = None,
) -> DevServer:
    bound = {"api": api, "dev_origins": dev_origins, "queues": queues}
    handler = type("BoundDevRequestHandler", (DevRequestHandler,), bound)
    return DevServer((host, port), handler)
