"""`make dev`'s second listener: the reference web client (web/dist) on its own origin.

It does what the template's hosting does (`WebClientDistribution`): files from the
bucket, `index.html` for any path that is not a file (CloudFront's custom error
responses), and on every answer the headers of `WebClientHeadersPolicy`, read from
template.yaml itself so that development and production cannot drift. The CSP's
`${ApiOrigins}` and `${UploadOrigins}` become the local API and S3 (moto) origins.
`/config.json` (where the API is) is written here; a deployment uploads its own.
"""

from __future__ import annotations

import json
import logging
import mimetypes
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from infra.local import stack as stack_module
from infra.local.stack import ROOT

logger = logging.getLogger("clientarea.local.frontend")
DIST = ROOT / "web" / "dist"
HEADERS_POLICY = "WebClientHeadersPolicy"


def _sub(spec: Any, variables: dict[str, str]) -> str:
    """An `Fn::Sub` of the headers policy, its own variables replaced by local values."""
    if isinstance(spec, dict) and "Fn::Sub" in spec:
        spec = spec["Fn::Sub"]
    text = spec if isinstance(spec, str) else spec[0]
    for name, value in variables.items():
        text = text.replace("${" + name + "}", value)
    if "${" in text:
        raise ValueError(f"unresolved variable in the headers policy: {text}")
    return text


def security_headers(variables: dict[str, str]) -> dict[str, str]:
    """The HTTP headers `WebClientHeadersPolicy` (an AWS::CloudFront::ResponseHeadersPolicy)
    makes CloudFront add to every answer, as a browser receives them."""
    config = stack_module.load().resources[HEADERS_POLICY]["Properties"][
        "ResponseHeadersPolicyConfig"
    ]
    security = config.get("SecurityHeadersConfig", {})
    headers: dict[str, str] = {}
    if "ContentSecurityPolicy" in security:
        csp = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
        headers["Content-Security-Policy"] = _sub(csp, variables)
    if "StrictTransportSecurity" in security:
        hsts = security["StrictTransportSecurity"]
        value = f"max-age={int(hsts['AccessControlMaxAgeSec'])}"
        if hsts.get("IncludeSubdomains"):
            value += "; includeSubDomains"
        if hsts.get("Preload"):
            value += "; preload"
        headers["Strict-Transport-Security"] = value
    if "ReferrerPolicy" in security:
        headers["Referrer-Policy"] = security["ReferrerPolicy"]["ReferrerPolicy"]
    if "ContentTypeOptions" in security:
        headers["X-Content-Type-Options"] = "nosniff"
    if "FrameOptions" in security:
        headers["X-Frame-Options"] = security["FrameOptions"]["FrameOption"]
    for item in config.get("CustomHeadersConfig", {}).get("Items", []):
        headers[item["Header"]] = item["Value"]
    return headers


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class FrontendHandler(SimpleHTTPRequestHandler):
    """Static files with the policy's headers; index.html for client routes."""

    headers_to_send: dict[str, str]
    config_json: bytes
    server_version = "clientarea-web"

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/config.json":
            self._send_bytes(self.config_json, "application/json", cache="no-store")
            return
        file = self._file(path)
        # Vite's hashed files never change; anything else is looked up each time.
        immutable = file is not None and file.parent.name == "assets"
        if file is None:
            # A client route (/reset-password, /tickets/TKT-…): the app, as CloudFront's
            # custom error response answers a missing key (403 from a private bucket).
            file = Path(self.directory) / "index.html"
        self._send_bytes(
            file.read_bytes(),
            mimetypes.guess_type(file.name)[0] or "application/octet-stream",
            cache="public, max-age=31536000, immutable" if immutable else "no-cache",
        )

    def do_HEAD(self) -> None:
        self.do_GET()

    def _file(self, path: str) -> Path | None:
        root = Path(self.directory).resolve()
        candidate = (root / unquote(path).lstrip("/")).resolve()
        if root not in candidate.parents or not candidate.is_file():
            return None
        return candidate

    def _send_bytes(self, body: bytes, content_type: str, *, cache: str) -> None:
        self.send_response(200)
        if content_type.startswith("text/") or content_type == "application/json":
            content_type += "; charset=utf-8"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        for name, value in self.headers_to_send.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


def make_frontend_server(
    frontend_url: str, api_url: str, upload_origin: str, dist: Path = DIST
) -> ThreadingHTTPServer:
    """A listener at `frontend_url`'s host and port serving `dist`."""
    if not (dist / "index.html").is_file():
        raise FileNotFoundError(f"{dist}/index.html is missing: run `make web` first")
    parts = urlsplit(frontend_url)
    headers = security_headers({"ApiOrigins": origin_of(api_url), "UploadOrigins": upload_origin})
    handler = type(
        "BoundFrontendHandler",
        (FrontendHandler,),
        {
            "headers_to_send": headers,
            "config_json": json.dumps({"api_url": api_url}).encode(),
        },
    )
    server = ThreadingHTTPServer(
        (parts.hostname or "127.0.0.1", parts.port or 80), partial(handler, directory=str(dist))
    )
    server.daemon_threads = True
    return server
