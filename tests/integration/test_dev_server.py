"""`make dev` as a person uses it: a log that says what answered, and docs offline."""

from __future__ import annotations

import re

import pytest
import requests

from infra.local.server import access_line
from tests.conftest import running_dev_server
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration]

ACCESS = re.compile(
    r"^\d\d:\d\d:\d\d (?P<status>\d{3}) (?P<method>[A-Z]+) (?P<path>\S+) \d+ ms  (?P<who>.+)$"
)


@pytest.fixture(scope="module")
def logged_server(tmp_path_factory: pytest.TempPathFactory):
    """A dev server with its access log on (the session's runs --quiet)."""
    log_dir = tmp_path_factory.mktemp("logged-server")
    with running_dev_server(log_dir, quiet=False) as url:
        yield url, log_dir / "server.log"


def _access_lines(log: str) -> list[re.Match[str]]:
    return [m for m in map(ACCESS.match, log.splitlines()) if m]


def test_each_request_gets_one_line_saying_what_answered_and_nothing_else_is_noise(
    logged_server,
):
    url, log_file = logged_server
    before = len(_access_lines(log_file.read_text()))
    # WHEN a person tries a few routes
    login = {"login": "demo", "password": "clientarea-dev-password"}
    token = requests.post(f"{url}/auth/login", json=login, timeout=30).json()["session_token"]
    requests.get(f"{url}/account", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    requests.get(f"{url}/account", timeout=30)
    requests.get(f"{url}/no/such/route", timeout=30)
    requests.get(f"{url}/_dev/mail", timeout=30)
    # THEN the log has one line per request (once written): status, route, and who answered how
    wait_until(lambda: len(_access_lines(log_file.read_text())) >= before + 5, timeout=5)
    log = log_file.read_text()
    lines = [m.groupdict() for m in _access_lines(log)[before:]]
    # (a line of an earlier request, written after `before` was counted, may come first)
    first = next(i for i, line in enumerate(lines) if line["path"] == "/auth/login")
    lines = lines[first:]
    assert [(line["status"], line["method"], line["path"]) for line in lines] == [
        ("200", "POST", "/auth/login"),
        ("200", "GET", "/account"),
        ("401", "GET", "/account"),
        ("404", "GET", "/no/such/route"),
        ("200", "GET", "/_dev/mail"),
    ]
    login_line, account, refused, unknown, mail = (line["who"] for line in lines)
    assert re.fullmatch(r"AccountsFunction (cold \(init \d+ ms\)|warm) aws=\d+", login_line)
    assert re.fullmatch(
        r"AccountsFunction warm aws=1 \| AuthorizerFunction (cold \(init \d+ ms\)|warm) aws=1",
        account,
    )
    assert refused == "gateway UNAUTHORIZED"
    assert unknown == "gateway MISSING_AUTHENTICATION_TOKEN"
    assert mail == "dev"
    # AND none of moto's or botocore's own chatter
    assert '"POST / HTTP/1.1"' not in log
    assert "Found credentials" not in log
    assert "No application metrics" not in log


def test_the_docs_work_offline(logged_server):
    url, _ = logged_server
    page = requests.get(f"{url}/_dev/docs", timeout=30)
    assert page.status_code == 200
    # Every asset the page loads is the dev server's own: no CDN
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(asset.startswith("/_dev/") for asset in assets), assets
    for asset in assets:
        reply = requests.get(url + asset, timeout=30)
        assert reply.status_code == 200 and len(reply.content) > 100, asset
    # AND nothing else of the disk is served
    assert requests.get(f"{url}/_dev/docs/../../README.md", timeout=30).status_code == 404
    assert requests.get(f"{url}/_dev/docs/index.html", timeout=30).status_code == 404


def test_an_access_line_names_a_timed_out_function():
    from infra.local.gateway import Trace
    from infra.local.lambdas import Invocation

    trace = Trace(
        "AccountsFunction", "DEFAULT_5XX", [Invocation("AccountsFunction", timed_out=True)]
    )
    assert access_line("POST", "/auth/login", 502, 10_000, trace) == (
        "502 POST /auth/login 10000 ms  gateway DEFAULT_5XX | AccountsFunction warm aws=0 TIMED OUT"
    )
