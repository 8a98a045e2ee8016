"""PynamoDB models of the tables whose storage modules are still to be written
(services and orders, recovery cases, tickets): they move to `clientarea.storage`, one
module per aggregate, as `storage.accounts`, `sessions`, `tokens` and `throttling`
did. Until then the names those moved out are imported here for the modules that
still read them from this one (cession, recovery, tickets, inbound).
"""

from __future__ import annotations

from pynamodb.attributes import (
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection

from clientarea import config
from clientarea.storage.accounts import AccountModel, ClaimModel
from clientarea.storage.base import (
    Model,
    ProjectedTransactGet,
    TableMeta,
    connection,
    transaction,
)
from clientarea.storage.throttling import RateLimitModel

__all__ = [
    "AccountModel",
    "ClaimModel",
    "ProjectedTransactGet",
    "RateLimitModel",
    "connection",
    "transaction",
]

_Meta = TableMeta


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
