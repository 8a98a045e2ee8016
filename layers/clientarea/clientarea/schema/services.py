"""A client's services and orders, as the client and staff see them."""

from clientarea.schema.base import Answer
from clientarea.statuses import ServiceStatus


class Service(Answer):
    """A product as its owner sees it, and as staff see a client's products."""

    service_id: str
    product: str
    domain: str
    status: ServiceStatus
