"""The local IAM decisions (infra/local/iam.py) against what AWS documents: the checks a
request needs, and how a policy's conditions decide them."""

from __future__ import annotations

import pytest

from infra.local import iam

TABLE = "arn:aws:dynamodb:eu-central-1:123456789012:table/Accounts"
CONTACT_FIELDS_ONLY = {
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "dynamodb:GetItem",
            "Resource": TABLE,
            "Condition": {
                "ForAllValues:StringEquals": {
                    "dynamodb:Attributes": ["pk", "email", "locale", "full_name"]
                },
                "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"},
            },
        }
    ]
}


def checks(operation: str, params: dict) -> list[iam.Check]:
    return iam.dynamodb_checks(
        operation,
        params,
        region="eu-central-1",
        account="123456789012",
        hash_keys={"Accounts": "pk", "Tickets": "pk"},
    )


def get_item(**extra) -> dict:
    return {"TableName": "Accounts", "Key": {"pk": {"S": "account#100001"}}, **extra}


def allowed(policy: dict, check: iam.Check) -> bool:
    return iam.is_allowed([policy], check.action, check.resource, check.context)


def test_a_projection_within_the_allowed_attributes_is_allowed():
    (check,) = checks(
        "GetItem",
        get_item(
            ProjectionExpression="#0, #1", ExpressionAttributeNames={"#0": "email", "#1": "locale"}
        ),
    )
    assert check.context["dynamodb:Attributes"] == ["email", "locale", "pk"]
    assert allowed(CONTACT_FIELDS_ONLY, check)


@pytest.mark.parametrize(
    "params",
    [
        get_item(),  # no projection: every attribute, the password hash included
        get_item(ProjectionExpression="email, password_hash"),
        get_item(AttributesToGet=["password_hash"]),
    ],
)
def test_reading_more_than_the_allowed_attributes_is_denied(params):
    (check,) = checks("GetItem", params)
    assert not allowed(CONTACT_FIELDS_ONLY, check)


def test_each_item_of_a_transaction_is_checked_with_its_own_action():
    found = checks(
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": "Tickets", "Item": {"pk": {"S": "t#1"}, "body": {"S": "x"}}}},
                {
                    "ConditionCheck": {
                        "TableName": "Accounts",
                        "Key": {"pk": {"S": "account#1"}},
                        "ConditionExpression": "attribute_exists(#0)",
                        "ExpressionAttributeNames": {"#0": "pk"},
                    }
                },
                {
                    "Update": {
                        "TableName": "Accounts",
                        "Key": {"pk": {"S": "email#a@b.c"}},
                        "UpdateExpression": "SET #0 = if_not_exists(#0, :0) REMOVE #1.#2",
                        "ConditionExpression": "#3 = :1",
                        "ExpressionAttributeNames": {
                            "#0": "undeliverable",
                            "#1": "authorised_emails",
                            "#2": "x@y.z",
                            "#3": "client_number",
                        },
                    }
                },
            ]
        },
    )
    assert [(c.action, c.resource.rpartition("/")[2]) for c in found] == [
        ("dynamodb:PutItem", "Tickets"),
        ("dynamodb:ConditionCheckItem", "Accounts"),
        ("dynamodb:UpdateItem", "Accounts"),
    ]
    # top-level names only (a map key is not an attribute), placeholders resolved
    assert found[2].context["dynamodb:Attributes"] == [
        "authorised_emails",
        "client_number",
        "pk",
        "undeliverable",
    ]
    assert found[2].context["dynamodb:LeadingKeys"] == ["email#a@b.c"]


def test_an_index_query_is_checked_against_the_index_arn():
    (check,) = checks(
        "Query",
        {
            "TableName": "Tickets",
            "IndexName": "by-status",
            "KeyConditionExpression": "#0 = :0",
            "ExpressionAttributeNames": {"#0": "status"},
            "ExpressionAttributeValues": {":0": {"S": "open"}},
        },
    )
    assert check.resource.endswith(":table/Tickets/index/by-status")
    assert check.context["dynamodb:Select"] == ["ALL_PROJECTED_ATTRIBUTES"]


def test_leading_keys_and_return_values_conditions():
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "dynamodb:UpdateItem",
                "Resource": TABLE,
                "Condition": {
                    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["email#*"]},
                    "StringEqualsIfExists": {"dynamodb:ReturnValues": "NONE"},
                },
            }
        ]
    }
    claim = {"TableName": "Accounts", "Key": {"pk": {"S": "email#a@b.c"}}}
    account = {"TableName": "Accounts", "Key": {"pk": {"S": "account#1"}}}
    (ok,) = checks("UpdateItem", claim)
    (other_item,) = checks("UpdateItem", account)
    (returns_all,) = checks("UpdateItem", {**claim, "ReturnValues": "ALL_NEW"})
    assert allowed(policy, ok)
    assert not allowed(policy, other_item)
    assert not allowed(policy, returns_all)


def test_explicit_deny_wins_and_actions_match_case_insensitively():
    policies = [
        {"Statement": [{"Effect": "Allow", "Action": "DynamoDB:*", "Resource": "*"}]},
        {"Statement": [{"Effect": "Deny", "Action": "dynamodb:Scan", "Resource": TABLE}]},
    ]
    assert iam.is_allowed(policies, "dynamodb:GetItem", TABLE)
    assert not iam.is_allowed(policies, "dynamodb:Scan", TABLE)


def test_an_unknown_condition_operator_is_never_silently_true():
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
                "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "300"}},
            }
        ]
    }
    with pytest.raises(iam.UnsupportedCondition):
        iam.is_allowed([policy], "s3:GetObject", "*", {"aws:MultiFactorAuthAge": ["5"]})


def test_ses_sends_are_checked_on_the_identity_and_the_configuration_set():
    found = iam.ses_send_checks(
        {
            "FromEmailAddress": "no-reply@clientarea.test",
            "ConfigurationSetName": "mail",
            "Content": {"Raw": {"Data": "..."}},
        },
        region="eu-central-1",
        account="123456789012",
        verified={"clientarea.test"},
    )
    assert {(c.action, c.resource.rpartition(":")[2]) for c in found} == {
        ("ses:SendEmail", "identity/clientarea.test"),
        ("ses:SendRawEmail", "identity/clientarea.test"),
        ("ses:SendEmail", "configuration-set/mail"),
        ("ses:SendRawEmail", "configuration-set/mail"),
    }
    # an address verified as an identity of its own is the identity checked
    (address_identity, *_) = iam.ses_send_checks(
        {"FromEmailAddress": "No-Reply <no-reply@clientarea.test>", "Content": {"Simple": {}}},
        region="eu-central-1",
        account="123456789012",
        verified={"clientarea.test", "no-reply@clientarea.test"},
    )
    assert address_identity.resource.endswith(":identity/no-reply@clientarea.test")


def test_task_callbacks_have_no_resource_type():
    (check,) = iam.states_checks("SendTaskSuccess", {"taskToken": "t", "output": "{}"})
    assert check.resource == "*"
    (start,) = iam.states_checks("StartExecution", {"stateMachineArn": "arn:sm"})
    assert start.resource == "arn:sm"


def test_sqs_batches_are_authorised_as_their_single_action():
    (check,) = iam.sqs_checks("DeleteMessageBatch", "arn:q")
    assert check.action == "sqs:DeleteMessage"


@pytest.mark.parametrize("action", ["s3:ListBucket", "s3:ListBucketVersions"])
def test_a_listing_is_checked_against_its_prefix(action):
    # A ListObjectVersions (s3:ListBucketVersions) is held to s3:prefix as a ListObjects is.
    bucket = "arn:aws:s3:::documents"
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": action,
                "Resource": bucket,
                "Condition": {"StringLike": {"s3:prefix": ["requests/*"]}},
            }
        ]
    }

    def allowed(prefix: str) -> bool:
        return iam.is_allowed(
            [policy], action, bucket, iam.s3_context(action, {"prefix": [prefix]})
        )

    assert allowed("requests/RC-1/")
    assert not allowed("closed/RC-1/")
    assert not iam.is_allowed([policy], action, bucket, iam.s3_context(action, {}))


def test_a_delete_objects_request_is_checked_per_object_and_version():
    checks = iam.s3_delete_objects_checks(
        "arn:aws:s3:::documents",
        [{"Key": "requests/RC-1/a", "VersionId": "v1"}, {"Key": "closed/RC-1/b"}],
    )
    assert [(c.action, c.resource) for c in checks] == [
        ("s3:DeleteObject", "arn:aws:s3:::documents/requests/RC-1/a"),
        ("s3:DeleteObjectVersion", "arn:aws:s3:::documents/requests/RC-1/a"),
        ("s3:DeleteObject", "arn:aws:s3:::documents/closed/RC-1/b"),
    ]
