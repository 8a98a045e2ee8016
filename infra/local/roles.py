"""Each function runs with its own role, as on Lambda, and moto enforces IAM.

`LambdaRoles(stack, physical).install()` (done by `LocalDeployment(enforce_iam=True)`):

1. Expands template.yaml with samtranslator, as `sam deploy` does, and takes each
   function's execution role from it: the inline policies (the template's statements
   and the SAM policy templates, expanded) and the managed policies SAM attaches
   (their documents from moto's copy of the AWS managed policies).
2. Creates those roles in moto's IAM, resolved against the local resources, and one
   session per role (STS), plus an administrator for everything that is not a
   function: the test's own setup and reads, the dev routes, and the Step Functions
   executor (whose own role moto cannot apply: see docs/operations.md).
3. Signs every request with the credentials of the function running on this thread
   (an execution environment's thread is its function's, infra/local/lambdas.py; the
   SQS event source mappings poll with their function's role, as Lambda's do;
   `acting_as` for anything else): per request, not through process-wide environment
   variables, since every function shares this process.
4. Turns moto's IAM enforcement on, with the checks of `infra/local/iam.py` in place
   of moto's own (table and index ARNs, one check per transaction item, conditions).
"""

from __future__ import annotations

import contextvars
import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.credentials import Credentials
from botocore.signers import RequestSigner

from infra.local import iam
from infra.local.resources import Physical, resolve
from infra.local.stack import ACCOUNT_ID, REGION, ROOT, STACK_NAME, Stack, physical_name

if TYPE_CHECKING:
    from moto.core.responses import BaseResponse

ADMIN_USER = "local-administrator"
EVERYTHING = {"Effect": "Allow", "Action": "*", "Resource": "*"}
_current_function: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "clientarea_local_function", default=None
)
_active: LambdaRoles | None = None


@contextmanager
def acting_as(function_logical_id: str) -> Iterator[None]:
    """AWS calls made on this thread sign with this function's role meanwhile."""
    token = _current_function.set(function_logical_id)
    try:
        yield
    finally:
        _current_function.reset(token)


def current_function() -> str | None:
    return _current_function.get()


# --- the template's roles ------------------------------------------------------------


@cache
def translated() -> dict[str, Any]:
    """template.yaml as plain CloudFormation: SAM's expansion, offline (LOCAL-AWS.md)."""
    from samtranslator.translator.transform import transform  # noqa: PLC0415 - 0.3 s
    from samtranslator.yaml_helper import yaml_parse  # noqa: PLC0415

    template = yaml_parse((ROOT / "template.yaml").read_text())
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://placeholder/{props[key]}"

    class _NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    return transform(template, {}, _NoManagedPolicies())


@cache
def _managed_policy_documents() -> dict[str, dict[str, Any]]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data  # noqa: PLC0415

    return {name: spec["Document"] for name, spec in json.loads(aws_managed_policies_data).items()}


def _managed(arn: str) -> dict[str, Any]:
    name = arn.rpartition("/")[2]
    try:
        return _managed_policy_documents()[name]
    except KeyError:
        raise ValueError(f"managed policy {arn} unknown to moto") from None


def _resolve_deep(value: Any, physical: Physical) -> Any:
    if isinstance(value, list):
        return [_resolve_deep(item, physical) for item in value]
    if isinstance(value, dict):
        if len(value) == 1 and (next(iter(value)).startswith("Fn::") or "Ref" in value):
            if "Ref" in value and value["Ref"].startswith("AWS::"):
                return {
                    "AWS::Region": REGION,
                    "AWS::AccountId": ACCOUNT_ID,
                    "AWS::Partition": "aws",
                    "AWS::StackName": STACK_NAME,
                }[value["Ref"]]
            if "Fn::Join" in value:
                separator, parts = value["Fn::Join"]
                return separator.join(str(_resolve_deep(p, physical)) for p in parts)
            return resolve(value, physical)
        return {key: _resolve_deep(item, physical) for key, item in value.items()}
    return value


def function_policies(physical: Physical) -> dict[str, list[dict[str, Any]]]:
    """Each function's logical id → the policy documents of its execution role."""
    resources = translated()["Resources"]
    result = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        role_id = resource["Properties"]["Role"]["Fn::GetAtt"][0]
        role = resources[role_id]["Properties"]
        documents = [
            _resolve_deep(policy["PolicyDocument"], physical) for policy in role.get("Policies", [])
        ]
        documents += [_managed(arn) for arn in role.get("ManagedPolicyArns", [])]
        result[logical_id] = documents
    return result


# --- roles, sessions and signing -----------------------------------------------------------


class LambdaRoles:
    def __init__(self, stack: Stack, physical: Physical) -> None:
        self.stack = stack
        self.physical = physical
        self.policies = function_policies(physical)
        self._credentials: dict[str | None, Credentials] = {}
        self._previous: LambdaRoles | None = None

    def install(self) -> LambdaRoles:
        """Create the administrator and the roles in moto's IAM (through its backend,
        as CloudFormation would: no request of ours is the deployer's to sign)."""
        global _active  # noqa: PLW0603 - the process's enforcing deployment (the innermost)
        from moto.iam.models import iam_backends  # noqa: PLC0415

        backend = iam_backends[ACCOUNT_ID]["aws"]
        backend.create_user(REGION, ADMIN_USER)
        backend.put_user_policy(
            ADMIN_USER,
            "AdministratorAccess",
            json.dumps({"Version": "2012-10-17", "Statement": [EVERYTHING]}),
        )
        key = backend.create_access_key(ADMIN_USER)
        self._credentials[None] = Credentials(key.access_key_id, key.secret_access_key)
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        for function, documents in self.policies.items():
            role_name = physical_name(f"{function}Role")
            role = backend.create_role(
                role_name=role_name,
                assume_role_policy_document=json.dumps(trust),
                path="/",
                permissions_boundary=None,
                description=f"{function} (template.yaml)",
                tags=[],
                max_session_duration=None,
            )
            for index, document in enumerate(documents):
                # IAM takes a document without Version as 2008-10-17; moto wants one.
                backend.put_role_policy(
                    role_name,
                    f"{function}Policy{index}",
                    json.dumps({"Version": "2012-10-17", **document}),
                )
            self._credentials[function] = _assume(role.arn, function)
        _install_signer_hook()
        _install_moto_checks()
        from moto import settings  # noqa: PLC0415
        from moto.core.authorization import ActionAuthenticatorMixin  # noqa: PLC0415

        self._saved = (
            settings.INITIAL_NO_AUTH_ACTION_COUNT,
            ActionAuthenticatorMixin.request_count,
        )
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0  # every request from now on is checked
        ActionAuthenticatorMixin.request_count = 0
        self._previous = _active  # a deployment started inside another one's lifetime
        _active = self
        return self

    def uninstall(self) -> None:
        global _active  # noqa: PLW0603
        if _active is not self:
            return
        from moto import settings  # noqa: PLC0415
        from moto.core.authorization import ActionAuthenticatorMixin  # noqa: PLC0415

        settings.INITIAL_NO_AUTH_ACTION_COUNT, ActionAuthenticatorMixin.request_count = self._saved
        _active = self._previous

    def credentials(self, function: str | None) -> Credentials:
        """The function's role session; the administrator's outside any function."""
        try:
            return self._credentials[function]
        except KeyError:
            raise LookupError(f"{function} has no role in template.yaml") from None

    def secret_for(self, access_key_id: str) -> str | None:
        for credentials in self._credentials.values():
            if credentials.access_key == access_key_id:
                return credentials.secret_key
        return None


def _assume(role_arn: str, session_name: str) -> Credentials:
    """A session of the role, as Lambda takes one for each execution environment."""
    from moto.sts.models import sts_backends  # noqa: PLC0415

    role = sts_backends[ACCOUNT_ID]["aws"].assume_role(
        region_name=REGION,
        role_session_name=session_name,
        role_arn=role_arn,
        policy="",
        duration=43200,
        external_id="",
    )
    return Credentials(role.access_key_id, role.secret_access_key, role.session_token)


def active() -> LambdaRoles | None:
    return _active


def _install_signer_hook() -> None:
    """Sign with the running function's credentials (idempotent)."""
    if getattr(RequestSigner.get_auth_instance, "per_function", False):
        return
    original = RequestSigner.get_auth_instance

    @functools.wraps(original)
    def get_auth_instance(self: RequestSigner, *args: Any, **kwargs: Any) -> Any:
        roles = _active
        if roles is not None:
            kwargs["request_credentials"] = roles.credentials(current_function())
        return original(self, *args, **kwargs)

    get_auth_instance.per_function = True  # type: ignore[attr-defined]
    RequestSigner.get_auth_instance = get_auth_instance  # type: ignore[method-assign]
    RequestSigner.get_auth = get_auth_instance  # type: ignore[method-assign]


# --- moto: decide with infra.local.iam ----------------------------------------------------


def _documents(policies: list[Any]) -> list[dict[str, Any]]:
    """moto's collected policies (inline strings, stored dicts or Policy objects)."""
    from moto.iam.models import Policy  # noqa: PLC0415

    documents = []
    for policy in policies:
        if isinstance(policy, Policy):
            text = next(v.document for v in policy.versions if v.is_default)
        elif isinstance(policy, str):
            text = policy
        else:
            text = policy["policy_document"]
        documents.append(json.loads(text) if isinstance(text, str) else text)
    return documents


def _params(response: BaseResponse) -> dict[str, Any]:
    body = getattr(response, "body", None)
    if isinstance(body, dict):
        return body
    if isinstance(body, bytes):
        body = body.decode()
    try:
        return json.loads(body) if body else {}
    except ValueError:
        return {}


def _checks(response: BaseResponse, action: str, resource: str) -> list[iam.Check]:
    service, _, operation = action.partition(":")
    if service == "dynamodb":
        from moto.dynamodb.models import dynamodb_backends  # noqa: PLC0415

        tables = dynamodb_backends[ACCOUNT_ID][REGION].tables
        hash_keys = {name: table.hash_key_attr for name, table in tables.items()}
        return iam.dynamodb_checks(
            operation, _params(response), region=REGION, account=ACCOUNT_ID, hash_keys=hash_keys
        )
    if service == "ses" and operation == "SendEmail" and response.service_name == "sesv2":
        from moto.ses.models import ses_backends  # noqa: PLC0415

        backend = ses_backends[ACCOUNT_ID][REGION]
        verified = {identity.casefold() for identity in backend.email_identities}
        return iam.ses_send_checks(
            _params(response), region=REGION, account=ACCOUNT_ID, verified=verified
        )
    if service == "states":
        return iam.states_checks(operation, _params(response))
    if service == "sqs":
        return iam.sqs_checks(operation, resource)
    if service == "s3":
        if getattr(response, "is_delete_keys", lambda: False)():
            return iam.s3_delete_objects_checks(resource, _deleted_objects(response))
        querystring = getattr(response, "querystring", {}) or {}
        return [iam.Check(action, resource, iam.s3_context(action, querystring))]
    return [iam.Check(action, resource)]


def _deleted_objects(response: BaseResponse) -> list[dict[str, Any]]:
    """The objects a DeleteObjects request names (its XML body), as moto reads them."""
    import xmltodict  # noqa: PLC0415 - moto's own dependency

    objects = xmltodict.parse(response.body, strip_whitespace=False)["Delete"].get("Object", [])
    return objects if isinstance(objects, list) else [objects]


def _denied(request: Any, check: iam.Check) -> Exception:
    """AWS's refusal, shaped for the service's protocol."""
    from moto.core.exceptions import JsonRESTError  # noqa: PLC0415

    message = (
        f"User: {request._access_key.arn} is not authorized to perform: {check.action} "
        f"on resource: {check.resource} because no identity-based policy allows the "
        f"{check.action} action"
    )
    content_type = request._headers.get("Content-Type") or request._headers.get("content-type")
    if "json" in (content_type or ""):  # a JSON or REST-JSON protocol service
        error = JsonRESTError("AccessDeniedException", message)
        error.code = 400
        return error
    try:
        request._raise_access_denied()
    except Exception as exc:  # moto's own, per protocol (S3 XML, SQS …)
        return exc
    raise AssertionError("unreachable")


def _install_moto_checks() -> None:
    """Replace moto's authorisation step (idempotent)."""
    from moto import settings  # noqa: PLC0415
    from moto.core.authorization import ActionAuthenticatorMixin  # noqa: PLC0415

    if getattr(ActionAuthenticatorMixin._authenticate_and_authorize_action, "per_item", False):
        return

    def authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
            ActionAuthenticatorMixin.request_count += 1
            return
        if "Authorization" not in self.headers:
            _authorize_presigned(self, resource)
            return
        from urllib.parse import urlparse  # noqa: PLC0415

        path = self.raw_path
        if urlparse(self.uri).query:
            path += "?" + urlparse(self.uri).query
        request = iam_request_cls(
            account_id=self.current_account,
            method=self.method,
            path=path,
            data=self.data,
            body=self.raw_body,
            headers=self.headers,
            action=self._get_action(),
        )
        request.check_signature()
        if request._action == "sts:GetCallerIdentity":
            return
        documents = _documents(request._access_key.collect_policies())
        for check in _checks(self, request._action, resource):
            if not iam.is_allowed(documents, check.action, check.resource, check.context):
                raise _denied(request, check)

    authorize.per_item = True  # type: ignore[attr-defined]
    ActionAuthenticatorMixin._authenticate_and_authorize_action = authorize  # type: ignore[method-assign]


def _authorize_presigned(response: Any, resource: str) -> None:
    """A presigned URL or a browser POST form: the signer's rights apply. (That the
    signature and expiry are right is checked elsewhere: moto_fixes for POST forms,
    nothing locally for presigned URLs.)"""
    form = {k.lower(): v for k, v in (getattr(response, "form_data", None) or {}).items()}
    query = {k.lower(): v for k, v in (getattr(response, "querystring", None) or {}).items()}
    credential = form.get("x-amz-credential") or (query.get("x-amz-credential") or [""])[0]
    if isinstance(credential, list):
        credential = credential[0]
    roles = _active
    if not credential or roles is None:
        return
    access_key = credential.split("/")[0]
    signers = [f for f, c in roles._credentials.items() if c.access_key == access_key]
    if not signers:
        from moto.s3.exceptions import S3InvalidAccessKeyIdError  # noqa: PLC0415

        raise S3InvalidAccessKeyIdError
    function = signers[0]
    if "key" in form:  # a POST upload: the object it would create
        bucket = resource.removeprefix("arn:aws:s3:::")
        action, resource = "s3:PutObject", f"arn:aws:s3:::{bucket}/{form['key']}"
    else:
        action = f"s3:{response._get_action()}"
    documents = [{"Statement": [EVERYTHING]}] if function is None else roles.policies[function]
    if not iam.is_allowed(documents, action, resource, {}):
        from moto.s3.exceptions import S3AccessDeniedError  # noqa: PLC0415

        raise S3AccessDeniedError
