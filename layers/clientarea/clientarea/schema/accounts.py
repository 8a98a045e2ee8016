"""The answers about an account that more than one function gives."""

from clientarea.schema.base import Answer
from clientarea.schema.fields import Timestamp


class Account(Answer):
    """GET/PATCH /account, and POST /account/email-change/confirm."""

    client_number: int
    login: str
    email: str
    full_name: str
    phone: str | None
    address: str | None
    locale: str
    authorised_emails: list[str]
    # True once mail to `email` hard-bounced or drew a complaint: nothing is mailed there
    # until the client changes it (a confirmed change clears it).
    email_undeliverable: bool


# Built by clientarea.sessions.list_own.
class Session(Answer):
    """One of the caller's live sessions."""

    session_id: str
    created_at: Timestamp
    last_seen_at: Timestamp
    user_agent: str | None
    ip: str | None
    current: bool
