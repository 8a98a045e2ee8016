"""The local HTTP API (`make dev`): the template's API on 127.0.0.1, plus /_dev/*."""

from __future__ import annotations

import json
import logging
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from clientarea import clock

from infra.local import mailbox
from infra.local.gateway import HttpResponse
from infra.local.stack import ROOT

if TYPE_CHECKING:
    from infra.local.gateway import LocalApi

logger = logging.getLogger("clientarea.local")
MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
OPENAPI = ROOT / "docs" / "openapi.json"

SWAGGER_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>clientarea API</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/_dev/openapi.json", dom_id: "#ui"});</script>
</body></html>"""


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
    if route == ("GET", "/_dev/openapi.json"):
        document = OPENAPI.read_bytes() if OPENAPI.exists() else b"{}"
        return HttpResponse(200, {"Content-Type": "application/json"}, document)
    if path.startswith("/_dev/"):
        return _json(404, {"code": "not_found", "message": "No such dev route."})
    return None


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


class DevRequestHandler(BaseHTTPRequestHandler):
    """Every request goes to /_dev/* or through the emulated API Gateway."""

    api: LocalApi  # bound by make_server
    server_version = "clientarea-dev"
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(_json(413, {"code": "payload_too_large", "message": "Body too large."}))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else None
        try:
            response = dev_route(self.command, self.path, body) or self.api.handle(
                self.command, self.path, dict(self.headers.items()), body, self.client_address[0]
            )
        except Exception:
            logger.exception("request failed")
            response = _json(500, {"code": "internal_error", "message": "Something went wrong."})
        self._send(response)

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
        # answers 405 with Allow rather than the stdlib's 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s %s", self.address_string(), format % args)


def make_server(api: LocalApi, host: str, port: int) -> ThreadingHTTPServer:
    handler = type("BoundDevRequestHandler", (DevRequestHandler,), {"api": api})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
