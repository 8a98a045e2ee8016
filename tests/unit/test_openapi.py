"""The committed OpenAPI document is what the code generates, and names every route."""

from infra.local.stack import load
from infra.openapi import OUTPUT, generate, render


def test_committed_document_matches_a_fresh_generation():
    assert OUTPUT.read_text() == render(generate()), (
        "run `make openapi` and commit docs/openapi.json"
    )


def test_every_template_route_is_documented_with_its_auth():
    document = generate()
    for route in load().routes():
        operation = document["paths"][route.path][route.method.lower()]
        assert ("security" in operation) == route.authorized, route


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
        names = {parameter["name"] for parameter in target.get("parameters", [])}
        assert set(link["parameters"]) <= names, link
