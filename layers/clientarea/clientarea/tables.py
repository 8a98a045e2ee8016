"""PynamoDB models: the shape of every item in every table, in one place.

Domain modules are the only users of these classes; handlers never touch them. Each
table name comes from the function's environment (template.yaml `!Ref`s it in), read
when this module is first imported.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, TypeVar

import botocore.session
from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.connection.table import TableConnection
from pynamodb.exceptions import TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model as _PynamoDBModel
from pynamodb.models import _ModelFuture
from pynamodb.transactions import TransactGet, TransactWrite

from clientarea import availability, aws, config
from clientarea.errors import Conflict, ServiceUnavailable

_M = TypeVar("_M", bound=_PynamoDBModel)
_REGION = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-central-1"


class _SharedConnection(Connection):
    """PynamoDB's connection on clientarea.aws's session, with one botocore client for
    every table. PynamoDB gives each model class a connection of its own, and each
    creates its own botocore session and client: about 50 ms of CPU for every table a
    cold request touches (four tables, 250 ms), where one client serves them all."""

    _shared_client: ClassVar[Any] = None

    @property
    def session(self) -> botocore.session.Session:
        return aws.session()

    @property
    def client(self) -> Any:
        # PynamoDB's own property creates a client when there is none, or when the one
        # it has lost its credentials (see pynamodb.connection.base): keep that rule.
        self._client = _SharedConnection._shared_client or self._client
        client = super().client
        _SharedConnection._shared_client = client
        return client


class Model(_PynamoDBModel):
    """PynamoDB's Model, on the shared connection (`_SharedConnection`)."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table = super()._get_connection()
        if type(table.connection) is Connection:
            # PynamoDB constructs a plain Connection; the subclass only changes where
            # its session and client come from (no state of its own).
            table.connection.__class__ = _SharedConnection
        return table


class _Meta:
    region = _REGION
    # Lambda's own retries are enough; a throttled write surfaces as a clear error.
    max_retry_attempts = 2


# MapAttribute is generic only in pynamodb's annotations; its __init__ is unannotated,
# so building an Undeliverable takes an ignore[no-untyped-call].
class Undeliverable(MapAttribute):  # type: ignore[type-arg]
    """Why, and since when, mail to an address is no longer sent: SES reported a hard
    bounce or a complaint for it (clientarea.bounces)."""

    reason = UnicodeAttribute()  # "bounce" | "complaint"
    since = UTCDateTimeAttribute()


class AccountModel(Model):
    """An account: `pk` is `account#<client_number>`."""

    class Meta(_Meta):
        table_name = config.accounts_table()

    pk = UnicodeAttribute(hash_key=True)
    client_number = NumberAttribute()
    login = UnicodeAttribute()
    email = UnicodeAttribute()
    full_name = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(default="en")
    password_hash = UnicodeAttribute()
    status = UnicodeAttribute()  # AccountStatus
    role = UnicodeAttribute(default="client")  # Role
    # Raised to revoke every session at once: a session is valid only while its
    # generation equals the account's.
    session_generation = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    # Addresses allowed to open tickets by email, besides the contact email:
    # {casefolded address: {"email": as written, "added_at": ISO time}}.
    authorised_emails = MapAttribute(default=dict)  # type: ignore[var-annotated]
    # Set while the contact email is undeliverable (GET /account shows it); cleared by a
    # contact-email change.
    email_undeliverable = Undeliverable(null=True)  # type: ignore[no-untyped-call]


class ClaimModel(Model):
    """A uniqueness claim, `email#<normalized>` or `login#<login>`, owned by one account.

    Written in the same transaction as the account, so two registrations racing for
    one address or login cannot both win (a GSI read-then-write could).
    """

    class Meta(_Meta):
        table_name = config.accounts_table()

    pk = UnicodeAttribute(hash_key=True)
    client_number = NumberAttribute()
    # Email claims only: set with the account's `email_undeliverable`, read by the
    # mailer (by address, the only thing it knows) before every send.
    undeliverable = Undeliverable(null=True)  # type: ignore[no-untyped-call]


class SenderModel(Model):
    """An authorised sender address, `sender#<casefolded address>`, owned by one account,
    so that inbound mail from it maps to exactly one client."""

    class Meta(_Meta):
        table_name = config.accounts_table()

    pk = UnicodeAttribute(hash_key=True)
    client_number = NumberAttribute()
    email = UnicodeAttribute()
    added_at = UTCDateTimeAttribute()


class CounterModel(Model):
    """A monotonically increasing counter (`counter#client_number`): numbers are never reused."""

    class Meta(_Meta):
        table_name = config.accounts_table()

    pk = UnicodeAttribute(hash_key=True)
    value = NumberAttribute(default=0)


class SessionModel(Model):
    """A login session, keyed by account and the SHA-256 digest of its secret."""

    class Meta(_Meta):
        table_name = config.sessions_table()

    client_number = UnicodeAttribute(hash_key=True)
    digest = UnicodeAttribute(range_key=True)
    generation = NumberAttribute()
    role = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    # The last recorded use (written by the authorizer at most once every 5 minutes) and
    # where it came from; the client software named at login. Shown to the owner only.
    last_seen_at = UTCDateTimeAttribute(null=True)
    ip = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    expires_at = UTCDateTimeAttribute()  # the exact expiry the code checks
    ttl = TTLAttribute()  # the same expiry in whole seconds, for DynamoDB's lazy clean-up


class TokenModel(Model):
    """A one-time link secret: `pk` is `<purpose>#<subject>`, so a newer link replaces the older."""

    class Meta(_Meta):
        table_name = config.tokens_table()

    pk = UnicodeAttribute(hash_key=True)
    digest = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()  # the exact expiry the code checks
    ttl = TTLAttribute()  # the same expiry in whole seconds, for DynamoDB's lazy clean-up
    payload = MapAttribute(default=dict)  # type: ignore[var-annotated]


class RateLimitModel(Model):
    """A fixed-window hit counter: `pk` is `<limit>#<hashed key>#<window index>`."""

    class Meta(_Meta):
        table_name = config.rate_limits_table()

    pk = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0)
    ttl = TTLAttribute()


class AttemptsModel(Model):
    """Consecutive attempts of one login (`clientarea.throttling.admit`): `pk` is
    `<limit>#<hashed key>`; besides `consecutive`, one number attribute per window
    (`w<window index>`), named at run time and so not declared here."""

    class Meta(_Meta):
        table_name = config.rate_limits_table()

    pk = UnicodeAttribute(hash_key=True)
    consecutive = NumberAttribute(default=0)
    ttl = TTLAttribute()


# --- services and orders (clientarea.services, clientarea.cession) ----------------------


class ServicesByOwner(GlobalSecondaryIndex["ServiceModel"]):
    """A client's services (GET /services, the staff product view)."""

    class Meta:
        index_name = "by-owner"
        projection = AllProjection()

    owner_client_number = NumberAttribute(hash_key=True)


class ServicesByDomain(GlobalSecondaryIndex["ServiceModel"]):
    """Whose service a domain is (account hints in manual recovery)."""

    class Meta:
        index_name = "by-domain"
        projection = AllProjection()

    domain = UnicodeAttribute(hash_key=True)


class ServiceModel(Model):
    """A service a client holds (a hosting plan with its domain), keyed by `service_id`.

    It has exactly one owner, an attribute of this one item, which only the cession
    workflow's transfer transaction changes (infra/statemachines/cession.asl.json).
    """

    class Meta(_Meta):
        table_name = config.services_table()

    service_id = UnicodeAttribute(hash_key=True)
    owner_client_number = NumberAttribute()
    product = UnicodeAttribute()
    domain = UnicodeAttribute()  # lowercased, IDNA-encoded
    status = UnicodeAttribute()  # ServiceStatus
    # The open cession order holding this service: set in the transaction that creates
    # the order, removed in the one that closes it. At most one open cession per service.
    open_order_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    by_owner = ServicesByOwner()
    by_domain = ServicesByDomain()


# What an order view needs, never the task tokens (template.yaml projects the same).
_ORDER_VIEW = [
    "type",
    "status",
    "service_id",
    "product",
    "domain",
    "owner_confirmed_at",
    "recipient_confirmed_at",
    "activated_at",
    "expires_at",
    "closed_at",
    "declined_by",
]


class OrdersByOwner(GlobalSecondaryIndex["OrderModel"]):
    class Meta:
        index_name = "by-owner"
        projection = IncludeProjection([*_ORDER_VIEW, "recipient_client_number"])

    owner_client_number = NumberAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class OrdersByRecipient(GlobalSecondaryIndex["OrderModel"]):
    class Meta:
        index_name = "by-recipient"
        projection = IncludeProjection([*_ORDER_VIEW, "owner_client_number"])

    recipient_client_number = NumberAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class OrderModel(Model):
    """A cession order, keyed by `order_id`; the state machine reads and writes it too.

    The attribute names are shared with the state machine definition: change both.
    `*_task_token` are the Step Functions task tokens of the waiting branches; they
    never leave clientarea.cession (no view, no log, no link).
    """

    class Meta(_Meta):
        table_name = config.orders_table()

    order_id = UnicodeAttribute(hash_key=True)
    order_type = UnicodeAttribute(attr_name="type", default="cession")
    status = UnicodeAttribute()  # OrderStatus
    service_id = UnicodeAttribute()
    product = UnicodeAttribute()  # what was ordered, as it was then
    domain = UnicodeAttribute()
    owner_client_number = NumberAttribute()
    recipient_client_number = NumberAttribute()
    owner_confirmed_at = UTCDateTimeAttribute(null=True)
    recipient_confirmed_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    activated_at = UTCDateTimeAttribute(null=True)
    expires_at = UTCDateTimeAttribute(null=True)
    # ISO 8601 text: the state machine writes it too, in its own format.
    closed_at = UnicodeAttribute(null=True)
    declined_by = UnicodeAttribute(null=True)  # Party
    owner_task_token = UnicodeAttribute(null=True)
    recipient_task_token = UnicodeAttribute(null=True)
    by_owner = OrdersByOwner()
    by_recipient = OrdersByRecipient()


# --- manual recovery (clientarea.recovery) -------------------------------------------


class RecoveryByStatus(GlobalSecondaryIndex["RecoveryRequestModel"]):
    """Staff's work list: cases in one status, oldest first. Never the key digest."""

    class Meta:
        index_name = "by-status"
        projection = IncludeProjection(
            ["applicant_type", "channel", "full_name", "submitted_at", "decided_at"]
        )

    status = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class RecoveryRequestModel(Model):
    """A manual-recovery case, keyed by its `reference` (`RC-` + 10 base32 characters).

    `key_digest` is the SHA-256 of the applicant's access key; the key itself is shown
    once, in the 201 answer, and stored nowhere. `matched_client_number` is the account
    the hint named, if any: only staff ever see it.
    """

    class Meta(_Meta):
        table_name = config.recovery_requests_table()

    reference = UnicodeAttribute(hash_key=True)
    key_digest = UnicodeAttribute()
    status = UnicodeAttribute()  # RecoveryStatus
    applicant_type = UnicodeAttribute()
    channel = UnicodeAttribute()
    full_name = UnicodeAttribute()
    new_email = UnicodeAttribute()
    phone = UnicodeAttribute()
    company_name = UnicodeAttribute(null=True)
    company_code = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(default="en")
    account_hint = UnicodeAttribute()
    matched_client_number = NumberAttribute(null=True)
    matched_by = UnicodeAttribute(null=True)  # client_number, login, email or domain
    # Where the documents are: `requests/` while open, `closed/` once decided (the
    # bucket's lifecycle rule expires `closed/` objects after the retention period).
    document_prefix = UnicodeAttribute(default="requests/")
    # What was handed in, frozen at submit: {slot: {version_id, bytes, etag, uploaded_at}}
    # of each document's S3 object version then (the bucket is versioned). Staff are
    # served exactly these versions, whatever is uploaded with a still-valid form later.
    submitted_documents = MapAttribute(null=True)  # type: ignore[var-annotated]
    created_at = UTCDateTimeAttribute()
    submitted_at = UTCDateTimeAttribute(null=True)
    decided_at = UTCDateTimeAttribute(null=True)
    decided_by = NumberAttribute(null=True)
    decision_reason = UnicodeAttribute(null=True)
    by_status = RecoveryByStatus()


class RecoveryAuditModel(Model):
    """One step of a recovery case, append-only: keyed by case and `<ISO time>#<random>`.

    No code path updates or deletes these items, and the functions' IAM policies allow
    only PutItem and Query on the table.
    """

    class Meta(_Meta):
        table_name = config.recovery_audit_table()

    reference = UnicodeAttribute(hash_key=True)
    entry = UnicodeAttribute(range_key=True)
    at = UTCDateTimeAttribute()
    action = UnicodeAttribute()
    actor = UnicodeAttribute()  # "applicant" or "staff:<client_number>"
    source_ip = UnicodeAttribute()
    detail = MapAttribute(default=dict)  # type: ignore[var-annotated]


def connection() -> Connection:
    """The low-level connection transactions are committed on."""
    return AccountModel._get_connection().connection


class ProjectedTransactGet(TransactGet):
    """PynamoDB's TransactGet with a projection per item (`attributes_to_get`), which
    TransactGetItems takes but PynamoDB does not pass: a function allowed only some
    attributes of a table (an IAM `dynamodb:Attributes` condition) must ask for no more."""

    def get(
        self,
        model_cls: type[_M],
        hash_key: Any,
        range_key: Any = None,
        *,
        attributes_to_get: Sequence[str] | None = None,
    ) -> _ModelFuture[_M]:
        hash_key, range_key = model_cls._serialize_keys(hash_key, range_key)
        operation_kwargs = model_cls._get_connection().get_operation_kwargs(
            hash_key=hash_key,
            range_key=range_key,
            attributes_to_get=None if attributes_to_get is None else list(attributes_to_get),
        )
        future = _ModelFuture(model_cls)
        self._futures.append(future)
        self._get_items.append(operation_kwargs)
        return future


@contextmanager
def transaction() -> Iterator[TransactWrite]:
    """A write transaction, committed when the block ends. Only a failed condition is
    left to the caller (as TransactWriteError): a transaction refused for capacity or
    an outage is ServiceUnavailable, and one that lost to a concurrent transaction is
    Conflict, because reading those as "the token was used" or "the state changed"
    would tell the user something false about a request that changed nothing. A
    transaction IAM refused is raised as AWS's error itself (not a TransactWriteError,
    which callers read as a failed condition: a 409 or "link used" would hide it), for
    the handler to report as AccessDenied."""
    try:
        with TransactWrite(connection=connection()) as tx:
            yield tx
    except TransactWriteError as exc:
        if availability.is_transient(exc):
            raise ServiceUnavailable(availability.RETRY_AFTER_SECONDS) from exc
        if availability.is_transaction_conflict(exc):
            raise Conflict from exc
        if availability.is_access_denied(exc) and exc.cause is not None:
            raise exc.cause from exc
        raise


# --- support tickets (clientarea.tickets, clientarea.inbound) ------------------------------


class TicketsByClient(GlobalSecondaryIndex["TicketModel"]):
    """A client's tickets (GET /tickets); tickets attached to no account are not in it."""

    class Meta:
        index_name = "by-client"
        projection = AllProjection()

    client_number = NumberAttribute(hash_key=True)
    updated_at = UTCDateTimeAttribute(range_key=True)


class TicketsByStatus(GlobalSecondaryIndex["TicketModel"]):
    """The staff queue (GET /staff/tickets?status=)."""

    class Meta:
        index_name = "by-status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    updated_at = UTCDateTimeAttribute(range_key=True)


class TicketModel(Model):
    """A support ticket: `pk` is `ticket#<number>`, `sk` is `ticket`.

    `client_number` is set only for tickets that belong to an account (opened in the
    client area, or by mail from an address authorised on it). Sales questions and
    access requests belong to no account: staff answer them at `contact_email`.
    """

    class Meta(_Meta):
        table_name = config.tickets_table()

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="ticket")
    number = UnicodeAttribute()
    client_number = NumberAttribute(null=True)
    department = UnicodeAttribute()  # Department
    subject = UnicodeAttribute()
    status = UnicodeAttribute()  # TicketStatus
    origin = UnicodeAttribute()  # Origin
    service_id = UnicodeAttribute(null=True)
    # Unattached tickets only: where (and in which language) a staff reply is mailed.
    contact_email = UnicodeAttribute(null=True)
    contact_name = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(null=True)
    # Access requests: what the applicant typed, and the account it named (if any).
    applicant = MapAttribute(null=True)  # type: ignore[var-annotated]
    claimed_client_number = NumberAttribute(null=True)
    message_count = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    by_client = TicketsByClient()
    by_status = TicketsByStatus()


class TicketMessageModel(Model):
    """One message of a ticket: `pk` is the ticket's, `sk` is `message#<time>#<id>`."""

    class Meta(_Meta):
        table_name = config.tickets_table()

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    message_id = UnicodeAttribute()
    author = UnicodeAttribute()  # Author
    channel = UnicodeAttribute()  # Channel
    body = UnicodeAttribute()
    # [{filename, content_type, size, key}] with `key` in the mail bucket.
    attachments = ListAttribute(of=MapAttribute, default=list)
    created_at = UTCDateTimeAttribute()


class TicketCounterModel(Model):
    """`counter#ticket`: ticket numbers come from here, once each."""

    class Meta(_Meta):
        table_name = config.tickets_table()

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="counter")
    value = NumberAttribute(default=0)


class InboundMailModel(Model):
    """`inbound#<SES message id>`: an inbound mail already handled (SES and Lambda may
    deliver one mail twice; it must open one ticket)."""

    class Meta(_Meta):
        table_name = config.tickets_table()

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="inbound")
    outcome = UnicodeAttribute()
    number = UnicodeAttribute(null=True)
    received_at = UTCDateTimeAttribute()
    ttl = TTLAttribute()
