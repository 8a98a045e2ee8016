"""Create the template's tables, queues and SES identity on moto, and resolve the
functions' environment variables against what was created."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import boto3

from infra.local.stack import ACCOUNT_ID, REGION, ROOT, STACK_NAME, Stack, physical_name


@dataclass
class Physical:
    """What each logical resource became: its Ref value and GetAtt attributes."""

    refs: dict[str, Any] = field(default_factory=dict)  # a list parameter's Ref is a list
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)
    conditions: dict[str, bool] = field(default_factory=dict)  # the template's, evaluated


def create_all(stack: Stack, parameters: dict[str, str]) -> Physical:
    physical = Physical()
    physical.refs.update(stack.parameter_values(parameters))
    physical.refs.update(  # the pseudo parameters a !Ref may name
        {
            "AWS::StackName": STACK_NAME,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
        }
    )
    physical.conditions.update(evaluate_conditions(stack, physical))
    _create_tables(stack, physical)
    _create_queues(stack, physical)
    _create_buckets(stack, physical)
    _create_topics(stack, physical)
    _create_configuration_sets(stack, physical)
    _create_state_machines(stack, physical)
    _verify_sender(parameters["SenderAddress"])
    return physical


def _create_topics(stack: Stack, physical: Physical) -> None:
    """SNS topics and their SQS subscriptions (raw delivery as the template says). The
    topic and queue policies are left out: locally nothing but SES publishes."""
    sns = boto3.client("sns", region_name=REGION)
    for logical_id in stack.of_type("AWS::SNS::Topic"):
        arn = sns.create_topic(Name=physical_name(logical_id))["TopicArn"]
        physical.refs[logical_id] = arn  # Ref of a topic is its ARN
        physical.attributes[(logical_id, "TopicArn")] = arn
        physical.attributes[(logical_id, "TopicName")] = physical_name(logical_id)
    for resource in stack.of_type("AWS::SNS::Subscription").values():
        props = resource["Properties"]
        attributes = {"RawMessageDelivery": "true"} if props.get("RawMessageDelivery") else {}
        sns.subscribe(
            TopicArn=resolve(props["TopicArn"], physical),
            Protocol=props["Protocol"],
            Endpoint=resolve(props["Endpoint"], physical),
            Attributes=attributes,
        )


def _create_configuration_sets(stack: Stack, physical: Physical) -> None:
    """SES configuration sets and their SNS event destinations (published to by
    infra/local/ses_feedback.py, as SES does)."""
    ses = boto3.client("ses", region_name=REGION)
    for logical_id in stack.of_type("AWS::SES::ConfigurationSet"):
        name = physical_name(logical_id)
        ses.create_configuration_set(ConfigurationSet={"Name": name})
        physical.refs[logical_id] = name
    for resource in stack.of_type("AWS::SES::ConfigurationSetEventDestination").values():
        props = resource["Properties"]
        spec = props["EventDestination"]
        destination: dict[str, Any] = {
            "Name": spec["Name"],
            "Enabled": bool(spec.get("Enabled", True)),
            "MatchingEventTypes": spec["MatchingEventTypes"],
        }
        if "SnsDestination" in spec:
            destination["SNSDestination"] = {
                "TopicARN": resolve(spec["SnsDestination"]["TopicARN"], physical)
            }
        ses.create_configuration_set_event_destination(
            ConfigurationSetName=resolve(props["ConfigurationSetName"], physical),
            EventDestination=destination,
        )


def _create_state_machines(stack: Stack, physical: Physical) -> None:
    """Each AWS::Serverless::StateMachine from its definition file, with the template's
    DefinitionSubstitutions applied as SAM applies them. Created through the Step
    Functions API: moto runs only state machines made that way (not via CloudFormation)."""
    sfn = boto3.client("stepfunctions", region_name=REGION)
    for logical_id, resource in stack.of_type("AWS::Serverless::StateMachine").items():
        props = resource["Properties"]
        name = physical_name(logical_id)
        arn = sfn.create_state_machine(
            name=name,
            definition=substituted_definition(props, physical),
            roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{name}",
            type=props.get("Type", "STANDARD"),
        )["stateMachineArn"]
        physical.refs[logical_id] = arn  # Ref of a state machine is its ARN
        physical.attributes[(logical_id, "Arn")] = arn
        physical.attributes[(logical_id, "Name")] = name


def substituted_definition(props: dict[str, Any], physical: Physical) -> str:
    """The DefinitionUri file with every `${Key}` of DefinitionSubstitutions replaced."""
    text = (ROOT / props["DefinitionUri"]).read_text()
    for key, raw in props.get("DefinitionSubstitutions", {}).items():
        text = text.replace("${" + key + "}", str(resolve(raw, physical)))
    return text


def _create_tables(stack: Stack, physical: Physical) -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for logical_id, resource in stack.of_type("AWS::DynamoDB::Table").items():
        props = resource["Properties"]
        name = physical_name(logical_id)
        kwargs: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if "GlobalSecondaryIndexes" in props:
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        arn = dynamodb.create_table(**kwargs)["TableDescription"]["TableArn"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            # Enabled for fidelity; moto never deletes expired items (neither does AWS
            # promptly), which is why the code checks expiry itself.
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        physical.refs[logical_id] = name
        physical.attributes[(logical_id, "Arn")] = arn


def _create_queues(stack: Stack, physical: Physical) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    queues = stack.of_type("AWS::SQS::Queue")
    # Dead-letter queues first: the others name them in their redrive policy.
    ordered = sorted(queues, key=lambda q: "RedrivePolicy" in queues[q]["Properties"])
    for logical_id in ordered:
        props = queues[logical_id]["Properties"]
        name = physical_name(logical_id)
        attributes = {
            key: str(props[key])
            for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds")
            if key in props
        }
        if "RedrivePolicy" in props:
            redrive = props["RedrivePolicy"]
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": resolve(redrive["deadLetterTargetArn"], physical),
                    "maxReceiveCount": int(redrive["maxReceiveCount"]),
                }
            )
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        physical.refs[logical_id] = url
        physical.attributes[(logical_id, "QueueUrl")] = url
        physical.attributes[(logical_id, "QueueName")] = name
        physical.attributes[(logical_id, "Arn")] = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"


def bucket_name(logical_id: str) -> str:
    """S3 names are lowercase: the deterministic local name, lowercased."""
    return physical_name(logical_id).lower()


def _create_buckets(stack: Stack, physical: Physical) -> None:
    """Each AWS::S3::Bucket with its encryption, public access block, ownership,
    lifecycle and CORS, as CloudFormation would set them.

    The bucket policies are left out on purpose: moto evaluates a bucket policy's
    statements without their conditions, so the TLS-only Deny (whose condition is
    `aws:SecureTransport: false`) would deny every request, and locally everything is
    plain HTTP anyway. tests/unit/test_recovery_template.py checks the policy itself.
    """
    s3 = boto3.client("s3", region_name=REGION)
    for logical_id, resource in stack.of_type("AWS::S3::Bucket").items():
        if not condition_holds(stack, resource.get("Condition"), physical):
            continue  # e.g. WebClientBucket: locally, make dev serves web/dist itself
        props = resource.get("Properties", {})
        name = bucket_name(logical_id)
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        if "BucketEncryption" in props:
            rules = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": rule[
                                "ServerSideEncryptionByDefault"
                            ]
                        }
                        for rule in rules
                    ]
                },
            )
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        if "OwnershipControls" in props:
            s3.put_bucket_ownership_controls(
                Bucket=name, OwnershipControls=props["OwnershipControls"]
            )
        if "VersioningConfiguration" in props:
            s3.put_bucket_versioning(
                Bucket=name,
                VersioningConfiguration={"Status": props["VersioningConfiguration"]["Status"]},
            )
        if "LifecycleConfiguration" in props:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name,
                LifecycleConfiguration={
                    "Rules": [
                        _lifecycle_rule(rule, physical)
                        for rule in props["LifecycleConfiguration"]["Rules"]
                    ]
                },
            )
        if "CorsConfiguration" in props:
            s3.put_bucket_cors(Bucket=name, CORSConfiguration=_cors(props, physical))
        physical.refs[logical_id] = name
        physical.attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"


def _cors(props: dict[str, Any], physical: Physical) -> dict[str, Any]:
    """CloudFormation's bucket CORS rules → the S3 API's."""
    rules = [
        {
            key: resolve_all(value, physical)
            for key, value in rule.items()
            if key in {"AllowedMethods", "AllowedOrigins", "AllowedHeaders", "MaxAge"}
        }
        for rule in props["CorsConfiguration"]["CorsRules"]
    ]
    for rule in rules:
        if "MaxAge" in rule:
            rule["MaxAgeSeconds"] = int(rule.pop("MaxAge"))
    return {"CORSRules": rules}


def evaluate_conditions(stack: Stack, physical: Physical) -> dict[str, bool]:
    """Every condition of the template that the parameters in `physical.refs` decide
    (one naming a parameter not given is left out: an `Fn::If` on it fails loudly)."""
    decided = {}
    for name, spec in stack.template.get("Conditions", {}).items():
        try:
            decided[name] = _holds(spec, stack, physical)
        except KeyError:
            continue
    return decided


def rule_failures(stack: Stack, physical: Physical) -> list[str]:
    """The AssertDescription of every template rule these parameters break (what
    CloudFormation would refuse the stack for before creating anything)."""
    failures = []
    for rule in stack.template.get("Rules", {}).values():
        if "RuleCondition" in rule and not _holds(rule["RuleCondition"], stack, physical):
            continue
        failures += [
            a["AssertDescription"]
            for a in rule["Assertions"]
            if not _holds(a["Assert"], stack, physical)
        ]
    return failures


def condition_holds(stack: Stack, name: str | None, physical: Physical) -> bool:
    """Whether the template's condition `name` holds for these parameters (no condition:
    always)."""
    if name is None:
        return True
    return _holds(stack.template["Conditions"][name], stack, physical)


def _holds(spec: dict[str, Any], stack: Stack, physical: Physical) -> bool:
    """A condition's value: Fn::Equals, Fn::And, Fn::Or, Fn::Not and Condition, as
    CloudFormation evaluates them."""
    if "Condition" in spec:
        return condition_holds(stack, spec["Condition"], physical)
    if "Fn::Equals" in spec:
        left, right = spec["Fn::Equals"]
        return str(resolve(left, physical)) == str(resolve(right, physical))
    if "Fn::And" in spec:
        return all(_holds(item, stack, physical) for item in spec["Fn::And"])
    if "Fn::Or" in spec:
        return any(_holds(item, stack, physical) for item in spec["Fn::Or"])
    if "Fn::Not" in spec:
        return not _holds(spec["Fn::Not"][0], stack, physical)
    raise ValueError(f"unsupported condition in template: {spec}")


def _lifecycle_rule(rule: dict[str, Any], physical: Physical) -> dict[str, Any]:
    """CloudFormation's lifecycle rule shape → the S3 API's."""
    converted: dict[str, Any] = {
        "ID": rule["Id"],
        "Status": rule["Status"],
        "Filter": {"Prefix": rule.get("Prefix", "")},
    }
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": int(resolve(rule["ExpirationInDays"], physical))}
    if "ExpiredObjectDeleteMarker" in rule:
        converted["Expiration"] = {
            "ExpiredObjectDeleteMarker": bool(rule["ExpiredObjectDeleteMarker"])
        }
    if "NoncurrentVersionExpiration" in rule:
        days = rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
        converted["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(resolve(days, physical))}
    if "AbortIncompleteMultipartUpload" in rule:
        converted["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    return converted


def resolve_all(value: Any, physical: Physical) -> Any:
    """`resolve` through lists as well."""
    if isinstance(value, list):
        return [resolve_all(item, physical) for item in value]
    return resolve(value, physical)


def _verify_sender(sender: str) -> None:
    boto3.client("ses", region_name=REGION).verify_domain_identity(Domain=sender.rpartition("@")[2])


_SUB = re.compile(r"\$\{([A-Za-z0-9:._]+)\}")


def resolve(value: Any, physical: Physical) -> Any:
    """Evaluate the intrinsic functions the template uses in environments and queues."""
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        return physical.refs[value["Ref"]]
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return physical.attributes[(logical_id, attribute)]
    if "Fn::Sub" in value:
        return _sub(value["Fn::Sub"], physical)
    if "Fn::If" in value:  # only the branch taken is evaluated, as CloudFormation does
        condition, when_true, when_false = value["Fn::If"]
        return resolve(when_true if physical.conditions[condition] else when_false, physical)
    if "Fn::Select" in value:
        index, items = value["Fn::Select"]
        return resolve(items, physical)[int(index)]
    if "Fn::Join" in value:
        separator, items = value["Fn::Join"]
        return separator.join(str(resolve(item, physical)) for item in resolve_all(items, physical))
    if "Fn::Split" in value:
        separator, text = value["Fn::Split"]
        return resolve(text, physical).split(separator)
    raise ValueError(f"unsupported intrinsic in template: {value}")


def _sub(spec: Any, physical: Physical) -> str:
    text, variables = (spec, {}) if isinstance(spec, str) else spec
    pseudo = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID, "AWS::Partition": "aws"}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in variables:
            return str(resolve(variables[name], physical))
        if name in pseudo:
            return pseudo[name]
        if "." in name:
            logical_id, attribute = name.split(".", 1)
            return physical.attributes[(logical_id, attribute)]
        return physical.refs[name]

    return _SUB.sub(replace, text)


def environment(stack: Stack, physical: Physical) -> dict[str, str]:
    """The union of every function's environment (they share one process locally)."""
    merged: dict[str, str] = {}
    for function in stack.functions().values():
        for name, raw in function.environment.items():
            value = str(resolve(raw, physical))
            if merged.get(name, value) != value:
                raise ValueError(
                    f"{name} differs between functions; the local stack needs one value"
                )
            merged[name] = value
    return merged
