"""Fixtures: a moto-backed local deployment of template.yaml per test (handler level),
the dev server in a subprocess per test session (HTTP level), and one `client`
fixture that runs a test through both."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from infra.local.deployment import preset_table_environment

# Before any test module imports clientarea: its table models read names at import.
preset_table_environment()

from clientarea import clock  # noqa: E402
from moto import mock_aws  # noqa: E402

from infra.local.deployment import MOTO_CONFIG, LocalDeployment  # noqa: E402
from tests.accounts_iam import AccountsAccessCheck  # noqa: E402
from tests.clients import ApiClient, HttpClient, InProcessClient  # noqa: E402
from tests.support.accounts import fresh_email, new_account  # noqa: E402
from tests.support.leaks import SERVER_LOGS, LeakCheck  # noqa: E402
from tests.support.waiting import wait_until  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    """The gettext catalogs the mails and messages are read from, compiled when missing
    or older than their .po (as `make install` does), once, before any xdist worker."""
    if not hasattr(config, "workerinput"):
        from infra.catalogs import compile_catalogs

        compile_catalogs()


@pytest.fixture(autouse=True)
def _fresh_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts at real time; a test's clock moves do not leak into the next."""
    monkeypatch.setenv(clock.OFFSET_ENV, "0")
    monkeypatch.delenv(clock.FROZEN_ENV, raising=False)


@pytest.fixture(autouse=True)
def _no_leaks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test, every client: no reply names the internals, and no secret the test
    handled shows in the functions' logs (tests/support/leaks.py)."""
    check = LeakCheck()
    check.watch(monkeypatch)
    yield
    leaks = check.leaks()
    assert not leaks, "secrets in the logs:\n" + "\n".join(leaks)


@pytest.fixture
def accounts_access() -> AccountsAccessCheck:
    """What IAM would refuse of the functions' requests on the Accounts table."""
    return AccountsAccessCheck()


@pytest.fixture
def deployment(
    monkeypatch: pytest.MonkeyPatch, accounts_access: AccountsAccessCheck
) -> Iterator[LocalDeployment]:
    """template.yaml deployed on a fresh in-process moto, each function running with
    exactly its role's policies and moto enforcing IAM (infra/local/roles.py). Every
    request a function makes on the Accounts table is also checked against its IAM
    statements, attribute conditions included (tests/accounts_iam.py): else the test
    fails."""
    with mock_aws(config=MOTO_CONFIG):
        accounts_access.install(monkeypatch)
        deployed = LocalDeployment(enforce_iam=True).start()
        try:
            yield deployed
        finally:
            deployed.stop()
    refused = accounts_access.refused
    assert not refused, "IAM would refuse:\n" + "\n".join(refused)


@pytest.fixture
def handler_client(deployment: LocalDeployment) -> InProcessClient:
    return InProcessClient(deployment)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_dev_server(
    log_dir: Path, extra_args: tuple[str, ...] = ("--no-frontend",), *, quiet: bool = True
) -> Iterator[str]:
    """`make dev`'s server, started the way the README says, on a free port; its URL.
    The web client is not served unless `extra_args` ask for it (--frontend-url).

    Its output goes to a file (log_dir/server.log), not a pipe: an unread pipe fills up
    and blocks the server. `quiet`: without the access log.
    """
    port = _free_port()
    log = (log_dir / "server.log").open("w")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "MOTO_PORT"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "infra.local",
            "--port",
            str(port),
            *(["--quiet"] * quiet),
            *extra_args,
        ],
        cwd=ROOT,
        env={**env, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'layers' / 'clientarea'}"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    SERVER_LOGS[url] = log_dir / "server.log"

    # Importing moto alone takes over 20 s on a busy 2-core machine: be patient.
    def answering() -> bool:
        try:
            return requests.get(f"{url}/_dev/mail", timeout=1).status_code == 200
        except requests.ConnectionError:
            if process.poll() is not None:
                raise RuntimeError(f"dev server exited; see {log.name}") from None
            return False

    try:
        wait_until(answering, timeout=180, interval=0.2)
    except AssertionError:
        process.kill()
        raise RuntimeError("dev server did not start within 180 s") from None
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One dev server per test session (per xdist worker)."""
    with running_dev_server(tmp_path_factory.mktemp("dev-server")) as url:
        yield url


@pytest.fixture
def http_client(dev_server: str) -> HttpClient:
    return HttpClient(dev_server)


@pytest.fixture(params=["handler", "http"])
def client(request: pytest.FixtureRequest) -> ApiClient:
    """The same test through the handlers (in-process) and over HTTP (dev server)."""
    name = "handler_client" if request.param == "handler" else "http_client"
    return request.getfixturevalue(name)


@pytest.fixture
def unique_email() -> str:
    return fresh_email()


@pytest.fixture
def account(client: ApiClient, unique_email: str) -> dict:
    """A verified account: {email, client_number, login, token}."""
    return new_account(client, unique_email)
