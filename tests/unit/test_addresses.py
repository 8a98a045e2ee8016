"""How addresses and logins are normalised (identity.normalise_email, claim keys): one
account per mailbox however the address is written, no look-alike addresses."""

from __future__ import annotations

import pytest
from clientarea.accounts import identity
from clientarea.errors import InvalidEmail
from clientarea.storage import accounts as account_store


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("user@example.com", "user@example.com"),
        ("User@EXAMPLE.com", "User@example.com"),  # the local part keeps its case
        ("\uff55ser@example.com", "user@example.com"),  # fullwidth u
        ("user@\uff45xample.com", "user@example.com"),  # fullwidth e in the domain
        ("user\uff20example.com", "user@example.com"),  # fullwidth @
        ("  user@example.com\t", "user@example.com"),
        ("user@example.com\r\n", "user@example.com"),  # a pasted line end, trimmed
        ("почта123@example.com", "почта123@example.com"),  # one script before the @
        ("user@пример.рф", "user@пример.рф"),  # one script per domain label
        ("やまだタロウ@example.jp", "やまだタロウ@example.jp"),  # Hiragana with Katakana
    ],
)
def test_addresses_are_stored_in_one_form(written, stored):
    assert identity.normalise_email(written) == stored


@pytest.mark.parametrize(
    "written",
    [
        "p\u0430ypal@example.com",  # Cyrillic а among Latin letters
        "\u03bfpen@example.com",  # Greek ο
        "user@ex\u0430mple.com",  # Cyrillic а in a Latin domain label
        "user@example.c\u043em",  # Cyrillic о in the top-level label
        "user\r\nBcc: x@example.com@example.com",
        "not an address",
    ],
)
def test_look_alike_and_malformed_addresses_are_refused(written):
    with pytest.raises(InvalidEmail):
        identity.normalise_email(written)


def test_spellings_of_one_address_share_one_claim():
    spellings = ["user@example.com", "USER@EXAMPLE.COM", "\uff35\uff33\uff25\uff32@example.com"]
    keys = {account_store.email_claim_key(identity.normalise_email(s)) for s in spellings}
    assert keys == {"email#user@example.com"}


def test_spellings_of_one_login_share_one_claim():
    assert identity.normalise_login("\uff2a\uff4f\uff48\uff4e.doe") == "john.doe"
    keys = {account_store.login_claim_key(s) for s in ("john.doe", "JOHN.DOE", "\uff4aohn.doe")}
    assert keys == {"login#john.doe"}
