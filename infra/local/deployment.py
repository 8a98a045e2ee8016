"""One local deployment of template.yaml on moto: resources, environment, API, queues.

Call `LocalDeployment.start()` while moto is active (in-process `mock_aws` or a moto
server named by AWS_ENDPOINT_URL): it creates the resources, exports the functions'
environment into this process, and wires the API and the queue consumers. The
functions are imported only after that, exactly as Lambda starts them.
"""

from __future__ import annotations

import os
from typing import Any

from infra.local import ses_feedback
from infra.local import stack as stack_module
from infra.local.gateway import LocalApi
from infra.local.moto_fixes import (
    enforce_s3_post_policy,
    honour_transact_get_projections,
    serialise_dynamodb,
)
from infra.local.queues import QueueConsumers
from infra.local.resources import Physical, create_all, environment
from infra.local.roles import LambdaRoles
from infra.local.stack import REGION, physical_name

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}

# moto runs state machines for real (service integrations only; it never runs Lambda code).
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}

# Where the reference web client runs in development (`make dev`'s --frontend-url).
DEV_FRONTEND_URL = "http://127.0.0.1:5173"
DEV_ALLOWED_ORIGINS = ("http://127.0.0.1:5173", "http://localhost:5173")

DEV_PARAMETERS = {
    "Stage": "api",
    "FrontendUrl": DEV_FRONTEND_URL,
    "AllowedOrigins": ",".join(DEV_ALLOWED_ORIGINS),
    "SenderAddress": "no-reply@clientarea.test",
    "SupportAddress": "support@clientarea.test",
    "SalesAddress": "sales@clientarea.test",
    # The contract: at least 300 requests per hour per route from one address locally.
    "IpRequestsPerHour": "1000",
}


def aws_environment() -> None:
    """Dummy credentials and the region, so no real AWS account can ever be reached."""
    os.environ.update(FAKE_CREDENTIALS)


def preset_table_environment() -> None:
    """Export credentials and the (deterministic) table names before anything imports
    `clientarea.tables`, whose models read their table names at import, as on Lambda."""
    aws_environment()
    stack = stack_module.load()
    for function in stack.functions().values():
        for name, raw in function.environment.items():
            if isinstance(raw, dict) and raw.get("Ref") in stack.of_type("AWS::DynamoDB::Table"):
                os.environ[name] = physical_name(raw["Ref"])


class LocalDeployment:
    def __init__(
        self, parameters: dict[str, str] | None = None, *, enforce_iam: bool = False
    ) -> None:
        self.stack = stack_module.load()
        self.parameters = {
            **self.stack.parameter_defaults(),
            **DEV_PARAMETERS,
            **(parameters or {}),
        }
        self.physical: Physical | None = None
        self.env: dict[str, str] = {}
        self.api: LocalApi | None = None
        self.queues: QueueConsumers | None = None
        self.enforce_iam = enforce_iam
        self.roles: LambdaRoles | None = None

    def start(self) -> LocalDeployment:
        aws_environment()
        serialise_dynamodb()  # transactions all-or-nothing across threads, as on AWS
        honour_transact_get_projections()  # TransactGetItems returns what was asked
        enforce_s3_post_policy()  # S3 refuses uploads outside their signed policy
        ses_feedback.enforce()  # configuration sets: checked, and their events published
        self.physical = create_all(self.stack, self.parameters)
        self.env = environment(self.stack, self.physical)
        os.environ.update(self.env)
        self.api = LocalApi(self.stack, stage=self.parameters["Stage"], physical=self.physical)
        self.queues = QueueConsumers(self.stack, self.physical)
        if self.enforce_iam:
            # Last: creating the resources above is the deployer's work, not a function's.
            self.roles = LambdaRoles(self.stack, self.physical).install()
        return self

    def stop(self) -> None:
        """Hand IAM enforcement back (the process may host another deployment next)."""
        if self.roles is not None:
            self.roles.uninstall()
            self.roles = None

    def table(self, logical_id: str) -> str:
        assert self.physical is not None
        return self.physical.refs[logical_id]

    def describe(self) -> dict[str, Any]:
        assert self.physical is not None
        return {"parameters": self.parameters, "resources": dict(self.physical.refs)}
