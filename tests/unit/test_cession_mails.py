"""The cession mails: each kind, for each party, in each language."""

from __future__ import annotations

import pytest
from clientarea.locales import SUPPORTED
from clientarea.mail.rendering import render

KINDS = [
    "cession_confirm",
    "cession_completed",
    "cession_declined",
    "cession_cancelled",
    "cession_expired",
]
ORDER_LINK = "https://my.example.net/orders/ces-0123456789abcdef"
LINK = "https://my.example.net/cession#token=ces-0123456789abcdef-owner.SECRET"
SEVEN_DAYS = {"en": "7 days", "uk": "7 днів", "ru": "7 дней", "pl": "7 dni", "pt": "7 dias"}


def params(kind: str, party: str, **extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "full_name": "Olena Kovalenko",
        "party": party,
        "order_id": "ces-0123456789abcdef",
        "product": "Hosting Pro",
        "domain": "olena-shop.example",
        "other_client_number": 100041,
        "order_link": ORDER_LINK,
    }
    if kind == "cession_confirm":
        base |= {"link": LINK, "expires_at": "2026-11-29T12:00:00Z", "valid_for_seconds": 604800}
    if kind == "cession_declined":
        base["declined_by"] = "recipient"
    if kind == "cession_cancelled":
        base["cancelled_by"] = "owner"
    return base | extra


@pytest.mark.parametrize("locale", SUPPORTED)
@pytest.mark.parametrize("party", ["owner", "recipient"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_cession_mail_names_the_service_the_other_party_and_the_order(kind, party, locale):
    mail = render(kind, locale, params(kind, party))
    assert "olena-shop.example" in mail.subject
    for part in (mail.text, mail.html):
        assert "Hosting Pro" in part
        assert "olena-shop.example" in part
        assert "100041" in part
    # the order page, on a line of its own and as a link
    assert ORDER_LINK in mail.text.splitlines()
    assert f'href="{ORDER_LINK}"' in mail.html and f">{ORDER_LINK}</a>" in mail.html


@pytest.mark.parametrize("locale", SUPPORTED)
@pytest.mark.parametrize("kind", KINDS)
def test_owner_and_recipient_read_different_words(kind, locale):
    owner = render(kind, locale, params(kind, "owner"))
    recipient = render(kind, locale, params(kind, "recipient"))
    assert owner.text != recipient.text


@pytest.mark.parametrize("locale", SUPPORTED)
def test_the_confirmation_link_and_its_window(locale):
    mail = render("cession_confirm", locale, params("cession_confirm", "recipient"))
    assert LINK in mail.text.splitlines()
    assert f'href="{LINK}"' in mail.html
    for part in (mail.text, mail.html):
        assert SEVEN_DAYS[locale] in part
        assert "2026" in part and "UTC" in part


@pytest.mark.parametrize("locale", SUPPORTED)
def test_a_decline_says_who_declined(locale):
    by_me = render("cession_declined", locale, params("cession_declined", "recipient"))
    by_other = render("cession_declined", locale, params("cession_declined", "owner"))
    assert by_me.text.splitlines()[2] != by_other.text.splitlines()[2]


def test_polish_wording_follows_the_hosting_cession_procedure():
    confirm = render("cession_confirm", "pl", params("cession_confirm", "recipient")).text
    assert "stroną przejmującą" in confirm
    assert "Aby potwierdzić akceptację cesji" in confirm
    assert (
        "Kiedy obydwie strony potwierdzą cesję, zamówienie zostanie automatycznie wykonane"
        in confirm
    )
    assert "ponownie wysłać wiadomość z linkiem potwierdzającym" in confirm
    done = render("cession_completed", "pl", params("cession_completed", "owner")).subject
    assert done == "clientarea: hosting olena-shop.example został przeniesiony"


def test_english_confirmation_wording():
    owner = render("cession_confirm", "en", params("cession_confirm", "owner"))
    assert owner.subject == "clientarea: confirm the cession of olena-shop.example"
    assert "to the client account number 100041" in owner.text
    assert "If you did not order this cession" in owner.text
    recipient = render("cession_confirm", "en", params("cession_confirm", "recipient"))
    assert recipient.subject == "clientarea: confirm taking over olena-shop.example"
    assert "nothing is transferred to your account without your confirmation" in recipient.text


def test_names_and_domains_are_escaped_in_html():
    hostile = params("cession_completed", "owner", full_name="<script>x</script>")
    mail = render("cession_completed", "en", hostile)
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert "<script>x</script>" in mail.text  # plain text is never escaped


STAFF = {
    "en": "Our staff",
    "uk": "співробітники",
    "ru": "сотрудники",
    "pl": "Nasz zespół anulował",  # the glossary's staff: «nasz zespół»
    "pt": "A nossa equipa cancelou",
}


@pytest.mark.parametrize("locale", SUPPORTED)
@pytest.mark.parametrize("party", ["owner", "recipient"])
def test_a_cancellation_by_staff_says_staff_cancelled_it(party, locale):
    # (a manual recovery's approval cancels the account's open orders)
    by_owner = render("cession_cancelled", locale, params("cession_cancelled", party))
    by_staff = render(
        "cession_cancelled", locale, params("cession_cancelled", party, cancelled_by="staff")
    )
    assert by_staff.text != by_owner.text
    assert STAFF[locale] in by_staff.text and STAFF[locale] in by_staff.html
    assert STAFF[locale] not in by_owner.text
