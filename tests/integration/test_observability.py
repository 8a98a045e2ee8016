"""What operations sees: the correlation id from an API request to the SES message id,
and the business metrics each flow publishes (Powertools EMF lines on stdout, which
CloudWatch turns into metrics of the namespace the template names)."""

from __future__ import annotations

import io
import json
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto.ses.models import ses_backends

from infra.local.lambdas import SERVICE
from infra.local.stack import ACCOUNT_ID, REGION
from tests.integration.test_cession import (  # noqa: F401 - short_window is a fixture
    activated,
    new_party,
    outcome_mails,
    short_window,
    wait_for_status,
)
from tests.integration.test_inbound_mail import deliver, simple_mail
from tests.integration.test_recovery import decide, open_case, submit
from tests.support.accounts import PASSWORD, fresh_email, log_in, register_and_verify, staff_token
from tests.support.replies import expect_error
from tests.support.waiting import wait_until

Emitted = Counter[tuple[str, tuple[tuple[str, str], ...]]]


@pytest.fixture
def logs(deployment) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The functions' JSON log lines while the test runs (Powertools' handler writes to
    the stdout it found at creation, which pytest's capture does not see)."""
    from aws_lambda_powertools import Logger

    handler = Logger(service=os.environ["POWERTOOLS_SERVICE_NAME"]).registered_handler
    buffer = io.StringIO()
    previous = handler.setStream(buffer)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]

    yield lines
    handler.setStream(previous)


def metrics(capsys: pytest.CaptureFixture[str]) -> Emitted:
    """Every metric published since the last call: (name, dimensions but `service`)."""
    emitted: Emitted = Counter()
    for line in capsys.readouterr().out.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == os.environ["POWERTOOLS_METRICS_NAMESPACE"]
            names = {d for dims in directive["Dimensions"] for d in dims} - {"service"}
            dimensions = tuple(sorted((d, blob[d]) for d in names))
            for metric in directive["Metrics"]:
                values = blob[metric["Name"]]
                emitted[(metric["Name"], dimensions)] += int(
                    sum(values) if isinstance(values, list) else values
                )
    return emitted


def plain(emitted: Emitted) -> Counter[str]:
    return Counter({name: n for (name, dims), n in emitted.items() if not dims})


# --- correlation ------------------------------------------------------------------------------


def test_a_reset_mail_is_followed_from_the_request_to_the_ses_message_id(handler_client, logs):
    # GIVEN an account
    email = fresh_email("obs")
    register_and_verify(handler_client, email)
    # WHEN its owner asks for a reset link (the queues are drained before the answer)
    reply = handler_client.post("/password/forgot", {"login": email})
    assert reply.status == 202
    # THEN the answer names the request, as API Gateway's does
    request_id = reply.header("x-amzn-RequestId")
    assert request_id
    # AND the mailer logged the mail it sent under that very id, with SES's message id
    [sent] = [
        line
        for line in logs()
        if line.get("message") == "mail sent" and line.get("correlation_id") == request_id
    ]
    assert sent["kind"] == "password_reset"
    ses = ses_backends[ACCOUNT_ID][REGION].sent_messages
    [message] = [m for m in ses if m.id == sent["ses_message_id"]]
    assert email in message.destinations
    # AND no line of that request carries the link's secret
    token = handler_client.mail_link_token(email)
    assert not [line for line in logs() if token in json.dumps(line)]


def test_the_authorizer_logs_under_the_request_id_it_authorises(deployment):
    from clientarea import telemetry

    authorizer = deployment.stack.functions()[deployment.stack.authorizer_function()]
    event = {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:eu-central-1:123456789012:api/api/GET/account",
        "headers": {"Authorization": "Bearer 100001." + "A" * 43},
        "requestContext": {"requestId": "req-authorizer-1"},
    }
    with pytest.raises(Exception, match="Unauthorized"):
        SERVICE.invoke(authorizer, event).outcome()
    assert telemetry.correlation_id() == "req-authorizer-1"


def test_cession_outcome_mails_carry_the_order_id_and_count_once(handler_client, logs, capsys):
    owner, recipient = new_party(handler_client), new_party(handler_client)
    _, order, owner_link, recipient_link = activated(handler_client, owner, recipient)
    metrics(capsys)
    assert handler_client.post("/cession/confirm", {"token": owner_link}).status == 200
    assert handler_client.post("/cession/confirm", {"token": recipient_link}).status == 200
    wait_for_status(handler_client, owner, order["order_id"], "completed")

    # the workflow queues both outcome mails after the order's status changed
    def outcome_mails_sent() -> list[dict[str, Any]] | None:
        handler_client.drain_queues()
        sent = [
            line
            for line in logs()
            if line.get("message") == "mail sent" and line.get("kind") == "cession_completed"
        ]
        return sent if len(sent) >= 2 else None

    outcome = wait_until(outcome_mails_sent)
    assert [line["correlation_id"] for line in outcome] == [order["order_id"]] * 2
    assert plain(metrics(capsys))["CessionCompleted"] == 1


def test_an_expired_cession_is_counted_once(short_window, capsys):  # noqa: F811
    client = short_window
    owner, recipient = new_party(client), new_party(client)
    service, order, _, _ = activated(client, owner, recipient)
    metrics(capsys)
    wait_for_status(client, owner, order["order_id"], "expired")
    assert outcome_mails(client, owner, service["domain"], "expired")
    assert outcome_mails(client, recipient, service["domain"], "expired")
    assert plain(metrics(capsys))["CessionExpired"] == 1


# --- business metrics -------------------------------------------------------------------------


def test_registration_and_login_metrics(handler_client, capsys):
    email = fresh_email("obs")
    register_and_verify(handler_client, email)
    emitted = plain(metrics(capsys))
    assert emitted["RegistrationRequested"] == 1
    assert emitted["RegistrationCompleted"] == 1
    assert emitted["MailSent"] == 2  # the verification link, then "account created"

    log_in(handler_client, email)
    assert plain(metrics(capsys))["LoginSucceeded"] == 1
    wrong = {"login": email, "password": "not the password at all"}
    for _ in range(5):  # the address's allowance for one window
        expect_error(handler_client.post("/auth/login", wrong), 401, "invalid_credentials")
    assert plain(metrics(capsys))["LoginFailed"] == 5
    expect_error(handler_client.post("/auth/login", wrong), 429, "rate_limited")
    emitted = plain(metrics(capsys))
    assert emitted["LoginThrottled"] == 1
    assert emitted["LoginFailed"] == 0


def test_reset_metrics(handler_client, capsys):
    email = fresh_email("obs")
    register_and_verify(handler_client, email)
    metrics(capsys)
    handler_client.post("/password/forgot", {"login": email})
    handler_client.post("/password/forgot", {"login": f"nobody-{uuid.uuid4().hex[:8]}"})
    emitted = plain(metrics(capsys))
    assert (emitted["ResetRequested"], emitted["ResetLinksSent"]) == (2, 1)
    assert emitted["ResetRequestsIgnored"] == 1
    token = handler_client.mail_link_token(email)
    body = {"token": token, "new_password": "a brand new passphrase 42"}
    assert handler_client.post("/password/reset", body).status == 204
    assert plain(metrics(capsys))["ResetCompleted"] == 1


def test_email_change_metrics(handler_client, capsys):
    email, new_email = fresh_email("obs"), fresh_email("obs")
    register_and_verify(handler_client, email)
    token = log_in(handler_client, email)
    metrics(capsys)
    body = {"new_email": new_email, "current_password": PASSWORD}
    assert handler_client.post("/account/email-change", body, token=token).status == 202
    assert plain(metrics(capsys))["EmailChangeRequested"] == 1
    link = handler_client.mail_link_token(new_email, subject_contains="confirm your new")
    assert handler_client.post("/account/email-change/confirm", {"token": link}).status == 200
    assert plain(metrics(capsys))["EmailChangeCompleted"] == 1


def test_recovery_metrics(handler_client, capsys):
    metrics(capsys)
    _, case = open_case(
        handler_client,
        "nobody",
        applicant_type="legal_entity",
        channel="post",
        company_name="Bench LLC",
        company_code="12345678",
    )
    assert plain(metrics(capsys))["RecoveryCaseOpened"] == 1
    assert submit(handler_client, case).status == 202
    staff = staff_token(handler_client)
    metrics(capsys)
    reply = decide(handler_client, staff, case["reference"], "reject", "The stamp is missing.")
    assert reply.status == 200, reply.body
    emitted = plain(metrics(capsys))
    assert (emitted["RecoveryCaseRejected"], emitted["RecoveryCaseApproved"]) == (1, 0)


def test_tickets_are_counted_by_origin_and_inbound_mail_by_result(handler_client, capsys):
    email = fresh_email("obs")
    register_and_verify(handler_client, email)
    token = log_in(handler_client, email)
    metrics(capsys)
    ticket = {"department": "billing", "subject": "Invoice", "message": "Wrong VAT number."}
    assert handler_client.post("/tickets", ticket, token=token).status == 201
    access = {
        "full_name": "A Person",
        "address": "1 Test Street",
        "phone": "+380 44 000 00 00",
        "login_or_email": email,
        "message": "Lost my phone.",
    }
    assert handler_client.post("/support/access-requests", access).status == 201
    sales = {"email": "buyer@example.org", "message": "A price, please?"}
    assert handler_client.post("/support/sales-questions", sales).status == 201
    assert deliver(handler_client, simple_mail(email))["result"] == "ticket_opened"
    emitted = metrics(capsys)
    for origin in ("client_area", "access_request", "sales_question", "email"):
        assert emitted[("TicketOpened", (("origin", origin),))] == 1, origin
    assert emitted[("InboundMail", (("result", "ticket_opened"),))] == 1


def test_unasked_mail_withheld_and_malformed_inbound_mail_are_counted(handler_client, capsys):
    victim = fresh_email("obs")
    body = {"email": victim, "password": "a passphrase long enough", "full_name": "A"}
    metrics(capsys)
    for _ in range(5):  # the address's allowance is 3 a day: two are withheld
        assert handler_client.post("/auth/register", body).status == 202
    two_froms = simple_mail(victim).replace(
        b"To: ", f"From: <{fresh_email('obs')}>\r\nTo: ".encode(), 1
    )
    assert deliver(handler_client, two_froms)["result"] == "ignored_malformed"
    emitted = metrics(capsys)
    assert plain(emitted)["UnaskedMailWithheld"] == 2
    assert emitted[("InboundMail", (("result", "ignored_malformed"),))] == 1


def test_mail_withheld_by_the_support_function_or_the_intake_is_counted(handler_client, capsys):
    """Each function that may withhold an unasked mail publishes the count: the support
    function (an access request's acknowledgement) and the intake (an auto-reply) too."""
    owner = fresh_email("obs")
    register_and_verify(handler_client, owner)  # its verification link: one of three a day
    form = {
        "full_name": "A",
        "address": "1 Street",
        "phone": "+380 44 000 00 00",
        "login_or_email": owner,
        "message": "Please",
    }
    metrics(capsys)
    answers = [handler_client.post("/support/access-requests", form) for _ in range(4)]
    assert [r.status for r in answers] == [201] * 4
    assert plain(metrics(capsys))["UnaskedMailWithheld"] == 2
    stranger = fresh_email("obs")
    body = {"email": stranger, "password": "a passphrase long enough", "full_name": "A"}
    for _ in range(3):  # the address's three a day
        assert handler_client.post("/auth/register", body).status == 202
    metrics(capsys)
    assert deliver(handler_client, simple_mail(stranger))["result"] == "ignored_unattached"
    assert plain(metrics(capsys))["UnaskedMailWithheld"] == 1


def test_a_declined_cession_is_counted(handler_client, capsys):
    owner, recipient = new_party(handler_client), new_party(handler_client)
    _, _, _, recipient_link = activated(handler_client, owner, recipient)
    metrics(capsys)
    assert handler_client.post("/cession/decline", {"token": recipient_link}).status == 200
    assert plain(metrics(capsys))["CessionDeclined"] == 1


def test_every_counted_metric_is_declared_once():
    from clientarea import telemetry
    from clientarea.support.views import Origin

    names = [m.value for m in telemetry.Metric]
    assert len(names) == len(set(names))
    # the dimension values are the domain's own (each is a metric CloudWatch bills)
    assert telemetry.DIMENSIONS[telemetry.Metric.TICKET_OPENED][1] == tuple(Origin)
