"""Lambda REQUEST authorizer for every authenticated route.

Clients are allowed everything but /staff/*; staff only /staff/* (and logout). The policy covers
whole path families rather than the one method called, so a cached answer stays
right for the caller's other requests (the cache TTL is a template parameter).
Every failure is the same "Unauthorized" (401): nothing tells a guesser why. One read per
request; at most once every 5 minutes per session, also one conditional write that
records the use (clientarea.sessions: the idle timeout counts from it). When the
session cannot be read (DynamoDB throttled or failing), the error is raised as it is:
API Gateway then refuses the request with the template's AUTHORIZER_CONFIGURATION_ERROR,
a retryable 503 `service_unavailable`, never a 401 that would log the client out. The
client gets the same safe refusal when IAM denies the read (the role lacks a
permission), but that is no passing throttle: it is logged at error level and counted
as AccessDenied, which has an alarm of its own; a throttle is a warning.
"""

from clientarea import startup  # first: pauses the garbage collector during init

# isort: split
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from clientarea import availability, sessions, snapstart
from clientarea.errors import Unauthorized
from clientarea.roles import STAFF_ROLES

logger = Logger()
snapstart.register()


def _bearer(headers: dict[str, str] | None) -> str | None:
    for name, value in (headers or {}).items():
        if name.lower() == "authorization":
            scheme, _, credentials = value.partition(" ")
            # Auth schemes are case-insensitive (RFC 9110 §11.1).
            return credentials.strip() if scheme.lower() == "bearer" else None
    return None


def _api_arn(method_arn: str) -> str:
    """`arn:aws:execute-api:region:account:api-id/stage` from a method ARN."""
    api, _, rest = method_arn.partition("/")
    stage = rest.split("/", 1)[0]
    return f"{api}/{stage}"


def policy(principal: sessions.Principal, method_arn: str) -> dict[str, Any]:
    base = _api_arn(method_arn)
    staff_routes = f"{base}/*/staff/*"
    statements = (
        [
            {
                "Effect": "Allow",
                "Action": "execute-api:Invoke",
                "Resource": [staff_routes, f"{base}/POST/auth/logout"],
            }
        ]
        if principal.role in STAFF_ROLES
        else [
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": [f"{base}/*/*"]},
            {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": [staff_routes]},
        ]
    )
    return {
        "principalId": str(principal.client_number),
        "policyDocument": {"Version": "2012-10-17", "Statement": statements},
        "context": {
            "client_number": str(principal.client_number),
            "role": principal.role,
            "locale": principal.locale,
            "session": principal.session_digest,
        },
    }


# The request id of the request being authorised: its line and the function's share it.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    identity = (event.get("requestContext") or {}).get("identity") or {}
    try:
        principal = sessions.authenticate(
            _bearer(event.get("headers")), ip=identity.get("sourceIp")
        )
    except Unauthorized:
        # API Gateway turns exactly this message into a 401.
        raise Exception("Unauthorized") from None
    except Exception as exc:
        if availability.is_access_denied(exc):
            availability.report_access_denied(exc, logger)
        else:
            logger.warning("session store unavailable", extra={"error": type(exc).__name__})
        raise
    return policy(principal, event["methodArn"])


startup.done()  # last: the initialisation is over (clientarea/startup.py)
