"""Support for staff: the ticket queue, replies and a client's product list
(API.md, "Support"). The authorizer lets only staff roles reach /staff/*, and this
function checks the role again itself (403 for anyone else).

Nothing here returns a client's profile: a ticket view names the client by number
only, and the product view is `[{service_id, product, domain, status}]`.
"""

from __future__ import annotations

from clientarea import startup  # first: pauses the garbage collector during init

# isort: split
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from clientarea import web
from clientarea.support import staff, views
from pydantic import Field

logger = Logger()
app = web.create_app(staff_only=True)

TicketNumber = Annotated[str, Path(min_length=1, max_length=32)]
STAFF_ONLY = "forbidden: not a staff session"


class StaffTicketAttachment(web.Answer):
    filename: str
    content_type: str
    size: int
    download_url: str  # valid for 5 minutes


class StaffTicketMessage(web.Answer):
    message_id: str
    author: Literal["client", "staff"]
    channel: Literal["web", "email"]
    body: str
    created_at: str
    attachments: list[StaffTicketAttachment]


class StaffTicketSummary(web.Answer):
    number: str
    subject: str
    department: str
    status: str
    service_id: str | None
    created_at: str
    updated_at: str


class StaffTicket(StaffTicketSummary):
    origin: Literal["client_area", "email", "access_request", "sales_question"]
    client_number: int | None
    # Access requests only: the account the form named, and what the applicant typed.
    claimed_client_number: int | None
    applicant: dict[str, str] | None
    messages: list[StaffTicketMessage]


class StaffReply(web.Shape):
    message: Annotated[str, Field(min_length=1, max_length=views.MAX_BODY)]


class StaffClientProduct(web.Answer):
    service_id: str
    product: str
    domain: str
    status: str


@app.get(
    "/staff/tickets",
    responses=web.responses(
        200, list[StaffTicketSummary], "Tickets in that status, oldest first", e403=STAFF_ONLY
    ),
)
def ticket_queue(
    status: Annotated[Literal["open", "answered", "closed"], Query()] = "open",
) -> list[StaffTicketSummary]:
    queued = staff.queue(views.TicketStatus(status))
    return [StaffTicketSummary(**ticket.summary()) for ticket in queued]


@app.get(
    "/staff/tickets/<number>",
    responses=web.responses(
        200, StaffTicket, "The ticket and its messages", e403=STAFF_ONLY, e404="not_found"
    ),
)
def read_ticket(number: TicketNumber) -> StaffTicket:
    return StaffTicket(**staff.get_for_staff(number).staff_view())


@app.post(
    "/staff/tickets/<number>/messages",
    responses=web.responses(
        201,
        StaffTicketMessage,
        "The reply, also mailed to the client in the client's language",
        e403=STAFF_ONLY,
        e404="not_found",
        e409="ticket_closed: a closed ticket takes no more messages",
    ),
)
def reply(number: TicketNumber, request: StaffReply) -> Response[StaffTicketMessage]:
    message = staff.staff_reply(number, request.message)  # staff replies carry no files
    return Response(201, "application/json", StaffTicketMessage(**message.as_dict()))


@app.get(
    "/staff/clients/<client_number>/products",
    responses=web.responses(
        200, list[StaffClientProduct], "The client's products, and nothing else", e403=STAFF_ONLY
    ),
)
def products(client_number: Annotated[int, Path(ge=1, le=10**12)]) -> list[StaffClientProduct]:
    return [StaffClientProduct(**product) for product in staff.products_of(client_number)]


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


startup.done()  # last: the initialisation is over (clientarea/startup.py)
