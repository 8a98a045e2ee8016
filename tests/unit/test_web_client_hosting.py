"""template.yaml with WebClientHosting "true": the hosted client's CloudFront URL feeds
the mail links, the functions' CORS origins, API Gateway's own refusals and the upload
bucket's CORS rule, as issue 13 asks ("its URL feeding the API's allowed origins and
the mail links"). Evaluated with the template's own intrinsics, as CloudFormation
would for these parameters."""

from __future__ import annotations

from typing import Any

from infra.local.resources import Physical, evaluate_conditions, resolve, rule_failures
from infra.local.stack import load

CLOUDFRONT = "d1234abcd.cloudfront.net"
HOSTED = f"https://{CLOUDFRONT}"
OTHERS = ["https://staging.example", "http://localhost:5173"]


def deployed(**parameters: Any) -> tuple[Any, Physical]:
    stack = load()
    physical = Physical(
        refs={"AllowedOrigins": OTHERS, "FrontendUrl": "", **parameters},
        attributes={("WebClientDistribution", "DomainName"): CLOUDFRONT},
    )
    physical.conditions.update(evaluate_conditions(stack, physical))
    return stack, physical


def function_environment(stack, physical) -> dict[str, str]:
    variables = stack.template["Globals"]["Function"]["Environment"]["Variables"]
    return {
        name: str(resolve(variables[name], physical))
        for name in ("FRONTEND_URL", "ALLOWED_ORIGINS")
    }


def gateway_origins(stack, physical) -> set[str]:
    responses = stack.api()["GatewayResponses"]
    return {
        str(resolve(r["ResponseParameters"]["Headers"]["Access-Control-Allow-Origin"], physical))
        for r in responses.values()
    }


def upload_origins(stack, physical) -> list[str]:
    bucket = stack.template["Resources"]["RecoveryDocumentsBucket"]["Properties"]
    (rule,) = bucket["CorsConfiguration"]["CorsRules"]
    return list(resolve(rule["AllowedOrigins"], physical))


def test_a_hosted_client_without_frontend_url_gets_the_links_and_cors():
    stack, physical = deployed(WebClientHosting="true", FrontendUrl="")
    env = function_environment(stack, physical)
    assert env["FRONTEND_URL"] == HOSTED
    assert env["ALLOWED_ORIGINS"].split(",") == [HOSTED, *OTHERS]
    assert gateway_origins(stack, physical) == {f"'{HOSTED}'"}
    assert upload_origins(stack, physical) == [HOSTED, *OTHERS]
    machine = stack.template["Resources"]["CessionStateMachine"]["Properties"]
    assert resolve(machine["DefinitionSubstitutions"]["FrontendUrl"], physical) == HOSTED
    assert rule_failures(stack, physical) == []


def test_a_hosted_client_behind_a_custom_domain_keeps_its_url_and_is_allowed_too():
    stack, physical = deployed(WebClientHosting="true", FrontendUrl="https://my.example")
    env = function_environment(stack, physical)
    assert env["FRONTEND_URL"] == "https://my.example"
    assert HOSTED in env["ALLOWED_ORIGINS"].split(",")
    assert gateway_origins(stack, physical) == {f"'{OTHERS[0]}'"}


def test_without_hosting_the_parameters_are_used_as_given():
    stack, physical = deployed(WebClientHosting="false", FrontendUrl="https://app.example")
    env = function_environment(stack, physical)
    assert env["FRONTEND_URL"] == "https://app.example"
    assert env["ALLOWED_ORIGINS"].split(",") == OTHERS
    assert upload_origins(stack, physical) == OTHERS
    assert rule_failures(stack, physical) == []


def test_an_empty_frontend_url_without_a_hosted_client_is_refused():
    # Links would point nowhere: CloudFormation refuses the parameters before creating
    stack, physical = deployed(WebClientHosting="false", FrontendUrl="")
    assert rule_failures(stack, physical) == [
        'FrontendUrl may be empty only when WebClientHosting is "true" (the links then point at the hosted client).'
    ]
