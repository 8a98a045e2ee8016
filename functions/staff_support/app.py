"""Support for staff: the ticket queue, replies and a client's product list
(API.md, "Support"). The authorizer lets only staff roles reach /staff/*, and this
function checks the role again itself (403 for anyone else).

Nothing here returns a client's profile: a ticket view names the client by number
only, and the product view is `[{service_id, product, domain, status}]`.
"""

from clientarea import startup  # first: pauses the garbage collector during init
from clientarea.statuses import TicketStatus

# isort: split
from typing import Annotated, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from clientarea import web
from clientarea.errors import Forbidden, NotFound, TicketClosed
from clientarea.schema.base import Shape
from clientarea.schema.fields import TicketNumber
from clientarea.schema.routes import responses
from clientarea.schema.services import Service
from clientarea.schema.support import TicketAttachment, TicketMessage, TicketSummary
from clientarea.support import staff, views
from pydantic import Field

logger = Logger()
metrics = Metrics()
app = web.create_app(staff_only=True)

TAG = ["staff support"]


class StaffTicketAttachment(TicketAttachment):
    download_url: str  # valid for 5 minutes


class StaffTicketMessage(TicketMessage):
    attachments: list[StaffTicketAttachment]  # type: ignore[assignment]  # with their links


class StaffTicket(TicketSummary):
    origin: Literal["client_area", "email", "access_request", "sales_question"]
    client_number: int | None
    # Access requests only: the account the form named, and what the applicant typed.
    claimed_client_number: int | None
    applicant: dict[str, str] | None
    messages: list[StaffTicketMessage]


class StaffReply(Shape):
    message: Annotated[str, Field(min_length=1, max_length=views.MAX_BODY)]


@app.get(
    "/staff/tickets",
    operation_id="listStaffTickets",
    tags=TAG,
    responses=responses(
        200, list[TicketSummary], "Tickets in that status, oldest first", raises=[Forbidden]
    ),
)
def ticket_queue(
    status: Annotated[TicketStatus, Query()] = TicketStatus.OPEN,
) -> list[TicketSummary]:
    queued = staff.queue(TicketStatus(status.value))
    return [TicketSummary(**ticket.summary()) for ticket in queued]


@app.get(
    "/staff/tickets/<number>",
    operation_id="getStaffTicket",
    tags=TAG,
    responses=responses(
        200, StaffTicket, "The ticket and its messages", raises=[Forbidden, NotFound]
    ),
)
def read_ticket(number: TicketNumber) -> StaffTicket:
    return StaffTicket(**staff.get_for_staff(number).staff_view())


@app.post(
    "/staff/tickets/<number>/messages",
    operation_id="replyToTicket",
    tags=TAG,
    responses=responses(
        201,
        StaffTicketMessage,
        "The reply, also mailed to the client in the client's language",
        raises=[Forbidden, NotFound, TicketClosed],
    ),
)
def reply(number: TicketNumber, request: StaffReply) -> Response[StaffTicketMessage]:
    message = staff.staff_reply(number, request.message)  # staff replies carry no files
    return Response(201, "application/json", StaffTicketMessage(**message.as_dict()))


@app.get(
    "/staff/clients/<client_number>/products",
    operation_id="listClientProducts",
    tags=TAG,
    responses=responses(
        200, list[Service], "The client's products, and nothing else", raises=[Forbidden]
    ),
)
def products(client_number: Annotated[int, Path(ge=1, le=10**12)]) -> list[Service]:
    return [Service(**product) for product in staff.products_of(client_number)]


lambda_handler = web.entry_point(app, logger, metrics)


startup.done()  # last: the initialisation is over (clientarea/startup.py)
