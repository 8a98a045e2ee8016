"""API Gateway's part of a request, done locally with chalice.local's machinery.

Route matching and proxy events come from chalice.local (RouteMatcher,
LambdaEventConverter, ARNMatcher); on top of them this module applies the template's
Lambda REQUEST authorizer as API Gateway does (401 without calling it when the identity
header is missing, 401 on "Unauthorized", the template's AUTHORIZER_CONFIGURATION_ERROR
on any other error of the authorizer, 403 when the returned policy does not allow the
method ARN, the authorizer's context handed on to the function) and answers with the
template's gateway responses: a path or method the API does not have is
MISSING_AUTHENTICATION_TOKEN, a function that fails or times out is DEFAULT_5XX (502).

It adds nothing of its own: no CORS header (the functions answer CORS, preflights
included, and the gateway responses carry what the template gives them), no route.
Functions run in execution environments as Lambda runs them (infra.local.lambdas).
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chalice.local import ARNMatcher, LambdaEventConverter, LocalARNBuilder, RouteMatcher

from infra.local import lambdas
from infra.local.resources import Physical, evaluate_conditions, resolve

if TYPE_CHECKING:
    from infra.local.lambdas import Invocation, LambdaService
    from infra.local.stack import Stack

logger = logging.getLogger("infra.local")  # not under "clientarea": Powertools owns that logger
# API Gateway's own status for a gateway response the template does not set.
DEFAULT_STATUS = {
    "UNAUTHORIZED": 401,
    "ACCESS_DENIED": 403,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "REQUEST_TOO_LARGE": 413,
    "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "DEFAULT_5XX": 502,  # a Lambda proxy integration whose function failed or timed out
}
_REQUEST_HEADER = "method.request.header."


@dataclass
class Trace:
    """What answered a request (for the dev server's access log)."""

    function: str | None = None  # the route's function; None when the gateway alone answered
    gateway_response: str | None = None  # the template's response type, when one answered
    invocations: list[Invocation] = field(default_factory=list)


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    trace: Trace | None = None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def _with_request_id(response: HttpResponse, event: dict[str, Any]) -> HttpResponse:
    """API Gateway (REST) names the request in every answer it makes for a method:
    the id its access log and the functions' `correlation_id` carry."""
    response.headers.setdefault("x-amzn-RequestId", event["requestContext"]["requestId"])
    return response


class LocalApi:
    """The REST API of template.yaml, callable in-process or behind the dev server."""

    def __init__(
        self,
        stack: Stack,
        stage: str = "api",
        physical: Physical | None = None,
        service: LambdaService | None = None,
    ) -> None:
        if "Cors" in stack.api():
            # SAM's Cors makes OPTIONS mock integrations with fixed headers; the template
            # routes OPTIONS to the functions instead, and this emulator does that only.
            raise ValueError("template.yaml: the API's Cors (SAM's OPTIONS mocks) is not emulated")
        self._functions = stack.functions()
        self._routes = {(r.path, r.method): r for r in stack.routes(preflight=True)}
        self._matcher = RouteMatcher(sorted({r.path for r in self._routes.values()}))
        self._converter = LambdaEventConverter(self._matcher)
        self._authorizer = self._functions[stack.authorizer_function()]
        self._gateway_responses = stack.gateway_responses()
        self._binary_types = {
            media.replace("~1", "/").lower() for media in stack.api().get("BinaryMediaTypes", [])
        }
        self._arn_builder = LocalARNBuilder()
        self._stage = stage
        if physical is None:  # the template's defaults, as an undeployed stack has them
            physical = Physical(refs=stack.parameter_values(stack.parameter_defaults()))
            physical.conditions.update(evaluate_conditions(stack, physical))
        self._physical = physical
        self._lambdas = service or lambdas.SERVICE

    def handle(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        source_ip: str = "127.0.0.1",
    ) -> HttpResponse:
        method = method.upper()
        try:
            match = self._matcher.match_route(url)
        except ValueError:
            match = None
        route = self._routes.get((match.route, method)) if match is not None else None
        if route is None:  # API Gateway: a path or method it does not have
            return self.gateway_response("MISSING_AUTHENTICATION_TOKEN", headers)
        event = self._proxy_event(method, url, headers, body, source_ip)
        trace = Trace(function=route.function)
        if route.authorized:
            denied = self._authorize(event, method, match.route, trace)
            if denied is not None:
                return _with_request_id(denied, event)
        invocation = self._lambdas.invoke(self._functions[route.function], event)
        trace.invocations.append(invocation)
        if invocation.failed or not _is_proxy_result(invocation.result):
            error = invocation.error
            if error is not None:
                logger.error(
                    "%s failed", route.function, exc_info=(type(error), error, error.__traceback__)
                )
            return _with_request_id(self.gateway_response("DEFAULT_5XX", headers, trace), event)
        response = self._to_http(invocation.result, event["headers"])
        response.trace = trace
        return _with_request_id(response, event)

    # --- API Gateway's pieces ---------------------------------------------------------

    def _proxy_event(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, source_ip: str
    ) -> dict[str, Any]:
        event = self._converter.create_lambda_event(method, url, headers, body)
        context = event["requestContext"]
        path = context["path"]
        multi_query = event.get("multiValueQueryStringParameters")
        context.update(
            {
                "stage": self._stage,
                "path": f"/{self._stage}{path}",
                "requestId": str(uuid.uuid4()),
                "accountId": LocalARNBuilder.LOCAL_ACCOUNT_ID,
                "apiId": LocalARNBuilder.LOCAL_API_ID,
                "identity": {
                    "sourceIp": source_ip,
                    "userAgent": event["headers"].get("user-agent"),
                },
            }
        )
        # API Gateway appends the caller's address to X-Forwarded-For (sourceIp is the
        # address itself, whatever the header said before).
        forwarded = event["headers"].get("x-forwarded-for")
        event["headers"]["x-forwarded-for"] = (
            f"{forwarded}, {source_ip}" if forwarded else source_ip
        )
        if isinstance(event.get("body"), bytes):
            event["body"] = event["body"].decode("utf-8", errors="replace")
        event.update(
            {
                "resource": context["resourcePath"],
                "path": path,
                "httpMethod": method,
                "multiValueHeaders": {k: [v] for k, v in event["headers"].items()},
                "queryStringParameters": (
                    {k: v[-1] for k, v in multi_query.items()} if multi_query else None
                ),
                "pathParameters": event.get("pathParameters") or None,
                "stageVariables": None,
                "isBase64Encoded": False,
            }
        )
        return event

    def _authorize(
        self, event: dict[str, Any], method: str, route: str, trace: Trace
    ) -> HttpResponse | None:
        asked = event["headers"]
        if not any(k.lower() == "authorization" and v for k, v in asked.items()):
            return self.gateway_response("UNAUTHORIZED", asked, trace)
        arn = self._arn_builder.build_arn(method, event["path"])
        request = {
            "type": "REQUEST",
            "methodArn": arn,
            "resource": route,
            "path": event["path"],
            "httpMethod": method,
            "headers": event["headers"],
            "queryStringParameters": event["queryStringParameters"],
            "pathParameters": event["pathParameters"],
            "requestContext": event["requestContext"],
        }
        invocation = self._lambdas.invoke(self._authorizer, request)
        trace.invocations.append(invocation)
        if invocation.failed:
            # API Gateway maps exactly "Unauthorized" to 401; any other error or a timeout
            # (DynamoDB throttled, say) refuses the request as AUTHORIZER_CONFIGURATION_ERROR.
            if str(invocation.error) == "Unauthorized":
                return self.gateway_response("UNAUTHORIZED", asked, trace)
            logger.error("authorizer failed: %r", invocation.error or "timed out")
            return self.gateway_response("AUTHORIZER_CONFIGURATION_ERROR", asked, trace)
        answer = invocation.result
        if not self._allows(answer.get("policyDocument", {}), arn):
            return self.gateway_response("ACCESS_DENIED", asked, trace)
        context = {k: str(v) for k, v in (answer.get("context") or {}).items()}
        context["principalId"] = str(answer.get("principalId", ""))
        event["requestContext"]["authorizer"] = context
        return None

    @staticmethod
    def _allows(policy: dict[str, Any], arn: str) -> bool:
        matcher = ARNMatcher(arn)
        allowed = False
        for statement in policy.get("Statement", []):
            resources = statement.get("Resource", [])
            resources = [resources] if isinstance(resources, str) else resources
            if matcher.does_any_resource_match(resources):
                if statement.get("Effect") == "Deny":
                    return False
                allowed = allowed or statement.get("Effect") == "Allow"
        return allowed

    def gateway_response(
        self, kind: str, request_headers: dict[str, str], trace: Trace | None = None
    ) -> HttpResponse:
        """The template's gateway response `kind`, else its DEFAULT_4XX or DEFAULT_5XX,
        with the status API Gateway gives `kind` when the template sets none, and only
        the headers the template gives it: a fixed 'value', or a request header's."""
        default_status = DEFAULT_STATUS.get(kind, 400)
        spec = self._gateway_responses.get(kind) or self._gateway_responses.get(
            "DEFAULT_5XX" if default_status >= 500 else "DEFAULT_4XX", {}
        )
        body = spec.get("ResponseTemplates", {}).get("application/json", "{}")
        asked = {k.lower(): v for k, v in request_headers.items()}
        headers = {"Content-Type": "application/json"}
        for name, raw in spec.get("ResponseParameters", {}).get("Headers", {}).items():
            value = str(resolve(raw, self._physical))
            if value.startswith("'") and value.endswith("'"):
                headers[name] = value[1:-1]
            elif value.startswith(_REQUEST_HEADER):
                echoed = asked.get(value.removeprefix(_REQUEST_HEADER).lower())
                if echoed is not None:
                    headers[name] = echoed
            else:
                raise ValueError(f"gateway response {kind}: {name}: {value} is not emulated")
        trace = trace or Trace()
        trace.gateway_response = kind
        status = int(spec.get("StatusCode", default_status))
        return HttpResponse(status, headers, body.encode(), trace)

    def _to_http(self, result: dict[str, Any], request_headers: dict[str, str]) -> HttpResponse:
        headers = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = ", ".join(values)
        body = result.get("body") or ""
        raw = body.encode() if isinstance(body, str) else body
        if result.get("isBase64Encoded") and self._accepts_binary(request_headers):
            raw = base64.b64decode(raw)
        return HttpResponse(int(result.get("statusCode", 200)), headers, raw)

    def _accepts_binary(self, request_headers: dict[str, str]) -> bool:
        """API Gateway (REST) decodes a base64 body only when the request's Accept names
        one of the API's BinaryMediaTypes; otherwise the client gets the base64 text."""
        accept = next((v for k, v in request_headers.items() if k.lower() == "accept"), "")
        offered = {part.split(";")[0].strip().lower() for part in accept.split(",")}
        return bool(offered & self._binary_types)


def _is_proxy_result(result: Any) -> bool:
    """A Lambda proxy integration's answer; anything else is API Gateway's 502."""
    return isinstance(result, dict) and isinstance(result.get("statusCode"), int)
