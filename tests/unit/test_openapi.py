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
