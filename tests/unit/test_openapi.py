"""The committed OpenAPI document is what the code generates, names every route, and
agrees with the HTTP contract (../shared/API.md); the comparison catches disagreements."""

import copy

import pytest

from infra.api_contract import CONTRACT, disagreements
from infra.local.stack import load
from infra.openapi import OUTPUT, generate, render


@pytest.fixture(scope="module")
def document():
    return generate()


@pytest.fixture(scope="module")
def contract_text():
    return CONTRACT.read_text()


def test_committed_document_matches_a_fresh_generation(document):
    assert OUTPUT.read_text() == render(document), "run `make openapi` and commit docs/openapi.json"


def test_every_template_route_is_documented_with_its_auth(document):
    for route in load().routes():
        operation = document["paths"][route.path][route.method.lower()]
        assert ("security" in operation) == route.authorized, route


def test_the_document_agrees_with_the_contract(document, contract_text):
    assert disagreements(document, contract_text) == []


def test_a_contract_route_missing_from_the_document_is_caught(document, contract_text):
    # GIVEN the document without POST /cession/decline, which API.md lists
    modified = copy.deepcopy(document)
    del modified["paths"]["/cession/decline"]["post"]
    # WHEN it is compared with the contract
    problems = disagreements(modified, contract_text)
    # THEN the missing route is reported
    assert problems == ["POST /cession/decline: in API.md, missing from the document"]


def test_a_route_added_to_the_contract_only_is_caught(document, contract_text):
    # GIVEN a copy of API.md that lists a route the code does not serve
    row = "| `POST /auth/logout-everywhere` | — | 204 | revokes every session |\n"
    modified = contract_text.replace("| `POST /auth/logout` |", row + "| `POST /auth/logout` |")
    assert modified != contract_text
    # WHEN the document is compared with it
    problems = disagreements(document, modified)
    # THEN that route is reported missing from the document
    assert problems == ["POST /auth/logout-everywhere: in API.md, missing from the document"]


def test_a_documented_route_unknown_to_the_contract_is_caught(document, contract_text):
    # GIVEN a copy of API.md without the GET /services row
    lines = [line for line in contract_text.splitlines() if "`GET /services`" not in line]
    # WHEN the document (which has GET /services) is compared with it
    problems = disagreements(document, "\n".join(lines))
    # THEN the route is reported as not in the contract
    assert problems == ["GET /services: in the document, not in API.md (nor in EXTRA_ROUTES)"]


def test_a_missing_success_status_is_caught(document, contract_text):
    # GIVEN PUT /account/password documented with 200 instead of API.md's 204
    modified = copy.deepcopy(document)
    responses = modified["paths"]["/account/password"]["put"]["responses"]
    responses["200"] = responses.pop("204")
    # WHEN it is compared with the contract
    problems = disagreements(modified, contract_text)
    # THEN the missing 204 is reported
    assert problems == ["PUT /account/password: success 204 (API.md) is not documented"]


def test_a_missing_error_status_is_caught(document, contract_text):
    # GIVEN POST /auth/verify-email without its 410 (API.md: `410 token_invalid`)
    modified = copy.deepcopy(document)
    del modified["paths"]["/auth/verify-email"]["post"]["responses"]["410"]
    # WHEN it is compared with the contract
    problems = disagreements(modified, contract_text)
    # THEN the missing status is reported
    assert problems == ["POST /auth/verify-email: 410 (API.md) is not documented"]


def test_a_missing_error_code_is_caught(document, contract_text):
    # GIVEN POST /services/{service_id}/cession whose 409 no longer names cession_pending
    modified = copy.deepcopy(document)
    responses = modified["paths"]["/services/{service_id}/cession"]["post"]["responses"]
    responses["409"]["description"] = "the service is busy"
    # WHEN it is compared with the contract
    problems = disagreements(modified, contract_text)
    # THEN the missing error code is reported
    assert problems == [
        "POST /services/{service_id}/cession: error code cession_pending is not in its 409's"
        " description"
    ]


def test_an_authorized_route_without_401_is_caught(document, contract_text):
    # GIVEN GET /orders (behind the session authorizer) without its 401
    modified = copy.deepcopy(document)
    del modified["paths"]["/orders"]["get"]["responses"]["401"]
    # WHEN it is compared with the contract
    problems = disagreements(modified, contract_text)
    # THEN the undocumented 401 is reported
    assert problems == ["GET /orders: takes a session but does not document 401"]


def test_a_staff_route_without_403_is_caught(document, contract_text):
    # GIVEN GET /staff/tickets without its 403 (API.md: a client's session gets 403)
    modified = copy.deepcopy(document)
    del modified["paths"]["/staff/tickets"]["get"]["responses"]["403"]
    # WHEN it is compared with the contract
    problems = disagreements(modified, contract_text)
    # THEN the missing 403 is reported
    assert problems == ["GET /staff/tickets: 403 (API.md) is not documented"]


def test_an_input_without_422_is_caught(document, contract_text):
    # GIVEN POST /cession/decline (it takes a body) without its 422
    modified = copy.deepcopy(document)
    del modified["paths"]["/cession/decline"]["post"]["responses"]["422"]
    # WHEN it is compared with the contract
    problems = disagreements(modified, contract_text)
    # THEN the undocumented 422 is reported
    assert problems == [
        "POST /cession/decline: takes a body or parameters but does not document 422"
    ]


def test_answers_given_before_the_handler_are_documented_on_every_route():
    # GIVEN the generated document / THEN each route documents what the gateway, the
    # authorizer and the body guard may answer instead of its handler
    document = generate()
    for route in load().routes():
        responses = document["paths"][route.path][route.method.lower()]["responses"]
        assert "429" in responses and "Retry-After" in responses["429"]["headers"], route
        if route.authorized:
            assert "401" in responses, route
            assert ("403" in responses) == (route.path != "/auth/logout"), route
        validation = responses["422"]["content"]["application/json"]["schema"]
        assert "detail" not in str(validation), route  # not FastAPI's HTTPValidationError
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_links_name_existing_operations_and_parameters():
    document = generate()
    operations = {
        operation["operationId"]: operation
        for path in document["paths"].values()
        for operation in path.values()
    }
    links = [
        link
        for path in document["paths"].values()
        for operation in path.values()
        for response in operation["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert len(links) >= 20
    for link in links:
        target = operations[link["operationId"]]
        shared = document["components"]["parameters"]
        names = {
            shared[p["$ref"].rsplit("/", 1)[1]]["name"] if "$ref" in p else p["name"]
            for p in target.get("parameters", [])
        }
        assert set(link["parameters"]) <= names, link
