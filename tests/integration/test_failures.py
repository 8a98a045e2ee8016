"""Failures of the services underneath (issue 6): SES throttled or down, the mailer
crashing mid-batch, DynamoDB throttled or failing on every write path.

In-process on moto. Faults are injected at botocore's `BaseClient._make_api_call`, the
call both boto3 and pynamodb make after the SDK's own retries would have given up, so
each fault stands for "AWS kept failing". The mail queue is driven by the local
deployment's SQS consumer (infra/local/queues.py), which deletes what the mailer did
not report as failed, as Lambda's event source mapping does with
ReportBatchItemFailures; moto's SQS applies the queue's redrive policy on receive.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError, EndpointConnectionError

from infra.local import mailbox
from infra.local.deployment import DEV_ALLOWED_ORIGINS, LocalDeployment
from infra.local.lambdas import invoking_thread
from infra.local.stack import load as load_stack
from tests.clients import InProcessClient, Reply
from tests.support.accounts import PASSWORD, fresh_email, new_account, staff_token
from tests.support.waiting import wait_until

# --- fault injection --------------------------------------------------------------------


@dataclass
class Fault:
    """Refuse some calls of one AWS service; `calls` counts the matching calls seen."""

    service: str
    operations: frozenset[str]
    raise_for: Callable[[int, str, dict[str, Any]], BaseException | None]
    calls: int = 0
    fired: int = 0
    log: list[str] = field(default_factory=list)
    # Only the calls made for the thread that set the fault (the request's, also from the
    # execution environments it invoked), never those of a workflow moto runs in the
    # background.
    thread: int = field(default_factory=threading.get_ident)
    refused: list[dict[str, Any]] = field(default_factory=list)  # the refused calls' params


@contextmanager
def faults(monkeypatch: pytest.MonkeyPatch, *injected: Fault) -> Iterator[None]:
    real = BaseClient._make_api_call

    def make_api_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        service = client.meta.service_model.service_name
        for fault in injected:
            if (
                service == fault.service
                and operation in fault.operations
                and invoking_thread() == fault.thread
            ):
                fault.calls += 1
                fault.log.append(operation)
                error = fault.raise_for(fault.calls, operation, params)
                if error is not None:
                    fault.fired += 1
                    fault.refused.append(params)
                    raise error
        return real(client, operation, params)

    with monkeypatch.context() as patch:
        patch.setattr(BaseClient, "_make_api_call", make_api_call)
        yield


def client_error(code: str, operation: str, status: int = 400, **extra: Any) -> ClientError:
    response = {"Error": {"Code": code, "Message": "injected"}, **extra}
    response["ResponseMetadata"] = {"HTTPStatusCode": status}
    return ClientError(response, operation)


# --- the mail queue -----------------------------------------------------------------------

SES_SEND = frozenset({"SendEmail"})
MAX_RECEIVES = 5  # template.yaml MailQueue RedrivePolicy.maxReceiveCount
RESOURCES = load_stack().resources


def queue_mail(to: str) -> None:
    """One mail on the mail queue, exactly as the API functions queue them."""
    from clientarea.mail import outbox

    outbox.send(
        "registration_attempt",
        to,
        "en",
        full_name="Test User",
        login_link=outbox.page("/login"),
        reset_link=outbox.page("/forgot-password"),
    )


def new_addresses(count: int) -> list[str]:
    run = uuid.uuid4().hex[:8]
    return [f"mail-{run}-{i}@example.com" for i in range(count)]


def sent_to(address: str) -> int:
    return len(mailbox.messages(address))


def _real_ms() -> float:
    import moto.core.utils

    return moto.core.utils.unix_time_millis()


@dataclass
class MailQueues:
    deployment: LocalDeployment
    monkeypatch: pytest.MonkeyPatch
    clock_ms: float = 0

    def url(self, logical_id: str) -> str:
        return self.deployment.physical.refs[logical_id]

    def counts(self, logical_id: str) -> tuple[int, int]:
        """(visible, in flight) messages of a queue."""
        attributes = boto3.client("sqs").get_queue_attributes(
            QueueUrl=self.url(logical_id),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        )

    def dead_letters(self) -> list[str]:
        received = boto3.client("sqs").receive_message(
            QueueUrl=self.url("MailDeadLetterQueue"), MaxNumberOfMessages=10
        )
        return [m["Body"] for m in received.get("Messages", [])]

    def receive(self) -> int:
        """One receive by the event source mapping (the mailer runs on what it got)."""
        return self.deployment.queues.poll_once()

    def visibility_timeout_passes(self) -> None:
        """Move SQS's clock past the queue's visibility timeout: what a failed message
        waits before its next receive."""
        import moto.sqs.models as sqs_models

        timeout = int(RESOURCES["MailQueue"]["Properties"]["VisibilityTimeout"])
        self.clock_ms += (timeout + 1) * 1000
        offset = self.clock_ms
        self.monkeypatch.setattr(sqs_models, "unix_time_millis", lambda: _real_ms() + offset)


@pytest.fixture
def mail_queues(deployment: LocalDeployment, monkeypatch: pytest.MonkeyPatch) -> MailQueues:
    return MailQueues(deployment, monkeypatch)


def test_template_reports_partial_batches_and_dead_letters_mail_after_five_receives():
    # GIVEN the template
    resources = RESOURCES
    # THEN the mailer reports failed items only, and the mail queue redrives to its DLQ
    mail_event = resources["MailerFunction"]["Properties"]["Events"]["Mail"]["Properties"]
    assert mail_event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mail_event["Queue"] == {"Fn::GetAtt": ["MailQueue", "Arn"]}
    redrive = resources["MailQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == MAX_RECEIVES
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["MailDeadLetterQueue", "Arn"]}
    # and a failed message waits longer than the mailer may run before its next receive
    mailer_timeout = resources["MailerFunction"]["Properties"]["Timeout"]
    assert resources["MailQueue"]["Properties"]["VisibilityTimeout"] >= 6 * mailer_timeout


@pytest.mark.parametrize(
    "error",
    [
        client_error("TooManyRequestsException", "SendEmail", 429),  # SESv2 throttling
        client_error("Throttling", "SendEmail", 400),  # SES v1's spelling
        client_error("ServiceUnavailable", "SendEmail", 503),
        EndpointConnectionError(endpoint_url="https://email.eu-central-1.amazonaws.com"),
    ],
    ids=["TooManyRequests", "Throttling", "ServiceUnavailable", "unreachable"],
)
def test_a_refused_send_is_retried_on_the_next_receive_and_sent_once(
    mail_queues, monkeypatch, error
):
    # GIVEN three queued mails, and SES refusing the one to `refused`
    ok_first, refused, ok_last = new_addresses(3)
    for address in (ok_first, refused, ok_last):
        queue_mail(address)
    outage = Fault(
        "sesv2",
        SES_SEND,
        lambda _n, _op, params: (
            error if params["Destination"]["ToAddresses"] == [refused] else None
        ),
    )
    # WHEN the mailer gets the batch while SES refuses that mail
    with faults(monkeypatch, outage):
        assert mail_queues.receive() == 3
    # THEN the others are sent, and only the refused one stays on the queue (in flight)
    assert outage.fired == 1
    assert (sent_to(ok_first), sent_to(refused), sent_to(ok_last)) == (1, 0, 1)
    assert mail_queues.counts("MailQueue") == (0, 1)
    # WHEN SES is back and the visibility timeout has passed
    mail_queues.visibility_timeout_passes()
    assert mail_queues.receive() == 1
    # THEN the refused mail is sent, and nobody gets a mail twice
    assert (sent_to(ok_first), sent_to(refused), sent_to(ok_last)) == (1, 1, 1)
    assert mail_queues.counts("MailQueue") == (0, 0)
    assert mail_queues.dead_letters() == []


def test_a_long_ses_outage_moves_mail_to_the_dead_letter_queue_and_loses_none(
    mail_queues, monkeypatch
):
    # GIVEN four queued mails and SES throttling every send
    addresses = new_addresses(4)
    for address in addresses:
        queue_mail(address)
    outage = Fault(
        "sesv2", SES_SEND, lambda *_: client_error("TooManyRequestsException", "SendEmail", 429)
    )
    # WHEN the outage outlasts maxReceiveCount receives
    with faults(monkeypatch, outage):
        for _ in range(MAX_RECEIVES):
            assert mail_queues.receive() == 4
            mail_queues.visibility_timeout_passes()
        # THEN the next receive hands nothing to the mailer: all four are dead letters
        assert mail_queues.receive() == 0
    assert outage.fired == 4 * MAX_RECEIVES
    assert mail_queues.counts("MailQueue") == (0, 0)
    dead = [json.loads(body)["to"] for body in mail_queues.dead_letters()]
    # AND nothing is lost or sent: every mail is in the DLQ, whole, and none went out
    assert sorted(dead) == sorted(addresses)
    assert [sent_to(a) for a in addresses] == [0, 0, 0, 0]


def test_a_crash_on_the_third_of_five_mails_retries_only_the_third(mail_queues, monkeypatch):
    # GIVEN five queued mails, and the mailer crashing on its third SES call
    addresses = new_addresses(5)
    for address in addresses:
        queue_mail(address)
    crashed_on: list[str] = []

    def crash_third(n: int, _op: str, params: dict[str, Any]) -> BaseException | None:
        if n != 3:
            return None
        crashed_on.extend(params["Destination"]["ToAddresses"])
        return RuntimeError("connection reset by peer")

    # WHEN the five come in one batch
    with faults(monkeypatch, Fault("sesv2", SES_SEND, crash_third)):
        assert mail_queues.receive() == 5
    # THEN the other four are sent, and only the crashed one is back on the queue
    assert len(crashed_on) == 1
    assert {a: sent_to(a) for a in addresses} == {a: int(a not in crashed_on) for a in addresses}
    assert mail_queues.counts("MailQueue") == (0, 1)
    # WHEN the next receive comes
    mail_queues.visibility_timeout_passes()
    assert mail_queues.receive() == 1
    # THEN that mail goes out too, and every address got exactly one mail
    assert [sent_to(a) for a in addresses] == [1, 1, 1, 1, 1]
    assert mail_queues.counts("MailQueue") == (0, 0)
    assert mail_queues.dead_letters() == []


@pytest.mark.parametrize(
    "poison",
    [
        "not json at all",
        json.dumps({"kind": "no_such_mail", "to": "x@example.com"}),
        json.dumps({"kind": "registration_attempt", "to": "x@example.com"}),  # no params
    ],
    ids=["unparseable", "unknown-kind", "missing-params"],
)
def test_a_poison_message_does_not_block_the_batch_and_ends_in_the_dead_letter_queue(
    mail_queues, poison
):
    # GIVEN a poison message between two good mails
    first, last = new_addresses(2)
    queue_mail(first)
    boto3.client("sqs").send_message(QueueUrl=mail_queues.url("MailQueue"), MessageBody=poison)
    queue_mail(last)
    # WHEN the mailer gets them
    assert mail_queues.receive() == 3
    # THEN the good ones are sent at once
    assert (sent_to(first), sent_to(last)) == (1, 1)
    # AND the poison one is retried until the redrive limit, then dead-lettered, whole
    for _ in range(MAX_RECEIVES - 1):
        mail_queues.visibility_timeout_passes()
        assert mail_queues.receive() == 1
    mail_queues.visibility_timeout_passes()
    assert mail_queues.receive() == 0
    assert mail_queues.dead_letters() == [poison]
    assert (sent_to(first), sent_to(last)) == (1, 1)


# --- DynamoDB throttled or failing on every write path --------------------------------------

DYNAMODB_WRITES = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
)
NEW_PASSWORD = "another long enough passphrase 7"


def dynamodb_error(code: str, operation: str, params: dict[str, Any]) -> ClientError:
    """What DynamoDB answers once the SDK has given up retrying. `ThrottlingError` is a
    transaction cancelled for capacity (a reason per item, one of them throttled)."""
    if code == "ThrottlingError":
        if operation not in {"TransactWriteItems", "TransactGetItems"}:
            return client_error("ThrottlingException", operation)
        reasons = [{"Code": "None"} for _ in params["TransactItems"]]
        reasons[-1] = {"Code": "ThrottlingError", "Message": "Throughput exceeds the limit"}
        return client_error("TransactionCanceledException", operation, CancellationReasons=reasons)
    return client_error(code, operation, 500 if code == "InternalServerError" else 400)


def table_state(deployment: LocalDeployment) -> dict[str, list[dict[str, Any]]]:
    """Every item of every table that a request's effect lives in: not the rate-limit
    counters, the idempotency keys, nor the number counters (numbers may be skipped)."""
    dynamodb = boto3.client("dynamodb")
    state = {}
    for logical_id, name in deployment.physical.refs.items():
        if logical_id in {"RateLimitsTable", "IdempotencyTable"} or not logical_id.endswith(
            "Table"
        ):
            continue
        items = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
            items += [
                i for i in page["Items"] if not i.get("pk", {}).get("S", "").startswith("counter#")
            ]
        state[logical_id] = sorted(items, key=json.dumps)
    return state


@dataclass
class Api:
    """The API in-process. `call` runs only the handler: the queues are drained
    separately (`drain`), outside any fault, since their consumers are not the request."""

    deployment: LocalDeployment
    cache: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.client = InProcessClient(self.deployment, drain=False)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        return self.client.request(method, path, json=body, token=token, headers=headers)

    def drain(self) -> None:
        self.deployment.queues.drain()

    def link_token(self, to: str, path: str) -> str:
        self.drain()
        links = [
            link for m in mailbox.messages(to) for link in m["links"] if f"{path}#token=" in link
        ]
        assert links, f"no {path} link mailed to {to}"
        return links[-1].split("#token=", 1)[1]

    def known_account(self, role: str = "client") -> dict[str, Any]:
        """One account per role for this deployment, for routes that do not use it up
        (argon2 makes every new account cost a registration and a login)."""
        if role not in self.cache:
            self.cache[role] = self.account()
        return self.cache[role]

    def account(self) -> dict[str, Any]:
        """A new verified account, logged in: {client_number, login, email, token}."""
        return new_account(self.client, fresh_email("dyn"))


@dataclass(frozen=True)
class WriteRoute:
    """A write route: `arrange` builds what it needs (fresh each time), `act` calls it."""

    name: str
    arrange: Callable[[Api], dict[str, Any]]
    act: Callable[[Api, dict[str, Any]], Any]
    success: int
    # Waits for what a success set going in the background (a cession workflow), so
    # that it does not write into the next case's before/after comparison.
    settle: Callable[[Api, dict[str, Any]], None] = lambda api, arranged: None
    # A table whose write comes after the request's effect is stored and is best effort
    # (an acknowledgement's counter): its failure must not fail the request.
    best_effort_table: str | None = None


def _registered(api: Api) -> dict[str, Any]:
    email = fresh_email("dyn")
    body = {"email": email, "password": PASSWORD, "full_name": "Test User", "locale": "en"}
    assert api.call("POST", "/auth/register", body).status == 202
    return {"email": email, "token": api.link_token(email, "/verify-email")}


def _reset_requested(api: Api) -> dict[str, Any]:
    account = api.account()
    assert api.call("POST", "/password/forgot", {"login": account["email"]}).status == 202
    return {**account, "reset": api.link_token(account["email"], "/reset-password")}


def _email_change_started(api: Api) -> dict[str, Any]:
    account = api.account()
    new_email = f"new-{uuid.uuid4().hex[:12]}@example.com"
    body = {"new_email": new_email, "current_password": PASSWORD}
    reply = api.call("POST", "/account/email-change", body, token=account["token"])
    assert reply.status == 202, reply.body
    return {**account, "confirm": api.link_token(new_email, "/email-change/confirm")}


def _authorised(api: Api) -> dict[str, Any]:
    account = api.account()
    sender = f"sender-{uuid.uuid4().hex[:12]}@example.com"
    reply = api.call(
        "POST", "/account/authorised-emails", {"email": sender}, token=account["token"]
    )
    assert reply.status == 202, reply.body
    return {
        **account,
        "sender": sender,
        "confirm": api.link_token(sender, "/authorised-emails/confirm"),
    }


def _ticket(api: Api) -> dict[str, Any]:
    account = api.known_account()
    body = {"department": "technical", "subject": "Site down", "message": "It is down."}
    reply = api.call("POST", "/tickets", body, token=account["token"])
    assert reply.status == 201, reply.body
    return {**account, "number": reply.json()["number"]}


def _recovery_case(api: Api) -> dict[str, Any]:
    from tests.integration.test_recovery import application, upload_required

    reply = api.call("POST", "/recovery/requests", application("nobody-in-particular"))
    assert reply.status == 201, reply.body
    case = reply.json()
    upload_required(case)
    return case


def _order_item(api: Api, order_id: str) -> dict[str, Any]:
    table = api.deployment.physical.refs["OrdersTable"]
    return (
        boto3.client("dynamodb")
        .get_item(TableName=table, Key={"order_id": {"S": order_id}}, ConsistentRead=True)
        .get("Item", {})
    )


def _order_settled(api: Api, arranged: dict[str, Any]) -> None:
    """Wait until the order's workflow has stopped writing to it (its branches store
    their task tokens, then wait for the parties)."""
    seen: list[dict[str, Any] | None] = [None]

    def settled() -> bool:
        api.drain()
        item = _order_item(api, arranged["order_id"])
        unchanged, seen[0] = item == seen[0], item
        return unchanged and (
            "owner_task_token" in item
            or item.get("status", {}).get("S") != "awaiting_confirmations"
        )

    wait_until(
        settled, timeout=20, interval=0.3, message=f"order {arranged['order_id']} kept changing"
    )


def _cession_ordered(api: Api) -> dict[str, Any]:
    from infra.local.server import dev_route

    owner, recipient = api.known_account("owner"), api.known_account("recipient")
    body = {
        "client_number": owner["client_number"],
        "product": "Hosting Pro",
        "domain": f"site-{uuid.uuid4().hex[:10]}.example",
    }
    service = dev_route("POST", "/_dev/services", json.dumps(body).encode()).json()
    reply = api.call(
        "POST",
        f"/services/{service['service_id']}/cession",
        {
            "recipient_login": recipient["login"],
            "recipient_client_number": recipient["client_number"],
        },
        token=owner["token"],
    )
    assert reply.status == 201, reply.body
    return {
        "owner": owner,
        "recipient": recipient,
        "service": service,
        "order_id": reply.json()["order_id"],
        "token": owner["token"],
    }


def _cession_activated(api: Api) -> dict[str, Any]:
    arranged = _cession_ordered(api)
    reply = api.call("POST", f"/orders/{arranged['order_id']}/activate", token=arranged["token"])
    assert reply.status == 202, reply.body
    _order_settled(api, arranged)
    return {**arranged, "link": api.link_token(arranged["owner"]["email"], "/cession")}


def _cession_route(api: Api, s: dict[str, Any]) -> Any:
    body = {
        "recipient_login": s["recipient"]["login"],
        "recipient_client_number": s["recipient"]["client_number"],
    }
    return api.call(
        "POST", f"/services/{s['service']['service_id']}/cession", body, token=s["token"]
    )


def _cession_parties(api: Api) -> dict[str, Any]:
    from infra.local.server import dev_route

    owner, recipient = api.known_account("owner"), api.known_account("recipient")
    body = {
        "client_number": owner["client_number"],
        "product": "Hosting Pro",
        "domain": f"site-{uuid.uuid4().hex[:10]}.example",
    }
    service = dev_route("POST", "/_dev/services", json.dumps(body).encode()).json()
    return {"owner": owner, "recipient": recipient, "service": service, "token": owner["token"]}


def _staff(api: Api, role: str = "support") -> str:
    """A staff session of this deployment (`admin` to approve recovery cases)."""
    key = f"{role}_token"
    if key not in api.cache:
        api.cache[key] = staff_token(api.client, role)
    return api.cache[key]


def _staff_ticket(api: Api) -> dict[str, Any]:
    """A client's ticket and a staff session to answer it."""
    return {**_ticket(api), "staff": _staff(api)}


def _recovery_under_review(api: Api) -> dict[str, Any]:
    """A submitted recovery case naming a fresh account (an approval takes its email and
    sessions), and a staff session to decide it."""
    from tests.integration.test_recovery import application, upload_required

    account = api.account()
    reply = api.call("POST", "/recovery/requests", application(account["login"]))
    assert reply.status == 201, reply.body
    case = reply.json()
    upload_required(case)
    submitted = api.call(
        "POST",
        f"/recovery/requests/{case['reference']}/submit",
        headers={"X-Recovery-Key": case["access_key"]},
    )
    assert submitted.status == 202, submitted.body
    return {**case, "account": account, "staff": _staff(api, "admin")}


def _decide(decision: str) -> Callable[[Api, dict[str, Any]], Any]:
    def act(api: Api, s: dict[str, Any]) -> Any:
        return api.call(
            "POST",
            f"/staff/recovery-requests/{s['reference']}/decision",
            {"decision": decision, "reason": "documents checked"},
            token=s["staff"],
        )

    return act


def _request_access(api: Api, s: dict[str, Any]) -> Reply:
    """The "I can't log in" form, for the account `s` names."""
    return api.call(
        "POST",
        "/support/access-requests",
        {
            "full_name": "Test User",
            "address": "1 Main Street, Kyiv",
            "phone": "+380 44 000 00 00",
            "login_or_email": s["email"],
            "message": "I lost my password and my mailbox.",
        },
    )


WRITE_ROUTES = [
    WriteRoute(
        "register",
        lambda api: {"email": f"dyn-{uuid.uuid4().hex[:12]}@example.com"},
        lambda api, s: api.call(
            "POST",
            "/auth/register",
            {
                "email": s["email"],
                "password": PASSWORD,
                "full_name": "T U",
                "locale": "en",
            },
        ),
        202,
    ),
    WriteRoute(
        "verify-email",
        _registered,
        lambda api, s: api.call("POST", "/auth/verify-email", {"token": s["token"]}),
        200,
    ),
    WriteRoute(
        "login",
        lambda api: api.known_account(),
        lambda api, s: api.call("POST", "/auth/login", {"login": s["email"], "password": PASSWORD}),
        200,
    ),
    WriteRoute(
        "logout",
        lambda api: api.account(),
        lambda api, s: api.call("POST", "/auth/logout", token=s["token"]),
        204,
    ),
    WriteRoute(
        "patch-account",
        lambda api: api.known_account(),
        lambda api, s: api.call("PATCH", "/account", {"full_name": "Renamed"}, token=s["token"]),
        200,
    ),
    WriteRoute(
        "change-password",
        _reset_requested,  # the pending link dies in the same write as the password
        lambda api, s: api.call(
            "PUT",
            "/account/password",
            {
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
            },
            token=s["token"],
        ),
        204,
    ),
    WriteRoute(
        "password-forgot",
        lambda api: api.account(),
        lambda api, s: api.call("POST", "/password/forgot", {"login": s["email"]}),
        202,
    ),
    WriteRoute(
        "password-reset",
        _reset_requested,
        lambda api, s: api.call(
            "POST",
            "/password/reset",
            {
                "token": s["reset"],
                "new_password": NEW_PASSWORD,
            },
        ),
        204,
    ),
    WriteRoute(
        "email-change-start",
        # An account per case: each request counts against the account's 5 an hour
        # before it writes, so the failed attempts and their retries would use them up.
        lambda api: api.account(),
        lambda api, s: api.call(
            "POST",
            "/account/email-change",
            {
                "new_email": f"new-{uuid.uuid4().hex[:12]}@example.com",
                "current_password": PASSWORD,
            },
            token=s["token"],
        ),
        202,
    ),
    WriteRoute(
        "email-change-confirm",
        _email_change_started,
        lambda api, s: api.call("POST", "/account/email-change/confirm", {"token": s["confirm"]}),
        200,
    ),
    WriteRoute(
        "authorised-email-add",
        lambda api: api.account(),
        lambda api, s: api.call(
            "POST",
            "/account/authorised-emails",
            {
                "email": f"sender-{uuid.uuid4().hex[:12]}@example.com",
            },
            token=s["token"],
        ),
        202,
    ),
    WriteRoute(
        "authorised-email-confirm",
        _authorised,
        lambda api, s: api.call(
            "POST", "/account/authorised-emails/confirm", {"token": s["confirm"]}
        ),
        200,
    ),
    WriteRoute(
        "authorised-email-remove",
        _authorised,
        lambda api, s: api.call(
            "DELETE", f"/account/authorised-emails/{s['sender']}", token=s["token"]
        ),
        204,
    ),
    WriteRoute(
        "ticket-create",
        lambda api: api.known_account(),
        lambda api, s: api.call(
            "POST",
            "/tickets",
            {
                "department": "technical",
                "subject": "Site down",
                "message": "It is down.",
            },
            token=s["token"],
        ),
        201,
    ),
    WriteRoute(
        "ticket-reply",
        _ticket,
        lambda api, s: api.call(
            "POST", f"/tickets/{s['number']}/messages", {"message": "Still down."}, token=s["token"]
        ),
        201,
    ),
    WriteRoute(
        "recovery-create",
        lambda api: {},
        lambda api, s: api.call(
            "POST",
            "/recovery/requests",
            __import__("tests.integration.test_recovery", fromlist=["application"]).application(
                "nobody-in-particular"
            ),
        ),
        201,
    ),
    WriteRoute(
        "recovery-submit",
        _recovery_case,
        lambda api, s: api.call(
            "POST",
            f"/recovery/requests/{s['reference']}/submit",
            headers={"X-Recovery-Key": s["access_key"]},
        ),
        202,
    ),
    WriteRoute("cession-order", _cession_parties, _cession_route, 201),
    WriteRoute(
        "cession-activate",
        _cession_ordered,
        lambda api, s: api.call("POST", f"/orders/{s['order_id']}/activate", token=s["token"]),
        202,
        settle=_order_settled,
    ),
    WriteRoute(
        "cession-confirm",
        _cession_activated,
        lambda api, s: api.call("POST", "/cession/confirm", {"token": s["link"]}),
        200,
        settle=_order_settled,
    ),
    WriteRoute(
        "cession-decline",
        _cession_activated,
        lambda api, s: api.call("POST", "/cession/decline", {"token": s["link"]}),
        200,
        settle=_order_settled,
    ),
    WriteRoute(
        "cession-cancel",
        _cession_activated,
        lambda api, s: api.call("POST", f"/orders/{s['order_id']}/cancel", token=s["token"]),
        200,
        settle=_order_settled,
    ),
    WriteRoute(
        "ticket-close",
        _ticket,
        lambda api, s: api.call("POST", f"/tickets/{s['number']}/close", token=s["token"]),
        200,
    ),
    WriteRoute(
        "staff-ticket-reply",
        _staff_ticket,
        lambda api, s: api.call(
            "POST",
            f"/staff/tickets/{s['number']}/messages",
            {"message": "On it."},
            token=s["staff"],
        ),
        201,
    ),
    WriteRoute(
        "access-request",
        lambda api: api.account(),
        _request_access,
        201,
        best_effort_table="RateLimitsTable",  # the acknowledgement's counter
    ),
    WriteRoute(
        "sales-question",
        lambda api: {},
        lambda api, s: api.call(
            "POST",
            "/support/sales-questions",
            {"email": f"buyer-{uuid.uuid4().hex[:8]}@example.com", "message": "Prices?"},
        ),
        201,
    ),
    WriteRoute(
        "cession-resend",
        _cession_activated,
        lambda api, s: api.call(
            "POST", f"/orders/{s['order_id']}/resend", {"party": "recipient"}, token=s["token"]
        ),
        202,
    ),
    WriteRoute("recovery-approve", _recovery_under_review, _decide("approve"), 200),
    WriteRoute("recovery-reject", _recovery_under_review, _decide("reject"), 200),
]

CODES = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "InternalServerError",
    "ThrottlingError",  # a transaction cancelled for capacity
]


@pytest.fixture(scope="module")
def shared_api() -> Iterator[Api]:
    """One deployment for the sweep: every case arranges its own accounts."""
    from moto import mock_aws

    from infra.local.deployment import MOTO_CONFIG

    with mock_aws(config=MOTO_CONFIG):
        deployed = LocalDeployment(enforce_iam=True).start()
        try:
            yield Api(deployed)
        finally:
            deployed.stop()


# Each route gets one of the codes (every code covers four routes): the sweep over the
# routes' writes is what costs, the code only has to reach the mapping each way.
@pytest.mark.parametrize(
    ("route", "code"),
    [(route, CODES[i % len(CODES)]) for i, route in enumerate(WRITE_ROUTES)],
    ids=[f"{route.name}-{CODES[i % len(CODES)]}" for i, route in enumerate(WRITE_ROUTES)],
)
def test_every_write_failing_in_turn_answers_503_and_leaves_nothing_half_written(
    shared_api, monkeypatch, route, code
):
    """For k = 1, 2, …: the route's k-th DynamoDB write fails (the earlier ones pass)."""
    api = shared_api
    k = 0
    while True:
        k += 1
        # GIVEN what the route needs, and the tables and mailbox as they are
        arranged = route.arrange(api)
        api.drain()
        before, mails_before = table_state(api.deployment), len(mailbox.messages())
        fault = Fault(
            "dynamodb",
            DYNAMODB_WRITES,
            lambda n, op, params: dynamodb_error(code, op, params) if n == k else None,  # noqa: B023
        )
        # WHEN the k-th write fails
        with faults(monkeypatch, fault):
            reply = route.act(api, arranged)
        api.drain()
        if not fault.fired:  # the route makes fewer than k writes: every one was covered
            assert k > 1, f"{route.name} wrote nothing to DynamoDB"
            assert reply.status == route.success, reply.body
            break
        if reply.status == route.success and route.best_effort_table:
            (refused,) = fault.refused
            table = api.deployment.physical.refs[route.best_effort_table]
            assert refused.get("TableName") == table, (k, fault.log)
            continue
        # THEN a clear 503 in the contract's shape, with Retry-After
        assert reply.status == 503, (k, fault.log, reply.body)
        body = reply.json()
        assert body["code"] == "service_unavailable" and body["message"]
        assert set(body) == {"code", "message"}
        assert int(reply.header("Retry-After")) >= 1
        # AND nothing was half-written, and nobody was mailed about a change that did not happen
        assert table_state(api.deployment) == before, (k, fault.log)
        assert len(mailbox.messages()) == mails_before
        # AND the same request succeeds once DynamoDB is back
        retried = route.act(api, arranged)
        assert retried.status == route.success, (k, retried.body)
        route.settle(api, arranged)
    api.drain()


def test_two_concurrent_confirms_of_one_token_exactly_one_wins(shared_api):
    # GIVEN a registration's verification link
    api = shared_api
    registered = _registered(api)
    before = table_state(api.deployment)
    # WHEN two requests use it at the same moment
    barrier = threading.Barrier(2)

    def confirm() -> Any:
        barrier.wait()
        return api.call("POST", "/auth/verify-email", {"token": registered["token"]})

    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda _: confirm(), range(2)))
    # THEN exactly one creates the account, the other gets the contract's 410 token_invalid
    statuses = sorted(reply.status for reply in replies)
    assert statuses == [200, 410], [r.body for r in replies]
    loser = next(r for r in replies if r.status == 410)
    assert loser.json()["code"] == "token_invalid"
    # AND exactly one account (with its two claims) exists for the address
    after = table_state(api.deployment)
    new_accounts = [i for i in after["AccountsTable"] if i not in before["AccountsTable"]]
    emails = [i["email"]["S"] for i in new_accounts if "email" in i]
    assert emails == [registered["email"]]
    api.drain()
    assert len(mailbox.messages(registered["email"])) == 2  # verification + one welcome


def test_a_503_is_not_replayed_to_a_retry_with_the_same_idempotency_key(shared_api, monkeypatch):
    # GIVEN an account, and DynamoDB throttling the account's update
    api = shared_api
    account = api.account()
    key = {"Idempotency-Key": uuid.uuid4().hex}
    throttled = Fault(
        "dynamodb",
        frozenset({"UpdateItem"}),
        lambda _n, op, params: (
            client_error("ThrottlingException", op)
            if params["TableName"] == api.deployment.physical.refs["AccountsTable"]
            else None
        ),
    )

    def rename() -> Any:
        body = {"full_name": "Renamed Once"}
        return api.call("PATCH", "/account", body, token=account["token"], headers=key)

    # WHEN the first attempt is throttled
    with faults(monkeypatch, throttled):
        first = rename()
    assert throttled.fired and first.status == 503
    # THEN the retry with the same key acts (it does not get the stored 503 back)
    retried = rename()
    assert retried.status == 200, retried.body
    assert retried.json()["full_name"] == "Renamed Once"


def test_a_transaction_lost_to_a_concurrent_one_is_409_conflict_and_the_link_still_works(
    shared_api, monkeypatch
):
    # GIVEN a verification link, and DynamoDB cancelling its transaction for a conflict
    api = shared_api
    registered = _registered(api)

    def conflict(_n: int, op: str, params: dict[str, Any]) -> ClientError:
        reasons = [{"Code": "None"} for _ in params["TransactItems"]]
        reasons[0] = {"Code": "TransactionConflict", "Message": "Transaction is ongoing"}
        return client_error("TransactionCanceledException", op, CancellationReasons=reasons)

    # WHEN it is used
    with faults(monkeypatch, Fault("dynamodb", frozenset({"TransactWriteItems"}), conflict)):
        reply = api.call("POST", "/auth/verify-email", {"token": registered["token"]})
    # THEN the contract's 409 conflict (retry), not 410 token_invalid (a dead link)
    assert reply.status == 409 and reply.json()["code"] == "conflict", reply.body
    # AND the retry creates the account
    retried = api.call("POST", "/auth/verify-email", {"token": registered["token"]})
    assert retried.status == 200, retried.body


@pytest.mark.parametrize("code", ["RequestThrottled", "ServiceUnavailable"])
def test_a_throttled_mail_queue_is_503_and_the_retry_mails(shared_api, monkeypatch, code):
    # GIVEN SQS refusing the verification mail of a registration
    api = shared_api
    email = fresh_email("dyn")
    body = {"email": email, "password": PASSWORD, "full_name": "Test User", "locale": "en"}
    refused = Fault("sqs", frozenset({"SendMessage"}), lambda _n, op, _p: client_error(code, op))
    # WHEN the address registers
    with faults(monkeypatch, refused):
        reply = api.call("POST", "/auth/register", body)
    # THEN a clear 503 (the link it stored was never sent, so nobody can use it)
    assert refused.fired == 1
    assert reply.status == 503 and reply.json()["code"] == "service_unavailable", reply.body
    assert reply.header("Retry-After")
    api.drain()
    assert mailbox.messages(email) == []
    # AND the retry registers and mails a working link
    assert api.call("POST", "/auth/register", body).status == 202
    verified = api.call(
        "POST", "/auth/verify-email", {"token": api.link_token(email, "/verify-email")}
    )
    assert verified.status == 200, verified.body


# --- the session authorizer with DynamoDB throttled or failing --------------------------------
# In-process only: faults are patched into this process's botocore, and the dev server
# (the `client` fixture's HTTP transport) runs its own in a subprocess that they cannot
# reach; both transports hand the request to the same LocalApi.handle, which runs the
# authorizer and answers with the template's gateway responses.


DYNAMODB_CALLS = DYNAMODB_WRITES | {
    "GetItem",
    "BatchGetItem",
    "TransactGetItems",
    "Query",
    "Scan",
}


def _reads_sessions(api: Api, params: dict[str, Any]) -> bool:
    sessions = api.deployment.physical.refs["SessionsTable"]
    return any(item["Get"]["TableName"] == sessions for item in params["TransactItems"])


@pytest.mark.parametrize("code", CODES)
def test_a_throttled_session_read_is_503_and_the_same_session_works_on_retry(
    shared_api, monkeypatch, code
):
    from clientarea.availability import RETRY_AFTER_SECONDS

    # GIVEN a logged-in client, and DynamoDB refusing the authorizer's session read
    api = shared_api
    account = api.known_account()
    refused = Fault(
        "dynamodb",
        frozenset({"TransactGetItems"}),
        lambda _n, op, params: (
            dynamodb_error(code, op, params) if _reads_sessions(api, params) else None
        ),
    )
    every_call = Fault("dynamodb", DYNAMODB_CALLS, lambda *_: None)
    # WHEN the client reads its account
    with faults(monkeypatch, every_call, refused):  # every_call first: it sees them all
        reply = api.call("GET", "/account", token=account["token"])
    # THEN the request is refused: the function never ran (no call but the authorizer's)
    assert refused.fired == 1 and every_call.log == ["TransactGetItems"]
    # AND the answer is a retryable 503 in the contract's shape, not a 500 or a 401
    assert reply.status == 503, reply.body
    assert reply.json() == {
        "code": "service_unavailable",
        "message": "The service is busy right now. Please try again in a few seconds.",
    }
    assert reply.header("Retry-After") == str(RETRY_AFTER_SECONDS)
    # AND the frontend can read it, and the wait (the template's fixed headers)
    assert reply.header("Access-Control-Allow-Origin") == DEV_ALLOWED_ORIGINS[0]
    assert reply.header("Access-Control-Expose-Headers") == "Retry-After"
    # AND once DynamoDB is back, the same session reads the account
    retried = api.call("GET", "/account", token=account["token"])
    assert retried.status == 200, retried.body
    assert retried.json()["client_number"] == account["client_number"]


def test_every_authorizer_error_response_is_the_retryable_503():
    # GIVEN the template's gateway responses
    responses = RESOURCES["ClientareaApi"]["Properties"]["GatewayResponses"]
    # THEN both types API Gateway may use for an authorizer that raised or timed out are
    # the same 503 service_unavailable, with the functions' Retry-After
    from clientarea.availability import RETRY_AFTER_SECONDS

    failure = responses["AUTHORIZER_FAILURE"]
    assert responses["AUTHORIZER_CONFIGURATION_ERROR"] == failure
    assert failure["StatusCode"] == 503
    assert failure["ResponseParameters"]["Headers"]["Retry-After"] == f"'{RETRY_AFTER_SECONDS}'"
    body = json.loads(failure["ResponseTemplates"]["application/json"])
    assert body["code"] == "service_unavailable" and set(body) == {"code", "message"}


# --- every API function, every AWS service it calls -------------------------------------------
# Each AWS call is translated where it is made (a storage module, or the module owning
# the S3, Step Functions or SQS client): the HTTP adapter catches domain errors only. So
# for each API function and each service its routes call, on a route that calls it: AWS
# throttled or down is the retryable 503, IAM's refusal a 500 reported as AccessDenied
# (its metric and an error log naming AWS's code), and any other refusal a 500 logged as
# unhandled. The handlers run in-process (the emulated gateway calls each function's
# `lambda_handler`), with the faults only on the route function's own calls.

THROTTLED = {
    "dynamodb": ("ThrottlingException", 400),
    "s3": ("ServiceUnavailable", 503),  # S3 down
    "stepfunctions": ("ThrottlingException", 400),
    "sqs": ("RequestThrottled", 400),
}
DENIED = {"s3": "AccessDenied"}  # S3's spelling; the others say AccessDeniedException


@dataclass(frozen=True)
class Dependency:
    """A route of an API function that calls `service` (`operations` of it); what it
    answers when they fail: `throttled` (AWS throttled or down), `refused` (IAM's
    AccessDenied, or any other error AWS answers)."""

    function: str
    service: str
    operations: frozenset[str]
    arrange: Callable[[Api], dict[str, Any]]
    act: Callable[[Api, dict[str, Any]], Reply]
    throttled: int = 503
    refused: int = 500

    @property
    def name(self) -> str:
        return f"{self.function}-{self.service}-{'+'.join(sorted(self.operations))}"


def _get(path: str, token: str = "token") -> Callable[[Api, dict[str, Any]], Reply]:
    return lambda api, s: api.call("GET", path.format(**s), token=s.get(token))


def _forgot_password(api: Api, s: dict[str, Any]) -> Reply:
    return api.call("POST", "/password/forgot", {"login": s["login"]})


def _recovery_reader(api: Api) -> dict[str, Any]:
    case = _recovery_case(api)
    return {**case, "headers": {"X-Recovery-Key": case["access_key"]}}


def _read_recovery_case(api: Api, s: dict[str, Any]) -> Reply:
    """The applicant's read of the case: its access key, no session."""
    return api.call("GET", f"/recovery/requests/{s['reference']}", None, None, s["headers"])


DEPENDENCIES = [
    Dependency(
        "accounts",
        "dynamodb",
        frozenset({"GetItem"}),
        lambda api: api.known_account(),
        _get("/account"),
    ),
    Dependency(
        "accounts",
        "dynamodb",
        frozenset({"Query"}),
        lambda api: api.known_account(),
        _get("/account/sessions"),
    ),
    Dependency(
        "accounts",
        "sqs",
        frozenset({"SendMessage"}),
        lambda api: {"email": fresh_email("dyn")},
        lambda api, s: api.call(
            "POST",
            "/auth/register",
            {"email": s["email"], "password": PASSWORD, "full_name": "T U", "locale": "en"},
        ),
    ),
    Dependency(
        "password_reset",
        "dynamodb",
        frozenset({"UpdateItem"}),
        lambda api: {"login": fresh_email("dyn")},
        _forgot_password,
    ),
    Dependency(
        "password_reset",
        "sqs",
        frozenset({"SendMessage"}),
        lambda api: {"login": fresh_email("dyn")},
        _forgot_password,
    ),
    Dependency(
        "contact_email",
        "dynamodb",
        frozenset({"GetItem"}),
        lambda api: api.known_account(),
        _get("/account/authorised-emails"),
    ),
    Dependency(
        "contact_email",
        "sqs",
        frozenset({"SendMessage"}),
        lambda api: api.account(),  # 5 sender confirmations an hour per account
        lambda api, s: api.call(
            "POST",
            "/account/authorised-emails",
            {"email": f"sender-{uuid.uuid4().hex[:12]}@example.com"},
            token=s["token"],
        ),
    ),
    Dependency(
        "cession",
        "dynamodb",
        frozenset({"Query"}),
        lambda api: api.known_account("owner"),
        _get("/orders"),
    ),
    Dependency(
        "cession",
        "dynamodb",
        frozenset({"GetItem"}),
        _cession_ordered,
        _get("/orders/{order_id}"),
    ),
    Dependency(
        "cession",
        "stepfunctions",
        frozenset({"StartExecution"}),
        _cession_ordered,
        lambda api, s: api.call("POST", f"/orders/{s['order_id']}/activate", token=s["token"]),
    ),
    Dependency(
        "cession",
        "sqs",
        frozenset({"SendMessage"}),
        _cession_ordered,
        lambda api, s: api.call("POST", f"/orders/{s['order_id']}/activate", token=s["token"]),
    ),
    # The answer is on the order before the branch is woken: a throttled wake-up only
    # delays the outcome to the end of the window (clientarea.cession.workflow).
    Dependency(
        "cession",
        "stepfunctions",
        frozenset({"SendTaskSuccess"}),
        _cession_activated,
        lambda api, s: api.call("POST", "/cession/confirm", {"token": s["link"]}),
        throttled=200,
    ),
    Dependency(
        "support",
        "dynamodb",
        frozenset({"Query"}),
        lambda api: api.known_account(),
        _get("/tickets"),
    ),
    Dependency(
        "support",
        "dynamodb",
        frozenset({"GetItem"}),
        _ticket,
        _get("/tickets/{number}"),
    ),
    # The acknowledgement of an access request is best effort once its ticket exists:
    # a throttled queue skips it (clientarea.support.public_forms).
    Dependency(
        "support",
        "sqs",
        frozenset({"SendMessage"}),
        lambda api: api.account(),
        _request_access,
        throttled=201,
    ),
    Dependency(
        "staff_support",
        "dynamodb",
        frozenset({"Query"}),
        lambda api: {"staff": _staff(api)},
        _get("/staff/tickets", "staff"),
    ),
    Dependency(
        "staff_support",
        "dynamodb",
        frozenset({"GetItem"}),
        _staff_ticket,
        _get("/staff/tickets/{number}", "staff"),
    ),
    Dependency(
        "staff_support",
        "sqs",
        frozenset({"SendMessage"}),
        _staff_ticket,
        lambda api, s: api.call(
            "POST", f"/staff/tickets/{s['number']}/messages", {"message": "On it."}, s["staff"]
        ),
    ),
    Dependency(
        "recovery",
        "dynamodb",
        frozenset({"GetItem"}),
        _recovery_reader,
        _read_recovery_case,
    ),
    Dependency(
        "recovery",
        "s3",
        frozenset({"ListObjectVersions"}),
        _recovery_reader,
        _read_recovery_case,
    ),
    Dependency(
        "recovery",
        "sqs",
        frozenset({"SendMessage"}),
        lambda api: {},
        lambda api, s: api.call(
            "POST",
            "/recovery/requests",
            __import__("tests.integration.test_recovery", fromlist=["x"]).application("nobody"),
        ),
    ),
    Dependency(
        "recovery_staff",
        "dynamodb",
        frozenset({"Query"}),
        lambda api: {"staff": _staff(api, "admin")},
        _get("/staff/recovery-requests", "staff"),
    ),
    Dependency(
        "recovery_staff",
        "dynamodb",
        frozenset({"GetItem"}),
        _recovery_under_review,
        _get("/staff/recovery-requests/{reference}", "staff"),
    ),
    Dependency(
        "recovery_staff",
        "sqs",
        frozenset({"SendMessage"}),
        _recovery_under_review,
        _decide("reject"),
    ),
    # The decision stands whatever S3 says of the documents' move (the requests/
    # lifecycle rule is the backstop); a refused permission is reported all the same.
    Dependency(
        "recovery_staff",
        "s3",
        frozenset({"ListObjectVersions"}),
        _recovery_under_review,
        _decide("reject"),
        throttled=200,
        refused=200,
    ),
]
KINDS = ["throttled", "denied", "broken"]


def aws_refusal(kind: str, service: str, operation: str) -> ClientError:
    if kind == "throttled":
        code, status = THROTTLED[service]
        return client_error(code, operation, status)
    if kind == "denied":
        return client_error(DENIED.get(service, "AccessDeniedException"), operation, 403)
    return client_error("ValidationException", operation)  # a bug of ours


def test_every_api_function_and_every_service_it_calls_are_covered():
    functions = load_stack().functions()
    api_functions = {functions[route.function].code_uri.name for route in load_stack().routes()}
    covered = {(d.function, d.service) for d in DEPENDENCIES}
    assert {function for function, _ in covered} == api_functions
    assert {service for _, service in covered} == set(THROTTLED)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dependency", DEPENDENCIES, ids=lambda d: d.name)
def test_an_aws_failure_in_each_dependency_of_each_api_function_is_answered_as_it_means(
    shared_api, monkeypatch, capsys, caplog, dependency, kind
):
    from tests.integration.test_least_privilege import emitted_metrics, error_logs

    # GIVEN what the route needs
    api = shared_api
    arranged = dependency.arrange(api)
    api.drain()
    # WHEN AWS refuses the route function's calls to the service
    fault = Fault(
        dependency.service,
        dependency.operations,
        lambda _n, op, _params: aws_refusal(kind, dependency.service, op),
    )
    capsys.readouterr()
    caplog.clear()
    with faults(monkeypatch, fault):
        reply = dependency.act(api, arranged)
    metrics, errors = emitted_metrics(capsys.readouterr().out), error_logs(caplog)
    api.drain()
    assert fault.fired, f"{dependency.name}: the route made no such call ({fault.log})"
    expected = dependency.throttled if kind == "throttled" else dependency.refused
    assert reply.status == expected, reply.body
    if reply.status >= 500:  # the contract's shape, nothing of the cause
        body = reply.json()
        assert set(body) == {"code", "message"} and body["message"], body
        assert dependency.service not in reply.body.decode().lower()
    if kind == "throttled":
        # THEN throttled or down: a retryable 503 (a warning, no alarm)
        if expected == 503:
            assert reply.json()["code"] == "service_unavailable"
            assert int(reply.header("Retry-After")) >= 1
            assert errors == []
        assert "AccessDenied" not in metrics
    elif kind == "denied":
        # THEN IAM's refusal: reported as what it is, at error level, with its metric
        if expected == 500:
            assert reply.json()["code"] == "internal_error"
        assert "AccessDenied" in metrics
        refused_code = DENIED.get(dependency.service, "AccessDeniedException")
        assert any(e.get("error_code") == refused_code for e in errors), errors
    else:
        # THEN any other refusal: a 500 logged as an error, not an AccessDenied
        if expected == 500:
            assert reply.json()["code"] == "internal_error"
            assert any(e.get("msg") == "unhandled error" for e in errors), errors
        assert "AccessDenied" not in metrics
