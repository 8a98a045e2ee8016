"""CORS as a browser meets it (plain HTTP with `Origin` headers), deployed or local.

With the template's proxy integrations API Gateway passes a function's headers through
unchanged, so every answer a browser may read carries its Access-Control-Allow-Origin
from the function itself. The functions' answers are checked three ways: the handler
called directly with a hand-made event (no emulator at all), in-process through the
emulated gateway, and over HTTP against `make dev`. API Gateway's own refusals (the
template's GatewayResponses) exist only behind a gateway: in-process and over HTTP.

The dev deployment allows DEV_ALLOWED_ORIGINS; EVIL is on no list.
"""

from __future__ import annotations

import uuid

import pytest

from infra.local.deployment import DEV_ALLOWED_ORIGINS
from tests.clients import ApiClient, DirectClient, Reply
from tests.support.replies import expect_error

FIRST, SECOND = DEV_ALLOWED_ORIGINS
EVIL = "https://evil.example"
REQUEST_HEADERS = {
    "authorization",
    "content-type",
    "idempotency-key",
    "x-recovery-key",
    "accept-language",
}


@pytest.fixture(params=["direct", "handler", "http"])
def function_client(request: pytest.FixtureRequest) -> ApiClient:
    """The functions' own answers: called directly, through the gateway, over HTTP."""
    if request.param == "direct":
        return DirectClient(request.getfixturevalue("deployment"))
    return request.getfixturevalue(f"{request.param}_client")


def _vary(reply: Reply) -> set[str]:
    return {v.strip().lower() for v in (reply.header("Vary") or "").split(",")}


def _list(reply: Reply, name: str) -> set[str]:
    return {v.strip().lower() for v in (reply.header(name) or "").split(",") if v.strip()}


def readable_by(reply: Reply, origin: str) -> bool:
    """Whether a browser hands this answer to a page of `origin` (no credentials mode)."""
    return reply.header("Access-Control-Allow-Origin") in (origin, "*")


def assert_readable(reply: Reply, origin: str) -> None:
    assert reply.header("Access-Control-Allow-Origin") == origin, reply.headers
    assert "retry-after" in _list(reply, "Access-Control-Expose-Headers"), reply.headers
    assert "origin" in _vary(reply), reply.headers


def assert_not_readable_by_function_answer(reply: Reply) -> None:
    """A function's answer to an origin not on the list: no allow header at all."""
    assert reply.header("Access-Control-Allow-Origin") is None, reply.headers
    assert reply.header("Access-Control-Expose-Headers") is None, reply.headers
    assert "origin" in _vary(reply), reply.headers


def _unknown_login() -> str:
    return f"nobody-{uuid.uuid4().hex[:12]}"


# --- the functions' answers ---------------------------------------------------------------


def _success(client: ApiClient, origin: str) -> Reply:
    reply = client.post("/password/forgot", {"login": _unknown_login()}, headers={"Origin": origin})
    assert reply.status == 202, reply.body
    return reply


def _domain_error(client: ApiClient, origin: str) -> Reply:
    body = {"login": _unknown_login(), "password": "not the password at all"}
    reply = client.post("/auth/login", body, headers={"Origin": origin})
    expect_error(reply, 401, "invalid_credentials")
    return reply


def _validation_error(client: ApiClient, origin: str) -> Reply:
    reply = client.post("/auth/login", {"login": "x"}, headers={"Origin": origin})
    expect_error(reply, 422, "validation_error")
    return reply


def _refused_body(client: ApiClient, origin: str) -> Reply:
    """The body guard's refusal, which Powertools never builds (clientarea.web)."""
    headers = {"Origin": origin, "Content-Type": "text/plain"}
    reply = client.post("/auth/login", raw=b"login=x", headers=headers)
    expect_error(reply, 415, "unsupported_media_type")
    return reply


def _rate_limited(client: ApiClient, origin: str) -> Reply:
    """The login's own failure limit (5 per login name and 15 minutes): the 6th attempt
    is 429."""
    body = {"login": _unknown_login(), "password": "not the password at all"}
    for _ in range(5):
        client.post("/auth/login", body)
    reply = client.post("/auth/login", body, headers={"Origin": origin})
    expect_error(reply, 429, "rate_limited")
    assert int(reply.header("Retry-After") or 0) >= 1
    return reply


FUNCTION_ANSWERS = {
    "202 success": _success,
    "401 domain error": _domain_error,
    "422 validation": _validation_error,
    "415 refused body": _refused_body,
    "429 rate limited": _rate_limited,
}


@pytest.mark.parametrize("answer", FUNCTION_ANSWERS)
@pytest.mark.parametrize("origin", DEV_ALLOWED_ORIGINS)
def test_an_allowed_origin_can_read_every_answer_of_a_function(function_client, answer, origin):
    # WHEN a page of an allowed origin calls a function (success, error, throttled)
    reply = FUNCTION_ANSWERS[answer](function_client, origin)
    # THEN the function itself allows that origin, and lets the page read Retry-After
    assert_readable(reply, origin)


@pytest.mark.parametrize("answer", FUNCTION_ANSWERS)
def test_another_origin_gets_no_allow_header_from_a_function(function_client, answer):
    # WHEN a page of an origin on no list calls a function
    reply = FUNCTION_ANSWERS[answer](function_client, EVIL)
    # THEN the answer carries no allow header: the browser keeps it from the page
    assert_not_readable_by_function_answer(reply)


@pytest.mark.parametrize("origin", [*DEV_ALLOWED_ORIGINS, EVIL, "null"])
def test_a_lookalike_origin_is_not_allowed(function_client, origin):
    # GIVEN origins that differ from an allowed one only by case, port or scheme
    for lookalike in (origin.upper(), origin + ":443", origin.replace("http:", "https:")):
        if lookalike in DEV_ALLOWED_ORIGINS:
            continue
        # WHEN such a page calls a function / THEN it may not read the answer
        reply = _domain_error(function_client, lookalike)
        assert_not_readable_by_function_answer(reply)


def test_a_request_without_origin_gets_no_cors_headers(function_client):
    # WHEN a server (no browser, no Origin) calls the API
    reply = function_client.post("/password/forgot", {"login": _unknown_login()})
    # THEN nothing CORS is added (nothing to allow), only that the answer varies by Origin
    assert reply.status == 202
    assert reply.header("Access-Control-Allow-Origin") is None
    assert "origin" in _vary(reply)


# --- preflight ------------------------------------------------------------------------------


def _preflight(client: ApiClient, path: str, origin: str, method: str = "POST") -> Reply:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
    }
    return client.request("OPTIONS", path, headers=headers)


@pytest.mark.parametrize("origin", DEV_ALLOWED_ORIGINS)
def test_a_preflight_from_an_allowed_origin_allows_the_contracts_headers(function_client, origin):
    # WHEN a browser asks before a POST with a session and an idempotency key
    reply = _preflight(function_client, "/auth/logout", origin)
    # THEN the function allows it (no session needed for the question itself)
    assert reply.status == 204, reply.body
    assert reply.header("Access-Control-Allow-Origin") == origin
    assert "post" in _list(reply, "Access-Control-Allow-Methods")
    assert not REQUEST_HEADERS - _list(reply, "Access-Control-Allow-Headers")
    assert int(reply.header("Access-Control-Max-Age") or 0) >= 600


def test_a_preflight_from_another_origin_is_not_allowed(function_client):
    reply = _preflight(function_client, "/auth/login", EVIL)
    assert reply.header("Access-Control-Allow-Origin") is None


def test_every_path_answers_its_preflight(handler_client):
    # GIVEN every path of the API (an authorized one too: a preflight carries no session)
    paths = {route.path for route in handler_client.deployment.stack.routes()}
    for path in sorted(paths):
        concrete = path.replace("{", "x").replace("}", "")
        # WHEN the browser asks / THEN the path's function answers for the allowed origin
        reply = _preflight(handler_client, concrete, FIRST, method="GET")
        assert reply.status == 204, (path, reply.status, reply.body[:200])
        assert reply.header("Access-Control-Allow-Origin") == FIRST, path


# --- replays --------------------------------------------------------------------------------


def test_a_replayed_answer_carries_the_cors_of_the_request_that_replays_it(function_client):
    # GIVEN a forgot request with an idempotency key, sent from the first origin
    body = {"login": _unknown_login()}
    key = uuid.uuid4().hex
    first = function_client.post(
        "/password/forgot", body, headers={"Origin": FIRST, "Idempotency-Key": key}
    )
    assert first.status == 202 and first.header("Access-Control-Allow-Origin") == FIRST
    # WHEN the same request is replayed from the second origin, then from another
    second = function_client.post(
        "/password/forgot", body, headers={"Origin": SECOND, "Idempotency-Key": key}
    )
    evil = function_client.post(
        "/password/forgot", body, headers={"Origin": EVIL, "Idempotency-Key": key}
    )
    # THEN each gets its own origin's CORS, never the stored answer's
    assert second.status == 202 and second.header("Access-Control-Allow-Origin") == SECOND
    assert evil.status == 202 and evil.header("Access-Control-Allow-Origin") is None


# --- API Gateway's own answers (the template's GatewayResponses) ---------------------------


def _no_session(client: ApiClient, origin: str) -> Reply:
    reply = client.get("/account", headers={"Origin": origin})
    expect_error(reply, 401, "unauthorized")
    return reply


def _client_on_staff_route(client: ApiClient, origin: str, token: str) -> Reply:
    reply = client.get("/staff/me", token=token, headers={"Origin": origin})
    expect_error(reply, 403, "forbidden")
    return reply


def _unknown_path(client: ApiClient, origin: str) -> Reply:
    reply = client.get("/no/such/route", headers={"Origin": origin})
    expect_error(reply, 404, "not_found")
    return reply


def _unknown_method(client: ApiClient, origin: str) -> Reply:
    reply = client.request("DELETE", "/auth/login", headers={"Origin": origin})
    expect_error(reply, 404, "not_found")
    return reply


def _gateway_answers(client: ApiClient, origin: str, token: str) -> list[Reply]:
    return [
        _no_session(client, origin),
        _client_on_staff_route(client, origin, token),
        _unknown_path(client, origin),
        _unknown_method(client, origin),
    ]


def test_the_first_allowed_origin_can_read_the_gateways_refusals(client, account):
    # WHEN a page of the first allowed origin is refused by API Gateway itself
    for reply in _gateway_answers(client, FIRST, account["token"]):
        # THEN the template's fixed header allows it
        assert reply.header("Access-Control-Allow-Origin") == FIRST, reply.headers


def test_no_other_origin_can_read_the_gateways_refusals(client, account):
    # GIVEN the documented limitation: a gateway response carries one fixed origin
    for origin in (SECOND, EVIL):
        # WHEN a page of another origin (allowed or not) is refused by the gateway
        for reply in _gateway_answers(client, origin, account["token"]):
            # THEN the browser keeps the answer from it (the header names the first origin)
            assert not readable_by(reply, origin), reply.headers


def test_an_unknown_method_is_what_api_gateway_answers(client):
    # API Gateway (REST) has no 405: a method a path does not have is like a path it
    # does not have (MISSING_AUTHENTICATION_TOKEN, which the template makes 404).
    for method in ("PUT", "TRACE", "HEAD"):
        reply = client.request(method, "/password/forgot")
        assert reply.status == 404, (method, reply.status)
        assert reply.header("Allow") is None


# --- /_dev/* (the dev server's own routes) -----------------------------------------------


@pytest.mark.parametrize("origin", DEV_ALLOWED_ORIGINS)
def test_a_frontend_on_a_dev_origin_can_read_the_mailbox(http_client, origin):
    session = http_client.session
    mail = session.get(f"{http_client.base_url}/_dev/mail", headers={"Origin": origin}, timeout=30)
    assert mail.status_code == 200
    assert mail.headers.get("Access-Control-Allow-Origin") == origin
    preflight = session.options(
        f"{http_client.base_url}/_dev/clock",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=30,
    )
    assert preflight.status_code == 204
    assert preflight.headers.get("Access-Control-Allow-Origin") == origin
    assert "POST" in preflight.headers.get("Access-Control-Allow-Methods", "")


def test_another_origin_cannot_read_the_mailbox(http_client):
    mail = http_client.session.get(
        f"{http_client.base_url}/_dev/mail", headers={"Origin": EVIL}, timeout=30
    )
    assert mail.status_code == 200
    assert "Access-Control-Allow-Origin" not in mail.headers
