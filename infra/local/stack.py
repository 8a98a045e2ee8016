"""What template.yaml declares, in the shape the local emulation needs.

Nothing here is a second list of resources: tables, queues, functions, routes and
environment variables are all read from the template, so tests and the dev server
cannot drift from what `sam deploy` creates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
STACK_NAME = "clientarea-local"
ACCOUNT_ID = "123456789012"
REGION = "eu-central-1"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    authorized: bool


@dataclass(frozen=True)
class QueueConsumer:
    queue: str
    function: str
    batch_size: int


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_uri: Path
    handler: str
    timeout: int
    memory: int
    environment: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Stack:
    template: dict[str, Any]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}

    def parameter_defaults(self) -> dict[str, str]:
        return {
            name: str(spec.get("Default", ""))
            for name, spec in self.template.get("Parameters", {}).items()
        }

    def parameter_values(self, given: dict[str, str]) -> dict[str, Any]:
        """Parameter values as `Ref` gives them: a CommaDelimitedList is a list."""
        specs = self.template.get("Parameters", {})
        return {
            name: (
                [item.strip() for item in value.split(",")]
                if specs.get(name, {}).get("Type") == "CommaDelimitedList"
                else value
            )
            for name, value in given.items()
        }

    def functions(self) -> dict[str, Function]:
        globals_ = self.template.get("Globals", {}).get("Function", {})
        global_env = globals_.get("Environment", {}).get("Variables", {})
        result = {}
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            props = resource["Properties"]
            env = {**global_env, **props.get("Environment", {}).get("Variables", {})}
            result[logical_id] = Function(
                logical_id=logical_id,
                code_uri=ROOT / props["CodeUri"],
                handler=props["Handler"],
                timeout=int(props.get("Timeout", globals_.get("Timeout", 3))),
                memory=int(props.get("MemorySize", globals_.get("MemorySize", 128))),
                environment=env,
            )
        return result

    def api(self) -> dict[str, Any]:
        (api,) = self.of_type("AWS::Serverless::Api").values()
        return api["Properties"]

    def authorizer_function(self) -> str:
        auth = self.api()["Auth"]
        spec = auth["Authorizers"][auth["DefaultAuthorizer"]]
        return spec["FunctionArn"]["Fn::GetAtt"][0]

    def gateway_responses(self) -> dict[str, dict[str, Any]]:
        return self.api().get("GatewayResponses", {})

    def routes(self, *, preflight: bool = False) -> list[Route]:
        """The API's routes; with `preflight`, also the OPTIONS routes that answer CORS
        preflights (they are not operations of the API: no document lists them)."""
        routes = []
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            for event in resource["Properties"].get("Events", {}).values():
                if event["Type"] != "Api":
                    continue
                props = event["Properties"]
                if props["Method"].upper() == "OPTIONS" and not preflight:
                    continue
                authorizer = props.get("Auth", {}).get("Authorizer")
                routes.append(
                    Route(
                        method=props["Method"].upper(),
                        path=props["Path"],
                        function=logical_id,
                        authorized=authorizer != "NONE",
                    )
                )
        return routes

    def queue_consumers(self) -> list[QueueConsumer]:
        consumers = []
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            for event in resource["Properties"].get("Events", {}).values():
                if event["Type"] == "SQS":
                    props = event["Properties"]
                    consumers.append(
                        QueueConsumer(
                            queue=props["Queue"]["Fn::GetAtt"][0],
                            function=logical_id,
                            batch_size=int(props.get("BatchSize", 10)),
                        )
                    )
        return consumers


@cache
def load() -> Stack:
    return Stack(yaml_parse(TEMPLATE.read_text()))


def physical_name(logical_id: str) -> str:
    """Deterministic local names, so the environment is known before anything exists."""
    return f"{STACK_NAME}-{logical_id}"
