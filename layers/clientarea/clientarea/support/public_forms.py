"""The support forms anyone may send, logged in or not: "I can't log in" (an access
request for staff to check by hand) and a sales question. Each opens a ticket that
belongs to no account; staff answer it at the address given."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from clientarea import availability, throttling
from clientarea.accounts import identity
from clientarea.errors import InvalidEmail, ServiceUnavailable
from clientarea.mail import outbox
from clientarea.support.opening import open_ticket
from clientarea.support.views import Department, Origin, Ticket

logger = Logger(child=True)


def request_access(
    *,
    full_name: str,
    address: str,
    phone: str,
    login_or_email: str,
    message: str,
    email: str | None,
    locale: str,
    client_ip: str,
) -> Ticket:
    """The "I can't log in" form: always a new unattached ticket with the same answer.

    An acknowledgement goes only to an account's contact address, and only when the
    address the person gave (`email`, else `login_or_email` if it is an address) IS
    that contact address: the form never mails an address someone merely typed, and
    whether anything was sent is never told (the answer is the same either way).
    """
    account = identity.find_by_login_or_email(login_or_email, identity.CONTACT)
    given = email or (login_or_email if "@" in login_or_email else None)
    ticket = open_ticket(
        department=Department.TECHNICAL,
        subject=f"Access request: {login_or_email}",
        body=message,
        origin=Origin.ACCESS_REQUEST,
        # Where a staff reply goes: a person decides to write there, nothing automatic.
        contact_email=_valid_address(given),
        contact_name=full_name,
        locale=locale,
        applicant={
            "full_name": full_name,
            "address": address,
            "phone": phone,
            "login_or_email": login_or_email,
            **({"email": email} if email else {}),
        },
        claimed_client_number=None if account is None else int(account.client_number),
    )
    if account is not None and given and _same_address(given, account.email):
        _acknowledge_access_request(
            account.email, account.locale, account.full_name, ticket.number, client_ip
        )
    return ticket


def _valid_address(given: str | None) -> str | None:
    try:
        return identity.normalise_email(given) if given else None
    except InvalidEmail:
        return None


def _same_address(given: str, contact: str) -> bool:
    try:
        return identity.normalise_email(given).casefold() == contact.casefold()
    except InvalidEmail:  # a malformed address simply does not match
        return False


def _acknowledge_access_request(
    to: str, locale: str, full_name: str, number: str, client_ip: str
) -> None:
    """Best effort, after the ticket is stored: a throttled counter or queue skips the
    mail rather than fail a request whose ticket exists (the retry would open a second
    one, and a 503 only when an account matched would tell that it exists). Within the
    contact address's unasked-mail budget (shared with every other route), silently."""
    try:
        if not throttling.may_mail_unasked(to, client_ip=client_ip):
            return
        outbox.send(
            "access_request_received",
            to,
            locale,
            full_name=full_name,
            number=number,
            reset_link=outbox.page("/forgot-password"),
        )
    except Exception as exc:  # AWS's own errors, whichever library raised them
        if not (isinstance(exc, ServiceUnavailable) or availability.is_transient(exc)):
            raise
        logger.warning("access request not acknowledged", extra={"ticket": number})


def ask_sales(*, email: str, message: str, full_name: str | None, locale: str) -> Ticket:
    """A commercial question from anyone: an unattached sales ticket, answered by staff
    at the given address. Nothing is mailed now (an acknowledgement would let anyone
    make us mail any address); the number in the answer is the receipt."""
    address = identity.normalise_email(email)
    return open_ticket(
        department=Department.SALES,
        subject=_first_line(message),
        body=message,
        origin=Origin.SALES_QUESTION,
        contact_email=address,
        contact_name=full_name,
        locale=locale,
    )


def _first_line(text: str) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line[:80] or "(no subject)"
