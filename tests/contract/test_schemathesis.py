"""Schemathesis against a dev server of its own: every operation of docs/openapi.json
(`/_dev/*` aside), with a real client session (a staff one on /staff/...), then flows
along the document's links. No 5xx, and every answer as documented: status, content
type, headers and body.

The server is this module's own, not the session's `dev_server`: thousands of requests
from one address would use up the per-IP limits the other HTTP tests count on.
"""

from __future__ import annotations

import hypothesis
import pytest
import requests
import schemathesis
from schemathesis.config import SchemathesisConfig

from tests.conftest import ROOT, running_dev_server
from tests.contract.conftest import ANSWERS, CHECKS, FAILED_CHECKS, NOTES
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration]

PASSWORD = "correct horse battery staple 9"
STAFF = ("staff@example.com", "clientarea-dev-password")  # seeded by the dev server

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 6,
        "generation": {
            "max-examples": 10,
            "deterministic": True,
            "database": "none",
            # An unknown query parameter or header is ignored, as API Gateway and HTTP
            # APIs at large do, and OpenAPI does not forbid one: a request that differs
            # from a valid one only by an extra parameter is not invalid, so
            # negative_data_rejection must not expect it refused.
            "allow-extra-parameters": False,
            # Sessions are real (see _authorization), not generated bearer strings: a
            # "negative" case that only drops Authorization would get it back and be
            # reported as invalid data accepted.
            "with-security-parameters": False,
        },
        # unsupported_method expects 405 with Allow for a method an operation lacks. API
        # Gateway (REST) answers MISSING_AUTHENTICATION_TOKEN there, which the template
        # makes 404 not_found (as the document's description says), and the dev server
        # answers what the deployed API would.
        "checks": {
            "positive_data_acceptance": {"enabled": False},
            "unsupported_method": {"enabled": False},
            # A body over 64 KiB is refused by its size before any field is read (413
            # payload_too_large): a rejection of invalid data like any other.
            "negative_data_rejection": {
                "expected-statuses": [
                    *("400", "401", "403", "404", "405", "406", "409", "413", "415"),
                    *("422", "428", "429", "5xx"),
                ]
            },
        },
    }
)
schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.json", config=CONFIG).exclude(
    path_regex="^/_dev/"
)


@schema.hook
def after_validate(context, case, response, results) -> None:
    for result in results:
        CHECKS[result.name] += 1
        if result.failure is not None:
            FAILED_CHECKS[result.name] += 1


# Statuses a schema-valid request may get for reasons no schema can state: a made-up
# id (404) or link token (410), a rule about what the data means (422 with a domain
# code such as weak_password or invalid_email), the state of
# the account (401, 403, 409) or throttling (429).
MEANINGFUL_REFUSALS = {401, 403, 404, 409, 410, 422, 429}


@schemathesis.check
def schema_valid_data_passes_validation(ctx, response, case) -> None:
    """positive_data_acceptance, sharpened for this API. The built-in check expects 2xx for
    any schema-valid request; that is unsound here, where a made-up token is 410 and a
    password from the common list is 422 weak_password however well-formed. What must
    hold is that the handlers' request validation is no stricter than the documented
    schema (cross-field rules included, as if/then): schema-valid data never gets a
    400/405/413/415, nor a 422 validation_error."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    status = response.status_code
    if 200 <= status < 300 or status >= 500:  # 5xx is not_a_server_error's to report
        return
    assert status in MEANINGFUL_REFUSALS, f"schema-valid request refused with {status}"
    if status == 422:
        body = response.json()
        assert body.get("code") != "validation_error", (
            f"schema-valid request failed validation: {body.get('errors')}"
        )


def _log_in(url: str, login: str, password: str) -> str:
    reply = requests.post(
        f"{url}/auth/login", json={"login": login, "password": password}, timeout=30
    )
    assert reply.status_code == 200, reply.text
    return reply.json()["session_token"]


def _mail_token(url: str, to: str) -> str:
    def links() -> list[str]:
        mails = requests.get(f"{url}/_dev/mail", params={"to": to}, timeout=30).json()
        return [link for m in mails for link in m["links"] if "#token=" in link]

    return wait_until(links, message=f"no mail to {to}")[-1].split("#token=", 1)[1]


def _account(url: str, email: str, full_name: str) -> dict:
    """A verified account on the contract server: {client_number, login, ...}."""
    body = {"email": email, "password": PASSWORD, "full_name": full_name}
    assert requests.post(f"{url}/auth/register", json=body, timeout=30).status_code == 202
    verified = requests.post(
        f"{url}/auth/verify-email", json={"token": _mail_token(url, email)}, timeout=30
    )
    assert verified.status_code == 200, verified.text
    return verified.json()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory):
    with running_dev_server(tmp_path_factory.mktemp("contract-server")) as url:
        email = "contract-client@example.com"
        verified = _account(url, email, "Contract Client")
        for domain in ("one.contract.example", "two.contract.example"):
            requests.post(
                f"{url}/_dev/services",
                json={"client_number": verified["client_number"], "domain": domain},
                timeout=30,
            )
        recipient_account = _account(url, "contract-recipient@example.com", "Contract Recipient")
        # Wrong current passwords on PUT /account/password count as login failures of
        # their login name (and lock it for 15 minutes): that route gets an account of
        # its own, so that the client's own logins (see logout) keep working.
        guessed = "contract-password@example.com"
        _account(url, guessed, "Contract Password")
        yield {
            "url": url,
            "email": email,
            "recipient": recipient_account,
            "client": _log_in(url, email, PASSWORD),
            "password_owner": _log_in(url, guessed, PASSWORD),
            "staff": _log_in(url, *STAFF),
        }


def _authorization(api: dict, path: str) -> dict[str, str]:
    """The staff session on /staff/..., the client's elsewhere; logout gets a session of
    its own each time (it revokes the one it is given), the password change an account of
    its own (see `api`)."""
    if path == "/auth/logout":
        token = _log_in(api["url"], api["email"], PASSWORD)
    elif path == "/account/password":
        token = api["password_owner"]
    else:
        token = api["staff"] if path.startswith("/staff/") else api["client"]
    return {"Authorization": f"Bearer {token}"}


@schema.parametrize()
def test_every_operation_conforms(case, api):
    headers = _authorization(api, case.operation.path)
    response = case.call_and_validate(base_url=api["url"], headers=headers)
    ANSWERS["operations", case.operation.label, response.status_code] += 1


def test_flows_along_the_links_conform(api):
    """The stateful phase: sequences of calls that follow the document's links (a ticket
    opened then read, answered and closed, also by staff; a cession asked then the order
    read, activated, re-sent or cancelled; a recovery case opened then followed)."""

    class Flows(schema.as_state_machine()):
        def before_call(self, case):
            positive = case.meta is None or case.meta.generation.mode.is_positive
            if case.operation.path == "/services/{service_id}/cession" and positive:
                # The recipient is someone the client knows out of band; a made-up one
                # is 422 recipient_mismatch and no order would ever be created.
                case.body = {
                    "recipient_login": api["recipient"]["login"],
                    "recipient_client_number": api["recipient"]["client_number"],
                }

        def after_call(self, response, case):
            super().after_call(response, case)
            ANSWERS["flows", case.operation.label, response.status_code] += 1

        def get_call_kwargs(self, case):
            return {"base_url": api["url"], "headers": _authorization(api, case.operation.path)}

    settings = hypothesis.settings(
        max_examples=40,
        stateful_step_count=8,
        phases=[hypothesis.Phase.generate],  # as schemathesis' own stateful runner
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    # Steps draw their parameters from live answers: when Hypothesis walks a prefix it has
    # seen and the server, whose state has moved on, answers differently (an order since
    # cancelled, a list grown longer), it stops with FlakyStrategyDefinition. Like
    # schemathesis' own runner, start again (against the server as it now is) rather than
    # fail; every step run was validated. A failure that does not reproduce
    # (FlakyFailure) is not caught: it fails the test.
    for attempt in range(1, 4):
        try:
            Flows.run(settings=settings)
            break
        except hypothesis.errors.FlakyStrategyDefinition:
            NOTES.append(f"flows: run {attempt} stopped early, a replayed step got another answer")
