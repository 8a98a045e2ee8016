"""Services, orders and cession: /services, /orders, /cession/* (API.md, "Services,
orders and cession")."""

from clientarea import startup  # first: pauses the garbage collector during init
from clientarea.statuses import OrderStatus

# isort: split
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from clientarea import services, web
from clientarea.cession import answers, lifecycle, ordering
from clientarea.cession import orders as cession_orders
from clientarea.errors import (
    CessionPending,
    Forbidden,
    InvalidOrderState,
    NotFound,
    RateLimited,
    RecipientMismatch,
    TokenInvalid,
)
from clientarea.schema import fields
from clientarea.schema.base import Answer, Shape
from clientarea.schema.fields import PathId
from clientarea.schema.routes import responses
from clientarea.schema.services import Service
from pydantic import Field

logger = Logger()
metrics = Metrics()
app = web.create_app()

TAG = ["cession"]


class CessionRequest(Shape):
    recipient_login: Annotated[str, Field(min_length=1, max_length=64)]
    recipient_client_number: Annotated[int, Field(ge=1, le=10**12)]


class OrderParty(Answer):
    client_number: int
    confirmed_at: fields.Timestamp | None


class Order(Answer):
    order_id: str
    type: Literal["cession"]
    service_id: str
    product: str
    domain: str
    status: OrderStatus
    owner: OrderParty
    recipient: OrderParty
    created_at: fields.Timestamp
    expires_at: fields.Timestamp | None


class ResendRequest(Shape):
    party: Literal["owner", "recipient"]


class CessionLinkRequest(Shape):
    token: fields.Token


class CessionAnswer(Answer):
    order_id: str
    party: Literal["owner", "recipient"]
    status: OrderStatus


def _order(view: cession_orders.Order) -> Order:
    return Order.model_validate(view.as_dict())


@app.get(
    "/services",
    operation_id="listServices",
    tags=["services"],
    responses=responses(200, list[Service], "The caller's services"),
)
def list_services() -> list[Service]:
    owned = services.list_for_owner(web.principal(app).client_number)
    return [Service(**service.as_dict()) for service in owned]


@app.post(
    "/services/<service_id>/cession",
    operation_id="orderCession",
    tags=TAG,
    responses=responses(
        201,
        Order,
        "The order, awaiting activation; the service is held for it",
        raises=[NotFound, CessionPending, RecipientMismatch, RateLimited],
    ),
)
def order_cession(service_id: PathId, request: CessionRequest) -> Response[Order]:
    view = ordering.order_cession(
        web.principal(app).client_number,
        service_id,
        recipient_login=request.recipient_login,
        recipient_client_number=request.recipient_client_number,
        client_ip=web.client_ip(app),
    )
    return Response(201, "application/json", _order(view))


@app.get(
    "/orders",
    operation_id="listOrders",
    tags=TAG,
    responses=responses(200, list[Order], "Orders the caller owns or receives"),
)
def list_orders() -> list[Order]:
    return [_order(view) for view in ordering.list_orders(web.principal(app).client_number)]


@app.get(
    "/orders/<order_id>",
    operation_id="getOrder",
    tags=TAG,
    responses=responses(200, Order, "The order", raises=[NotFound]),
)
def get_order(order_id: PathId) -> Order:
    return _order(ordering.get_order(web.principal(app).client_number, order_id))


@app.post(
    "/orders/<order_id>/activate",
    operation_id="activateOrder",
    tags=TAG,
    responses=responses(
        202,
        Order,
        "Confirmation links sent to both parties; the workflow waits for them",
        raises=[Forbidden, NotFound, InvalidOrderState],
    ),
)
def activate(order_id: PathId) -> Response[Order]:
    view = lifecycle.activate(web.principal(app).client_number, order_id)
    return Response(202, "application/json", _order(view))


@app.post(
    "/orders/<order_id>/resend",
    operation_id="resendOrderLink",
    tags=TAG,
    responses=responses(
        202,
        None,
        "A new link for that party; its previous link stops working",
        raises=[Forbidden, NotFound, InvalidOrderState],
    ),
)
def resend(order_id: PathId, request: ResendRequest) -> Response[dict[str, Any]]:
    lifecycle.resend(
        web.principal(app).client_number, order_id, cession_orders.Party(request.party)
    )
    return Response(202, "application/json", {})


@app.post(
    "/orders/<order_id>/cancel",
    operation_id="cancelOrder",
    tags=TAG,
    responses=responses(
        200, Order, "The cancelled order", raises=[Forbidden, NotFound, InvalidOrderState]
    ),
)
def cancel(order_id: PathId) -> Order:
    return _order(lifecycle.cancel(web.principal(app).client_number, order_id))


@app.post(
    "/cession/confirm",
    operation_id="confirmCession",
    tags=TAG,
    responses=responses(200, CessionAnswer, "The confirmation is recorded", raises=[TokenInvalid]),
)
def confirm(request: CessionLinkRequest) -> CessionAnswer:
    return _answer(request, answers.Decision.CONFIRM)


@app.post(
    "/cession/decline",
    operation_id="declineCession",
    tags=TAG,
    responses=responses(200, CessionAnswer, "The order is declined", raises=[TokenInvalid]),
)
def decline(request: CessionLinkRequest) -> CessionAnswer:
    return _answer(request, answers.Decision.DECLINE)


def _answer(request: CessionLinkRequest, decision: answers.Decision) -> CessionAnswer:
    result = answers.answer(request.token, decision, client_ip=web.client_ip(app))
    # result.party is a str the model checks against its Literal at run time.
    return CessionAnswer(
        order_id=result.order_id,
        party=result.party,  # type: ignore[arg-type]
        status=OrderStatus(result.status),
    )


lambda_handler = web.entry_point(app, logger, metrics)


startup.done()  # last: the initialisation is over (clientarea/startup.py)
