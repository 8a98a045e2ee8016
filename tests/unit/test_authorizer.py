"""functions/authorizer: the Lambda REQUEST authorizer, called the way API Gateway calls it."""

from __future__ import annotations

from typing import Any

import pytest

from infra.local.gateway import LocalApi
from infra.local.lambdas import invoke
from tests.clients import InProcessClient
from tests.support.accounts import PASSWORD, log_in, new_account, staff_token
from tests.support.aws_calls import operations, recorded_aws_calls

API = "arn:aws:execute-api:eu-central-1:123456789012:abc/api"
ACCOUNT_ARN = f"{API}/GET/account"


def _event(authorization: str | None, method_arn: str = ACCOUNT_ARN) -> dict[str, Any]:
    headers = {} if authorization is None else {"Authorization": authorization}
    return {"type": "REQUEST", "methodArn": method_arn, "headers": headers}


def _authorize(deployment, event: dict[str, Any]) -> dict[str, Any]:
    return invoke(deployment.stack.functions()["AuthorizerFunction"], event)


def _allows(answer: dict[str, Any], route: str) -> bool:
    """Whether API Gateway would let the answer's policy invoke `METHOD/path`."""
    return LocalApi._allows(answer["policyDocument"], f"{API}/{route}")


def _refused(deployment, event: dict[str, Any]) -> None:
    with pytest.raises(Exception) as caught:
        _authorize(deployment, event)
    # API Gateway turns exactly this message (and nothing else) into a 401.
    assert type(caught.value) is Exception
    assert str(caught.value) == "Unauthorized"


@pytest.fixture
def api(deployment) -> InProcessClient:
    return InProcessClient(deployment)


@pytest.fixture
def client_session(api, unique_email) -> dict[str, Any]:
    return new_account(api, unique_email, locale="pl")


@pytest.fixture
def staff_session(api) -> str:
    return staff_token(api)


def test_valid_client_token_is_allowed_with_its_context(deployment, client_session):
    # GIVEN a logged-in client whose account speaks Polish
    # WHEN API Gateway asks about GET /account with the session token
    answer = _authorize(deployment, _event(f"Bearer {client_session['token']}"))
    # THEN the account is the principal and the functions get who is calling
    assert answer["principalId"] == str(client_session["client_number"])
    context = answer["context"]
    assert context["client_number"] == str(client_session["client_number"])
    assert context["role"] == "client"
    assert context["locale"] == "pl"
    # AND every context value is a string, as API Gateway requires
    assert all(isinstance(value, str) for value in context.values())
    # AND the policy lets the client use the client area
    assert _allows(answer, "GET/account")
    assert _allows(answer, "PATCH/account")
    assert _allows(answer, "PUT/account/password")
    assert _allows(answer, "POST/auth/logout")


def test_client_policy_denies_staff_routes(deployment, client_session):
    # GIVEN a client's session
    answer = _authorize(deployment, _event(f"Bearer {client_session['token']}"))
    # WHEN the same (possibly cached) policy is applied to staff routes
    # THEN every /staff/... method and depth is denied
    assert not _allows(answer, "GET/staff/tickets")
    assert not _allows(answer, "GET/staff/tickets/42")
    assert not _allows(answer, "POST/staff/tickets/42/messages")
    assert not _allows(answer, "POST/staff/recovery-requests/R-1/decision")
    assert not _allows(answer, "GET/staff/clients/100001/products")


def test_policy_is_for_this_api_and_stage_only(deployment, client_session):
    # GIVEN a client's session authorised on API "abc", stage "api"
    answer = _authorize(deployment, _event(f"Bearer {client_session['token']}"))
    # THEN the policy does not reach another API or another stage
    assert not LocalApi._allows(
        answer["policyDocument"],
        "arn:aws:execute-api:eu-central-1:123456789012:other/api/GET/account",
    )
    assert not LocalApi._allows(
        answer["policyDocument"],
        "arn:aws:execute-api:eu-central-1:123456789012:abc/prod/GET/account",
    )


def test_staff_policy_allows_staff_routes_and_logout_only(deployment, staff_session):
    # GIVEN a support agent logged in through POST /auth/login
    # WHEN API Gateway asks about a staff route
    answer = _authorize(deployment, _event(f"Bearer {staff_session}", f"{API}/GET/staff/tickets"))
    # THEN the context says the role
    assert answer["context"]["role"] == "support"
    # AND the policy allows the staff area and logging out
    assert _allows(answer, "GET/staff/tickets")
    assert _allows(answer, "POST/staff/tickets/42/messages")
    assert _allows(answer, "GET/staff/recovery-requests/R-1")
    assert _allows(answer, "POST/auth/logout")
    # BUT not the client area
    assert not _allows(answer, "GET/account")
    assert not _allows(answer, "PUT/account/password")
    assert not _allows(answer, "GET/tickets")


MALFORMED = [
    None,  # no header at all
    "",
    "Basic c3RhZmZlcjpwYXNzd29yZA==",
    "Bearer",
    "Bearer ",
    "Bearer garbage",
    "Bearer 100001.",
    "Bearer .aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "Bearer 100001." + "a" * 500,
]


def test_malformed_credentials_are_unauthorized(deployment, client_session):
    # GIVEN requests without a well-formed bearer session token
    for authorization in MALFORMED:
        # WHEN API Gateway asks the authorizer / THEN it answers exactly "Unauthorized"
        _refused(deployment, _event(authorization))
    # AND the real token sent without its scheme is refused too
    _refused(deployment, _event(client_session["token"]))


def test_missing_headers_object_is_unauthorized(deployment):
    # GIVEN an event without any headers object (API Gateway sends null sometimes)
    # WHEN the authorizer runs / THEN it refuses instead of crashing
    _refused(deployment, {"type": "REQUEST", "methodArn": ACCOUNT_ARN, "headers": None})
    _refused(deployment, {"type": "REQUEST", "methodArn": ACCOUNT_ARN})


def test_right_shape_wrong_secret_is_unauthorized(deployment, client_session):
    # GIVEN the real client number with a well-formed but wrong secret
    number, _, secret = client_session["token"].partition(".")
    forged = f"{number}.{'A' * len(secret)}"
    # WHEN the authorizer checks it / THEN it is refused
    _refused(deployment, _event(f"Bearer {forged}"))
    # AND the real secret under another client number is refused too
    _refused(deployment, _event(f"Bearer {int(number) + 1}.{secret}"))


def test_revoked_session_is_unauthorized(deployment, api, client_session):
    # GIVEN a session that was valid
    token = client_session["token"]
    assert _authorize(deployment, _event(f"Bearer {token}"))["principalId"]
    # WHEN its owner logs out
    assert api.post("/auth/logout", token=token).status == 204
    # THEN the very next authorization refuses it
    _refused(deployment, _event(f"Bearer {token}"))


def test_sessions_revoked_by_password_change_are_unauthorized(
    deployment, api, client_session, unique_email
):
    # GIVEN two sessions of one account
    other = log_in(api, unique_email)
    # WHEN the password is changed from the first
    reply = api.put(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "a brand new passphrase 77"},
        token=client_session["token"],
    )
    assert reply.status == 204
    # THEN the other session is refused and the caller's own one still passes
    _refused(deployment, _event(f"Bearer {other}"))
    assert _authorize(deployment, _event(f"Bearer {client_session['token']}"))["principalId"]


def test_expired_session_is_unauthorized(deployment, api, client_session):
    # GIVEN a session (12 h absolute lifetime), used every 25 minutes (30 idle end it)
    token = client_session["token"]
    used = 0
    while used + 25 * 60 <= 12 * 3600 - 60:
        api.advance_clock(25 * 60)
        used += 25 * 60
        assert _authorize(deployment, _event(f"Bearer {token}"))["principalId"]
    # WHEN a little less than 12 h pass, it still works
    api.advance_clock(12 * 3600 - 60 - used)
    assert _authorize(deployment, _event(f"Bearer {token}"))["principalId"]
    # AND when 12 h have passed it is refused
    api.advance_clock(61)
    _refused(deployment, _event(f"Bearer {token}"))


def test_locale_change_reaches_the_next_authorization(deployment, api, client_session):
    # GIVEN a Polish-speaking client
    token = client_session["token"]
    # WHEN they switch the account to Ukrainian
    assert api.patch("/account", {"locale": "uk"}, token=token).status == 200
    # THEN the next authorization carries the new locale
    assert _authorize(deployment, _event(f"Bearer {token}"))["context"]["locale"] == "uk"


def test_one_authorization_costs_exactly_one_aws_call(deployment, client_session):
    # GIVEN a valid session; WHEN the authorizer checks one request
    with recorded_aws_calls() as calls:
        answer = _authorize(deployment, _event(f"Bearer {client_session['token']}"))
    # THEN it read session and account with one consistent TransactGetItems
    assert answer["principalId"] == str(client_session["client_number"])
    assert operations(calls) == ["TransactGetItems"]


def test_refusal_costs_at_most_one_aws_call(deployment):
    # GIVEN a forged token of the right shape
    # WHEN the authorizer refuses it / THEN it spent one read at most (no writes)
    with recorded_aws_calls() as calls:
        _refused(deployment, _event(f"Bearer 100001.{'B' * 43}"))
        # AND a malformed token costs no call at all
        _refused(deployment, _event("Bearer garbage"))
    assert operations(calls) == ["TransactGetItems"]
