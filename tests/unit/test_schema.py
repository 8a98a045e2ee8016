"""The HTTP shapes are declared once (clientarea.schema) and each route documents the
errors of the exception classes it names, nothing written by hand."""

from __future__ import annotations

import ast
import inspect
import sys

import pytest
from clientarea import errors
from clientarea.schema.routes import add_error, codes, responses, summary

from infra.openapi import generate
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import lambda_env

from tests.support.handlers import loaded_modules

ERROR_CLASSES = {
    cls.code: cls
    for _, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, errors.DomainError) and cls is not errors.DomainError
}


@pytest.fixture(scope="module")
def document():
    return generate()


def test_every_answered_status_is_declared_once():
    # The enums the API answers live in clientarea.statuses, used by the domain and the
    # HTTP shapes alike: a second declaration anywhere in the layer or the handlers fails.
    declared = {}
    for path in [
        *(ROOT / "layers" / "clientarea" / "clientarea").rglob("*.py"),
        *(ROOT / "functions").rglob("*.py"),
    ]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.ClassDef)
                and node.name.endswith("Status")
                and any(getattr(base, "id", None) == "StrEnum" for base in node.bases)
            ):
                declared.setdefault(node.name, []).append(path.name)
    assert {name: files for name, files in declared.items() if len(files) > 1} == {}
    answered = ("ServiceStatus", "OrderStatus", "TicketStatus", "RecoveryStatus")
    assert {name: declared.get(name) for name in answered} == {
        name: ["statuses.py"] for name in answered
    }


def test_an_error_answer_is_derived_from_its_classes():
    # GIVEN a route that raises NotFound and TicketClosed
    documented = responses(200, None, "ok", raises=[errors.NotFound, errors.TicketClosed])
    # THEN each class has its own status, its code and its docstring as the description
    assert set(documented) == {200, 404, 409}
    assert codes(documented[409]) == ["ticket_closed"]
    assert documented[409]["description"] == f"`ticket_closed`: {summary(errors.TicketClosed)}"
    assert documented[404]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_two_classes_of_one_code_are_documented_once():
    response = add_error({}, errors.LoginRateLimited)
    add_error(response, errors.RateLimited)
    assert codes(response) == ["rate_limited"]
    assert response["description"].count("rate_limited") == 1


def test_every_error_answer_of_the_document_comes_from_error_classes(document):
    seen = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if not status.startswith(("4", "5")):
                    continue
                where = f"{method.upper()} {path} {status}"
                listed = codes(response)
                assert listed, where
                for code in listed:
                    assert ERROR_CLASSES[code].status == int(status), where
                    assert f"`{code}`: " in response["description"], where
                assert response["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }, where
                seen.update(listed)
    assert {"not_found", "token_invalid", "validation_error", "service_unavailable"} <= seen


def test_operations_have_camel_case_ids_tags_and_the_shared_headers(document):
    ids = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            ids.append(operation["operationId"])
            assert operation["tags"], (method, path)
            refs = {p.get("$ref") for p in operation.get("parameters", [])}
            assert "#/components/parameters/AcceptLanguage" in refs
            replayable = method != "get" and (method, path) not in {
                ("post", "/auth/login"),
                ("post", "/recovery/requests"),
            }
            assert ("#/components/parameters/IdempotencyKey" in refs) == replayable, path
    assert len(ids) == len(set(ids))
    assert {"login", "listServices", "openTicket", "decideRecoveryRequest"} <= set(ids)
    assert "default" not in {tag["name"] for tag in document["tags"]}


def test_timestamps_and_statuses_are_typed(document):
    schemas = document["components"]["schemas"]
    assert schemas["TicketSummary"]["properties"]["created_at"]["format"] == "date-time"
    assert schemas["TicketStatus"]["enum"] == ["open", "answered", "closed"]
    assert schemas["Order"]["properties"]["status"] == {"$ref": "#/components/schemas/OrderStatus"}
    # One declaration each: the staff views reuse the client ones.
    assert "StaffTicketSummary" not in schemas and "StaffClientProduct" not in schemas


def test_the_authorizer_loads_no_http_shape():
    # clientarea.sessions (which the authorizer imports) builds Session answers: it
    # imports the shape on first use, so the authorizer's cold start never pays for it.
    function = next(f for f in lambda_env.functions() if f.logical_id == "AuthorizerFunction")
    loaded = loaded_modules(function)
    assert "clientarea.sessions" in loaded
    assert not [name for name in loaded if name.startswith("clientarea.schema")]
