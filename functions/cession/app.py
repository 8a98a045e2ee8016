"""Services, orders and cession: /services, /orders, /cession/* (API.md, "Services,
orders and cession")."""

from __future__ import annotations

from clientarea import startup  # first: pauses the garbage collector during init

# isort: split
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from clientarea import services, web
from clientarea.cession import answers, lifecycle, ordering
from clientarea.cession import orders as cession_orders
from pydantic import Field

logger = Logger()
metrics = Metrics()
app = web.create_app()

PathId = Annotated[str, Path(min_length=1, max_length=64)]


class Service(web.Answer):
    service_id: str
    product: str
    domain: str
    status: str


class CessionRequest(web.Shape):
    recipient_login: Annotated[str, Field(min_length=1, max_length=64)]
    recipient_client_number: Annotated[int, Field(ge=1, le=10**12)]


class OrderParty(web.Answer):
    client_number: int
    confirmed_at: str | None


class Order(web.Answer):
    order_id: str
    type: Literal["cession"]
    service_id: str
    product: str
    domain: str
    status: str
    owner: OrderParty
    recipient: OrderParty
    created_at: str
    expires_at: str | None


class ResendRequest(web.Shape):
    party: Literal["owner", "recipient"]


class CessionLinkRequest(web.Shape):
    token: Annotated[str, Field(min_length=1, max_length=512)]


class CessionAnswer(web.Answer):
    order_id: str
    party: Literal["owner", "recipient"]
    status: str


NOT_YOURS = "not_found: no such order, or not the caller's"
OWNER_ONLY = "forbidden: only the owner may do this"
NOT_NOW = "invalid_order_state: the order's state does not allow this"
LINK_DEAD = "token_invalid: unknown, used, superseded, revoked or expired link, or a closed order"


def _order(view: cession_orders.Order) -> Order:
    return Order.model_validate(view.as_dict())


@app.get("/services", responses=web.responses(200, list[Service], "The caller's services"))
def list_services() -> list[Service]:
    owned = services.list_for_owner(web.principal(app).client_number)
    return [Service(**service.as_dict()) for service in owned]


@app.post(
    "/services/<service_id>/cession",
    responses=web.responses(
        201,
        Order,
        "The order, awaiting activation; the service is held for it",
        e404="not_found: no such service, or not the caller's",
        e409="cession_pending: the service already has an open cession",
        e422="recipient_mismatch: login and client number do not name one other client "
        "account; or validation_error",
        e429="rate_limited: too many recipient mismatches from this account or address",
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


@app.get("/orders", responses=web.responses(200, list[Order], "Orders the caller owns or receives"))
def list_orders() -> list[Order]:
    return [_order(view) for view in ordering.list_orders(web.principal(app).client_number)]


@app.get("/orders/<order_id>", responses=web.responses(200, Order, "The order", e404=NOT_YOURS))
def get_order(order_id: PathId) -> Order:
    return _order(ordering.get_order(web.principal(app).client_number, order_id))


@app.post(
    "/orders/<order_id>/activate",
    responses=web.responses(
        202,
        Order,
        "Confirmation links sent to both parties; the workflow waits for them",
        e403=OWNER_ONLY,
        e404=NOT_YOURS,
        e409=NOT_NOW,
    ),
)
def activate(order_id: PathId) -> Response[Order]:
    view = lifecycle.activate(web.principal(app).client_number, order_id)
    return Response(202, "application/json", _order(view))


@app.post(
    "/orders/<order_id>/resend",
    responses=web.responses(
        202,
        None,
        "A new link for that party; its previous link stops working",
        e403="forbidden: the recipient may only have its own link re-sent",
        e404=NOT_YOURS,
        e409=NOT_NOW + " (or that party has already confirmed)",
    ),
)
def resend(order_id: PathId, request: ResendRequest) -> Response[dict[str, Any]]:
    lifecycle.resend(
        web.principal(app).client_number, order_id, cession_orders.Party(request.party)
    )
    return Response(202, "application/json", {})


@app.post(
    "/orders/<order_id>/cancel",
    responses=web.responses(
        200, Order, "The cancelled order", e403=OWNER_ONLY, e404=NOT_YOURS, e409=NOT_NOW
    ),
)
def cancel(order_id: PathId) -> Order:
    return _order(lifecycle.cancel(web.principal(app).client_number, order_id))


@app.post(
    "/cession/confirm",
    responses=web.responses(200, CessionAnswer, "The confirmation is recorded", e410=LINK_DEAD),
)
def confirm(request: CessionLinkRequest) -> CessionAnswer:
    return _answer(request, answers.Decision.CONFIRM)


@app.post(
    "/cession/decline",
    responses=web.responses(200, CessionAnswer, "The order is declined", e410=LINK_DEAD),
)
def decline(request: CessionLinkRequest) -> CessionAnswer:
    return _answer(request, answers.Decision.DECLINE)


def _answer(request: CessionLinkRequest, decision: answers.Decision) -> CessionAnswer:
    result = answers.answer(request.token, decision, client_ip=web.client_ip(app))
    # result.party is a str the model checks against its Literal at run time.
    return CessionAnswer(
        order_id=result.order_id,
        party=result.party,  # type: ignore[arg-type]
        status=result.status,
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


startup.done()  # last: the initialisation is over (clientarea/startup.py)
