"""What the owner sees and changes of an account: its view (GET /account), the profile
fields, and a staff member's own login and role."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clientarea.accounts.senders import confirmed_senders
from clientarea.errors import Forbidden
from clientarea.roles import STAFF_ROLES
from clientarea.storage import accounts as store

if TYPE_CHECKING:
    from clientarea.schema.accounts import Account
    from clientarea.storage.accounts import AccountModel


def contact_email_deliverable(account: AccountModel) -> bool:
    """False once SES reported a hard bounce or a complaint for the contact email."""
    return account.email_undeliverable is None


def view(account: AccountModel) -> Account:
    """What the owner sees of an account (GET /account), as the API answers it."""
    # The answer's shape on first use: other users of this module (the recovery
    # functions, the mailer) answer no account.
    from clientarea.schema.accounts import Account  # noqa: PLC0415

    senders = confirmed_senders(account)
    return Account(
        client_number=int(account.client_number),
        login=account.login,
        email=account.email,
        full_name=account.full_name,
        phone=account.phone,
        address=account.address,
        locale=account.locale,
        authorised_emails=sorted(entry["email"] for entry in senders.values()),
        email_undeliverable=not contact_email_deliverable(account),
    )


def profile(client_number: int) -> Account:
    return view(store.get_account(client_number))


def update_profile(client_number: int, changes: dict[str, Any]) -> Account:
    """Apply the given fields (None clears phone or address)."""
    account = store.get_account(client_number)
    store.update_profile(account, changes)
    return view(account)


def staff_profile(client_number: int) -> dict[str, str]:
    """A staff member's own login and role; Forbidden for anyone else (a second check
    behind the authorizer, which already keeps clients off /staff/... routes)."""
    account = store.get_account(client_number)
    if account.role not in STAFF_ROLES:
        raise Forbidden
    return {"login": account.login, "role": account.role}
