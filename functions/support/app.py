"""Support for clients and the public: /tickets and /support/* (API.md, "Support")."""

from clientarea import startup  # first: pauses the garbage collector during init
from clientarea.statuses import TicketStatus

# isort: split
from typing import Annotated, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from clientarea import config, throttling, web
from clientarea.errors import InvalidEmail, NotFound, RateLimited, TicketClosed
from clientarea.schema import fields
from clientarea.schema.base import Answer, Shape
from clientarea.schema.fields import TicketNumber
from clientarea.schema.routes import responses
from clientarea.schema.support import TicketMessage, TicketSummary
from clientarea.support import client, public_forms, views
from pydantic import Field

logger = Logger()
metrics = Metrics()
app = web.create_app()

TAG = ["support"]
Body = Annotated[str, Field(min_length=1, max_length=views.MAX_BODY)]
Subject = Annotated[str, Field(min_length=1, max_length=views.MAX_SUBJECT)]


class TicketRequest(Shape):
    department: Literal["technical", "billing", "sales"]
    subject: Subject
    message: Body
    service_id: Annotated[str | None, Field(min_length=1, max_length=64)] = None


class TicketCreated(Answer):
    number: str
    status: TicketStatus


class SupportTicket(TicketSummary):
    messages: list[TicketMessage]


class TicketMessageRequest(Shape):
    message: Body


class AccessRequestForm(Shape):
    full_name: fields.Name
    address: fields.free_text(500, min_length=1)  # type: ignore[valid-type]
    phone: fields.one_line(40, min_length=3)  # type: ignore[valid-type]
    login_or_email: fields.one_line(254, min_length=1)  # type: ignore[valid-type]
    message: Body
    # Where the person can be reached, if not `login_or_email`; acknowledged only when
    # it is the named account's contact address.
    email: fields.Email | None = None


class SalesQuestionForm(Shape):
    email: fields.Email
    message: Body
    full_name: fields.Name | None = None


class TicketNumberOnly(Answer):
    number: str


def public_form_limit(name: str) -> throttling.Limit:
    return throttling.Limit(name, config.ip_requests_per_hour(), 3600)


@app.post(
    "/tickets",
    operation_id="openTicket",
    tags=TAG,
    responses=responses(201, TicketCreated, "The new ticket's number", raises=[NotFound]),
)
def open_ticket(request: TicketRequest) -> Response[TicketCreated]:
    ticket = client.open_for_client(
        web.principal(app).client_number,
        department=views.Department(request.department),
        subject=request.subject,
        body=request.message,
        service_id=request.service_id,
    )
    created = TicketCreated(number=ticket.number, status=TicketStatus(ticket.status))
    return Response(201, "application/json", created)


@app.get(
    "/tickets",
    operation_id="listTickets",
    tags=TAG,
    responses=responses(200, list[TicketSummary], "The caller's tickets"),
)
def list_tickets() -> list[TicketSummary]:
    owned = client.list_for_client(web.principal(app).client_number)
    return [TicketSummary(**ticket.summary()) for ticket in owned]


@app.get(
    "/tickets/<number>",
    operation_id="getTicket",
    tags=TAG,
    responses=responses(200, SupportTicket, "The ticket with its messages", raises=[NotFound]),
)
def get_ticket(number: TicketNumber) -> SupportTicket:
    ticket = client.get_for_client(web.principal(app).client_number, number)
    return SupportTicket(**ticket.client_view())


@app.post(
    "/tickets/<number>/messages",
    operation_id="addTicketMessage",
    tags=TAG,
    responses=responses(201, TicketMessage, "The message", raises=[NotFound, TicketClosed]),
)
def add_message(number: TicketNumber, request: TicketMessageRequest) -> Response[TicketMessage]:
    message = client.add_client_message(web.principal(app).client_number, number, request.message)
    return Response(201, "application/json", TicketMessage(**message.as_dict()))


@app.post(
    "/tickets/<number>/close",
    operation_id="closeTicket",
    tags=TAG,
    responses=responses(200, SupportTicket, "The closed ticket", raises=[NotFound]),
)
def close_ticket(number: TicketNumber) -> SupportTicket:
    ticket = client.close(web.principal(app).client_number, number)
    return SupportTicket(**ticket.client_view())


@app.post(
    "/support/access-requests",
    operation_id="requestAccess",
    tags=TAG,
    responses=responses(
        201,
        TicketNumberOnly,
        "The request's ticket number; the same answer whether or not an account matched",
        raises=[RateLimited],
    ),
)
def request_access(request: AccessRequestForm) -> Response[TicketNumberOnly]:
    throttling.hit(public_form_limit("access_requests_ip"), web.client_ip(app))
    ticket = public_forms.request_access(
        full_name=request.full_name,
        address=request.address,
        phone=request.phone,
        login_or_email=request.login_or_email,
        message=request.message,
        email=request.email,
        locale=web.request_locale(app),
        client_ip=web.client_ip(app),
    )
    return Response(201, "application/json", TicketNumberOnly(number=ticket.number))


@app.post(
    "/support/sales-questions",
    operation_id="askSales",
    tags=TAG,
    responses=responses(
        201,
        TicketNumberOnly,
        "The question's ticket number; staff answer at the given address",
        raises=[InvalidEmail, RateLimited],
    ),
)
def ask_sales(request: SalesQuestionForm) -> Response[TicketNumberOnly]:
    throttling.hit(public_form_limit("sales_questions_ip"), web.client_ip(app))
    ticket = public_forms.ask_sales(
        email=request.email,
        message=request.message,
        full_name=request.full_name,
        locale=web.request_locale(app),
    )
    return Response(201, "application/json", TicketNumberOnly(number=ticket.number))


lambda_handler = web.entry_point(app, logger, metrics)


startup.done()  # last: the initialisation is over (clientarea/startup.py)
