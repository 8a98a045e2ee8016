"""API Gateway's part of a request, done locally with chalice.local's machinery.

Route matching and proxy events come from chalice.local (RouteMatcher,
LambdaEventConverter, LambdaContext, ARNMatcher); on top of them this module applies
the template's Lambda REQUEST authorizer as API Gateway does (401 without calling it
when the identity header is missing, 401 on "Unauthorized", the template's
AUTHORIZER_CONFIGURATION_ERROR on any other error of the authorizer, 403 when the returned
policy does not allow the method ARN, the authorizer's context handed on to the
function) and answers with the template's gateway responses.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import logging
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from chalice.local import (
    ARNMatcher,
    LambdaContext,
    LambdaEventConverter,
    LocalARNBuilder,
    RouteMatcher,
)

from infra.local.roles import acting_as

if TYPE_CHECKING:
    from infra.local.stack import Function, Stack

logger = logging.getLogger("clientarea.local")
Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def load_handler(function: Function) -> Handler:
    """A function's handler, imported by file path under a unique module name, as each
    Lambda has its own `app` module."""
    attribute = function.handler.rpartition(".")[2]
    return getattr(load_module(function), attribute)


def load_module(function: Function) -> ModuleType:
    module_file = function.handler.rpartition(".")[0]
    name = f"clientarea_local.{function.logical_id}.{module_file}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, function.code_uri / f"{module_file}.py")
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {function.handler} from {function.code_uri}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def invoke(function: Function, event: dict[str, Any]) -> Any:
    context = LambdaContext(function.logical_id, function.memory, function.timeout * 1000)
    context.invoked_function_arn = (  # type: ignore[attr-defined]
        f"arn:aws:lambda:eu-central-1:123456789012:function:{function.logical_id}"
    )
    handler = load_handler(function)
    with acting_as(function.logical_id):  # its AWS calls sign with its role
        return handler(event, context)


class LocalApi:
    """The REST API of template.yaml, callable in-process or behind the dev server."""

    def __init__(self, stack: Stack, stage: str = "api", cors_origin: str = "*") -> None:
        self._functions = stack.functions()
        self._routes = {(r.path, r.method): r for r in stack.routes()}
        self._matcher = RouteMatcher(sorted({r.path for r in self._routes.values()}))
        self._converter = LambdaEventConverter(self._matcher)
        self._authorizer = self._functions[stack.authorizer_function()]
        self._gateway_responses = stack.gateway_responses()
        self._binary_types = {
            media.replace("~1", "/").lower() for media in stack.api().get("BinaryMediaTypes", [])
        }
        self._arn_builder = LocalARNBuilder()
        self._stage = stage
        self._cors_origin = cors_origin

    def paths(self) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for path, method in self._routes:
            result.setdefault(path, []).append(method)
        return result

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
            return self._gateway_response("MISSING_AUTHENTICATION_TOKEN")
        if method == "OPTIONS":
            return self._preflight(match.route)
        route = self._routes.get((match.route, method))
        if route is None:
            allowed = sorted(m for (p, m) in self._routes if p == match.route)
            # Deployed, API Gateway says 404 here; locally a 405 with Allow keeps HTTP
            # tools (and schemathesis) honest about which methods exist.
            body = {
                "code": "method_not_allowed",
                "message": "This route does not take that method.",
            }
            headers = {
                "Content-Type": "application/json",
                "Allow": ", ".join([*allowed, "OPTIONS"]),
                **self._cors_headers(),
            }
            return HttpResponse(405, headers, json.dumps(body).encode())
        event = self._proxy_event(method, url, headers, body, source_ip)
        if route.authorized:
            denied = self._authorize(event, method, match.route)
            if denied is not None:
                return denied
        result = invoke(self._functions[route.function], event)
        return self._to_http(result, event["headers"])

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

    def _authorize(self, event: dict[str, Any], method: str, route: str) -> HttpResponse | None:
        if not any(k.lower() == "authorization" and v for k, v in event["headers"].items()):
            return self._gateway_response("UNAUTHORIZED")
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
        try:
            answer = invoke(self._authorizer, request)
        except Exception as exc:  # API Gateway maps exactly "Unauthorized" to 401
            if str(exc) == "Unauthorized":
                return self._gateway_response("UNAUTHORIZED")
            # Any other error (DynamoDB throttled, say): the request is refused, as
            # AuthorizerConfigurationException (500 unless the template says otherwise).
            logger.exception("authorizer failed")
            return self._gateway_response("AUTHORIZER_CONFIGURATION_ERROR", default_status=500)
        if not self._allows(answer.get("policyDocument", {}), arn):
            return self._gateway_response("ACCESS_DENIED")
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

    def _gateway_response(self, kind: str, default_status: int = 400) -> HttpResponse:
        """The template's response `kind`, else its DEFAULT_4XX/5XX with the status API
        Gateway gives `kind` by default."""
        spec = self._gateway_responses.get(kind) or self._gateway_responses.get(
            "DEFAULT_5XX" if default_status >= 500 else "DEFAULT_4XX", {}
        )
        body = spec.get("ResponseTemplates", {}).get("application/json", "{}")
        headers = {"Content-Type": "application/json", **self._cors_headers()}
        for name, value in spec.get("ResponseParameters", {}).get("Headers", {}).items():
            if isinstance(value, str):  # literal values are quoted strings: 'x'
                headers[name] = value.strip("'")
        return HttpResponse(int(spec.get("StatusCode", default_status)), headers, body.encode())

    def _preflight(self, route: str) -> HttpResponse:
        methods = sorted(m for (p, m) in self._routes if p == route)
        headers = {
            **self._cors_headers(),
            "Access-Control-Allow-Methods": ",".join([*methods, "OPTIONS"]),
            "Access-Control-Allow-Headers": (
                "Content-Type,Authorization,Accept-Language,Idempotency-Key,X-Recovery-Key"
            ),
            "Access-Control-Max-Age": "600",
        }
        return HttpResponse(204, headers)

    def _cors_headers(self) -> dict[str, str]:
        return {"Access-Control-Allow-Origin": self._cors_origin}

    def _to_http(self, result: dict[str, Any], request_headers: dict[str, str]) -> HttpResponse:
        headers = {**self._cors_headers(), **(result.get("headers") or {})}
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
