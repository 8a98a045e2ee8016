"""Support for clients and the public: /tickets and /support/* (API.md, "Support")."""

from __future__ import annotations

from clientarea import startup  # first: pauses the garbage collector during init

# isort: split
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from clientarea import config, throttling, web
from clientarea.support import client, public_forms, views
from pydantic import Field

logger = Logger()  # tickets are counted by origin, each published at once: no decorator
app = web.create_app()

TicketNumber = Annotated[str, Path(min_length=1, max_length=32)]
Body = Annotated[str, Field(min_length=1, max_length=views.MAX_BODY)]
Subject = Annotated[str, Field(min_length=1, max_length=views.MAX_SUBJECT)]


class TicketRequest(web.Shape):
    department: Literal["technical", "billing", "sales"]
    subject: Subject
    message: Body
    service_id: Annotated[str | None, Field(min_length=1, max_length=64)] = None


class TicketCreated(web.Answer):
    number: str
    status: str


class TicketAttachment(web.Answer):
    filename: str
    content_type: str
    size: int


class TicketMessage(web.Answer):
    message_id: str
    author: Literal["client", "staff"]
    channel: Literal["web", "email"]
    body: str
    created_at: str
    attachments: list[TicketAttachment]


class TicketSummary(web.Answer):
    number: str
    subject: str
    department: str
    status: str
    service_id: str | None
    created_at: str
    updated_at: str


class SupportTicket(TicketSummary):
    messages: list[TicketMessage]


class TicketMessageRequest(web.Shape):
    message: Body


# mypy cannot read the web.* field types (pydantic Annotated types built at run time):
# their fields carry ignore[valid-type].
class AccessRequestForm(web.Shape):
    full_name: web.person_name(200)  # type: ignore[valid-type]
    address: web.free_text(500, min_length=1)  # type: ignore[valid-type]
    phone: web.one_line(40, min_length=3)  # type: ignore[valid-type]
    login_or_email: web.one_line(254, min_length=1)  # type: ignore[valid-type]
    message: Body
    # Where the person can be reached, if not `login_or_email`; acknowledged only when
    # it is the named account's contact address.
    email: Annotated[str | None, Field(min_length=3, max_length=254)] = None


class SalesQuestionForm(web.Shape):
    email: Annotated[str, Field(min_length=3, max_length=254)]
    message: Body
    full_name: web.person_name(200) | None = None  # type: ignore[valid-type]


class TicketNumberOnly(web.Answer):
    number: str


NOT_YOURS = "not_found: no such ticket, or not the caller's (alike)"
CLOSED = "ticket_closed: a closed ticket takes no more messages; open a new one"
THROTTLED = "rate_limited: too many requests from this address; see Retry-After"


def public_form_limit(name: str) -> throttling.Limit:
    return throttling.Limit(name, config.ip_requests_per_hour(), 3600)


@app.post(
    "/tickets",
    responses=web.responses(
        201,
        TicketCreated,
        "The new ticket's number",
        e404="not_found: service_id is not one of the caller's services",
    ),
)
def open_ticket(request: TicketRequest) -> Response[TicketCreated]:
    ticket = client.open_for_client(
        web.principal(app).client_number,
        department=views.Department(request.department),
        subject=request.subject,
        body=request.message,
        service_id=request.service_id,
    )
    created = TicketCreated(number=ticket.number, status=ticket.status)
    return Response(201, "application/json", created)


@app.get("/tickets", responses=web.responses(200, list[TicketSummary], "The caller's tickets"))
def list_tickets() -> list[TicketSummary]:
    owned = client.list_for_client(web.principal(app).client_number)
    return [TicketSummary(**ticket.summary()) for ticket in owned]


@app.get(
    "/tickets/<number>",
    responses=web.responses(200, SupportTicket, "The ticket with its messages", e404=NOT_YOURS),
)
def get_ticket(number: TicketNumber) -> SupportTicket:
    ticket = client.get_for_client(web.principal(app).client_number, number)
    return SupportTicket(**ticket.client_view())


@app.post(
    "/tickets/<number>/messages",
    responses=web.responses(201, TicketMessage, "The message", e404=NOT_YOURS, e409=CLOSED),
)
def add_message(number: TicketNumber, request: TicketMessageRequest) -> Response[TicketMessage]:
    message = client.add_client_message(web.principal(app).client_number, number, request.message)
    return Response(201, "application/json", TicketMessage(**message.as_dict()))


@app.post(
    "/tickets/<number>/close",
    responses=web.responses(200, SupportTicket, "The closed ticket", e404=NOT_YOURS),
)
def close_ticket(number: TicketNumber) -> SupportTicket:
    ticket = client.close(web.principal(app).client_number, number)
    return SupportTicket(**ticket.client_view())


@app.post(
    "/support/access-requests",
    responses=web.responses(
        201,
        TicketNumberOnly,
        "The request's ticket number; the same answer whether or not an account matched",
        e429=THROTTLED,
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
    responses=web.responses(
        201,
        TicketNumberOnly,
        "The question's ticket number; staff answer at the given address",
        e422="invalid_email, or validation_error",
        e429=THROTTLED,
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


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


startup.done()  # last: the initialisation is over (clientarea/startup.py)
