"""`make dev`'s web-client listener (infra/local/frontend.py): what CloudFront does with
the template's WebClientDistribution, nothing more."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from infra.local.frontend import make_frontend_server, security_headers
from infra.local.stack import load
from tests.conftest import _free_port

API = "http://127.0.0.1:3999"
UPLOADS = "http://127.0.0.1:4999"


@pytest.fixture
def web(tmp_path: Path) -> Iterator[str]:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text('<!doctype html><div id="app"></div>')
    (dist / "assets" / "index-abc.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("outside the dist folder")
    url = f"http://127.0.0.1:{_free_port()}"
    server = make_frontend_server(url, api_url=f"{API}/", upload_origin=UPLOADS, dist=dist)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    server.server_close()


def test_headers_are_the_templates_response_headers_policy(web: str) -> None:
    policy = load().resources["WebClientHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    reply = requests.get(f"{web}/", timeout=5)
    csp = reply.headers["Content-Security-Policy"]
    template_csp = policy["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    expected = (
        template_csp["Fn::Sub"][0]
        .replace("${ApiOrigins}", API)
        .replace("${UploadOrigins}", UPLOADS)
    )
    assert csp == expected
    assert reply.headers["Referrer-Policy"] == "no-referrer"
    assert reply.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
    for item in policy["CustomHeadersConfig"]["Items"]:
        assert reply.headers[item["Header"]] == item["Value"]
    assert (
        security_headers({"ApiOrigins": API, "UploadOrigins": UPLOADS}).items()
        <= reply.headers.items()
    )


def test_client_routes_get_the_app_and_files_their_own_type(web: str) -> None:
    for path in ("/reset-password", "/tickets/TKT-100-001", "/assets/missing.js"):
        reply = requests.get(f"{web}{path}", timeout=5)
        assert reply.status_code == 200 and '<div id="app">' in reply.text
        assert reply.headers["Cache-Control"] == "no-cache"
    script = requests.get(f"{web}/assets/index-abc.js", timeout=5)
    assert script.headers["Content-Type"].startswith("text/javascript")
    assert "immutable" in script.headers["Cache-Control"]


def test_nothing_outside_the_dist_folder_is_served(web: str) -> None:
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt"):
        reply = requests.get(f"{web}{path}", timeout=5)
        assert "outside the dist folder" not in reply.text


def test_config_names_the_api(web: str) -> None:
    reply = requests.get(f"{web}/config.json", timeout=5)
    assert reply.json() == {"api_url": f"{API}/"}
    assert reply.headers["Cache-Control"] == "no-store"
