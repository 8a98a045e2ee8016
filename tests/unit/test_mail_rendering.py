"""clientarea.mail.rendering: every kind in every locale, escaping, subjects, filters."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from clientarea.locales import SUPPORTED
from clientarea.mail import rendering
from clientarea.mail.rendering import KINDS, RenderedMail, render

TEMPLATES = Path(rendering.__file__).resolve().parent / "templates"

PARAMS: dict[str, dict[str, object]] = {
    # No login and no client number: both are assigned only when the address is confirmed.
    "email_verification": {
        "link": "https://my.example.net/verify-email#token=VERIFYTOKEN",
        "expires_at": "2026-11-22T12:00:00Z",
        "valid_for_seconds": 86400,
    },
    "account_created": {
        "full_name": "Olena Kovalenko",
        "login": "olena.k",
        "client_number": 100042,
        "login_link": "https://my.example.net/login",
    },
    "email_change_confirm": {
        "new_email": "olena.new@example.org",
        "link": "https://my.example.net/email-change/confirm#token=CHANGETOKEN",
        "expires_at": "2026-11-22T12:00:00Z",
        "valid_for_seconds": 7200,
    },
    # To an address nobody has proven yet: the client number only, no typed name.
    "authorised_sender_confirm": {
        "email": "olena.colleague@example.org",
        "client_number": 100042,
        "link": "https://my.example.net/authorised-emails/confirm#token=SENDERTOKEN",
        "expires_at": "2026-11-22T12:00:00Z",
        "valid_for_seconds": 7200,
    },
    "email_change_requested": {
        "full_name": "Olena Kovalenko",
        "new_email": "olena.new@example.org",
        "requested_at": "2026-11-22T10:00:00Z",
        "reset_link": "https://my.example.net/password/forgot",
    },
    "email_changed": {
        "full_name": "Olena Kovalenko",
        "old_email": "olena.old@example.com",
        "new_email": "olena.new@example.org",
        "changed_at": "2026-11-22T10:00:00Z",
        "reset_link": "https://my.example.net/password/forgot",
    },
    "registration_attempt": {
        "full_name": "Olena Kovalenko",
        "login_link": "https://my.example.net/login",
        "reset_link": "https://my.example.net/password/forgot",
    },
    "password_reset": {
        "full_name": "Olena Kovalenko",
        "link": "https://my.example.net/password/reset#token=RESETTOKEN",
        "expires_at": "2026-11-22T12:00:00Z",
        "valid_for_seconds": 7200,
    },
    "password_changed": {
        "full_name": "Olena Kovalenko",
        "changed_at": "2026-11-22T10:00:00Z",
        "reset_link": "https://my.example.net/password/forgot",
    },
}

# The cession mails (their own checks are in test_cession_mails.py).
CESSION_KINDS = {
    "cession_confirm",
    "cession_completed",
    "cession_declined",
    "cession_cancelled",
    "cession_expired",
}
_CESSION_PARAMS: dict[str, object] = {
    "full_name": "Olena Kovalenko",
    "party": "recipient",
    "order_id": "ces-0123456789abcdef",
    "product": "Hosting Pro",
    "domain": "olena-shop.example",
    "other_client_number": 100041,
    "order_link": "https://my.example.net/orders/ces-0123456789abcdef",
}
PARAMS.update({kind: dict(_CESSION_PARAMS) for kind in CESSION_KINDS})
PARAMS["cession_confirm"].update(
    link="https://my.example.net/cession#token=CESSIONTOKEN",
    expires_at="2026-11-22T12:00:00Z",
    valid_for_seconds=604800,
)
PARAMS["cession_declined"]["declined_by"] = "owner"
PARAMS["cession_cancelled"]["cancelled_by"] = "owner"

# Support mails (issue 4).
SUPPORT_KINDS = {"ticket_reply", "access_request_received", "support_auto_reply"}
PARAMS["ticket_reply"] = {
    "full_name": "Olena Kovalenko",
    "number": "TKT-100-042",
    "ticket_subject": "Сайт не відкривається",
    "message": "Hello,\nwe restarted the server.\n<b>not markup</b>",
    "link": "https://my.example.net/tickets/TKT-100-042",
}
PARAMS["access_request_received"] = {
    "full_name": "Olena Kovalenko",
    "number": "TKT-100-043",
    "reset_link": "https://my.example.net/forgot-password",
}
PARAMS["support_auto_reply"] = {
    "client_area_link": "https://my.example.net/login",
    "access_link": "https://my.example.net/support/access-request",
    "sales_address": "sales@example.net",
}
# Manual recovery (their own checks are at the end of this file).
RECOVERY_KINDS = {"recovery_received", "recovery_approved", "recovery_rejected"}
PARAMS.update(
    {
        "recovery_received": {
            "reference": "RC-ABCDEFGHJK",
            "status_link": "https://my.example.net/recovery/RC-ABCDEFGHJK",
            "uploads_needed": True,
        },
        "recovery_approved": {
            "full_name": "Olena Kovalenko",
            "reference": "RC-ABCDEFGHJK",
            "old_email": "olena.old@example.com",
            "new_email": "olena.new@example.org",
            "changed_at": "2026-11-22T12:00:00Z",
            "reset_link": "https://my.example.net/forgot-password",
        },
        "recovery_rejected": {
            "full_name": "Olena Kovalenko",
            "reference": "RC-ABCDEFGHJK",
            "reason": "The passport copy is not signed <b>by hand</b>.",
            "requirements_link": "https://my.example.net/recovery",
        },
    }
)

TWO_HOURS = {"en": "2 hours", "uk": "2 години", "ru": "2 часа", "pl": "2 godziny", "pt": "2 horas"}
ONE_DAY = {
    "en": "24 hours",
    "uk": "24 години",
    "ru": "24 часа",
    "pl": "24 godziny",
    "pt": "24 horas",
}
# How babel spells 2026-11-22T12:00:00Z in the "long" format, per locale.
NOON_22_NOV = {
    "en": "November 22, 2026",
    "uk": "22 листопада 2026",
    "ru": "22 ноября 2026",
    "pl": "22 listopada 2026",
    "pt": "22 de novembro de 2026",
}
SIGNATURE = {
    "en": "— The clientarea team",
    "uk": "— Команда clientarea",
    "ru": "— Команда clientarea",
    "pl": "— Zespół clientarea",
    "pt": "— A equipa clientarea",
}
LINK_KEYS = {
    "link",
    "login_link",
    "reset_link",
    "client_area_link",
    "access_link",
    "status_link",
    "requirements_link",
}


def test_kinds_match_the_template_files() -> None:
    assert {
        "email_verification",
        "account_created",
        "registration_attempt",
        "password_reset",
        "password_changed",
        "email_change_confirm",
        "email_change_requested",
        "email_changed",
        "authorised_sender_confirm",
    } | CESSION_KINDS | SUPPORT_KINDS | RECOVERY_KINDS == KINDS
    assert PARAMS.keys() == KINDS
    # One template per mail, whatever the language: its words are in the catalogs.
    on_disk = {p.stem for p in TEMPLATES.glob("*.j2") if not p.name.startswith("_")}
    assert on_disk == KINDS
    assert not [p for p in TEMPLATES.iterdir() if p.is_dir()]


@pytest.mark.parametrize("locale", SUPPORTED)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_renders_in_every_locale(kind: str, locale: str) -> None:
    params = PARAMS[kind]
    mail = render(kind, locale, params)

    assert isinstance(mail, RenderedMail)
    assert mail.subject.strip() and len(mail.subject) <= 200
    assert "\n" not in mail.subject and "\r" not in mail.subject
    if "full_name" in params:
        assert "Olena Kovalenko" in mail.text and "Olena Kovalenko" in mail.html
    assert mail.text.rstrip().endswith(SIGNATURE[locale])
    assert SIGNATURE[locale] in mail.html
    # No template markup or placeholders leak out.
    for part in (mail.subject, mail.text, mail.html):
        assert "{{" not in part and "{%" not in part and "}}" not in part
    assert mail.html.lstrip().startswith("<!DOCTYPE html>")
    assert f'<html lang="{locale}">' in mail.html
    # No external assets in the HTML: no images, stylesheets or scripts.
    assert "<img" not in mail.html and "<link" not in mail.html and "<script" not in mail.html
    for key in LINK_KEYS & params.keys():
        url = str(params[key])
        assert url in mail.text.splitlines(), f"{key} is not on a line of its own"
        assert f'href="{url}"' in mail.html  # the button
        assert f">{url}</a>" in mail.html  # and the raw URL as text


# Mail to an address nobody has proven yet (issue 12): whatever a stranger typed as a
# name must not reach it, so these greet neutrally and take no name at all.
TO_UNVERIFIED = {
    "email_verification",
    "email_change_confirm",
    "recovery_received",
    "authorised_sender_confirm",
    "support_auto_reply",  # to an envelope sender: its display name is anybody's typing
}


@pytest.mark.parametrize("locale", SUPPORTED)
@pytest.mark.parametrize("kind", sorted(TO_UNVERIFIED))
def test_mail_to_an_unverified_address_carries_no_typed_name(kind: str, locale: str) -> None:
    assert "full_name" not in PARAMS[kind]
    typed = "Call +1 555 0100 now"
    mail = render(kind, locale, {**PARAMS[kind], "full_name": typed})
    assert mail == render(kind, locale, PARAMS[kind])
    for part in (mail.subject, mail.text, mail.html):
        assert typed not in part


@pytest.mark.parametrize("locale", SUPPORTED)
def test_verification_mail_states_24h_validity(locale: str) -> None:
    mail = render("email_verification", locale, PARAMS["email_verification"])
    for part in (mail.text, mail.html):
        assert ONE_DAY[locale] in part
        assert NOON_22_NOV[locale] in part
        assert "UTC" in part


@pytest.mark.parametrize("locale", SUPPORTED)
def test_verification_mail_needs_and_shows_no_login_or_client_number(locale: str) -> None:
    # The login and the client number exist only once the address is confirmed: the
    # template renders with the new parameters alone (StrictUndefined would fail on
    # any other), and ignores them if a caller still passes them.
    assert {"login", "client_number"}.isdisjoint(PARAMS["email_verification"])
    old_style = {**PARAMS["email_verification"], "login": "olena.k", "client_number": 100042}
    mail = render("email_verification", locale, old_style)
    assert mail == render("email_verification", locale, PARAMS["email_verification"])
    for part in (mail.subject, mail.text, mail.html):
        assert "olena.k" not in part
        assert "100042" not in part


def test_verification_mail_english_wording() -> None:
    text = render("email_verification", "en", PARAMS["email_verification"]).text
    assert "your account is created" in text
    assert "welcome email with your login and client number" in text
    assert "no account will be created" in text


@pytest.mark.parametrize("locale", SUPPORTED)
def test_account_created_states_login_and_client_number(locale: str) -> None:
    mail = render("account_created", locale, PARAMS["account_created"])
    for part in (mail.text, mail.html):
        assert "olena.k" in part
        assert "100042" in part
    assert "<strong>olena.k</strong>" in mail.html
    assert "<strong>100042</strong>" in mail.html


def test_account_created_english_wording() -> None:
    text = render("account_created", "en", PARAMS["account_created"]).text
    assert "Your login is olena.k and your client number is 100042." in text
    assert "contact support" in text
    assert "cession" in text


def test_account_created_polish_mentions_hosting_cession() -> None:
    text = render("account_created", "pl", PARAMS["account_created"]).text
    assert "numer klienta to 100042" in text
    assert "cesji hostingu" in text


@pytest.mark.parametrize("locale", SUPPORTED)
def test_email_change_confirm_names_the_address_and_two_hour_validity(locale: str) -> None:
    mail = render("email_change_confirm", locale, PARAMS["email_change_confirm"])
    for part in (mail.text, mail.html):
        assert "olena.new@example.org" in part
        assert TWO_HOURS[locale] in part
        assert NOON_22_NOV[locale] in part
        assert re.search(r"12:00(:00)?( PM)? UTC", part), part


def test_email_change_confirm_english_wording() -> None:
    text = render("email_change_confirm", "en", PARAMS["email_change_confirm"]).text
    assert "make olena.new@example.org the contact email address" in text
    assert "valid for only 2 hours, until November 22, 2026, 12:00 PM UTC" in text
    assert "works only once" in text
    assert "ignore" in text


@pytest.mark.parametrize("locale", SUPPORTED)
def test_authorised_sender_confirm_names_account_address_and_two_hours(locale: str) -> None:
    mail = render("authorised_sender_confirm", locale, PARAMS["authorised_sender_confirm"])
    for part in (mail.text, mail.html):
        assert "olena.colleague@example.org" in part
        assert "100042" in part
        assert TWO_HOURS[locale] in part
        assert NOON_22_NOV[locale] in part


def test_authorised_sender_confirm_english_wording() -> None:
    text = render("authorised_sender_confirm", "en", PARAMS["authorised_sender_confirm"]).text
    assert text.startswith("Hello,\n")
    assert "client account 100042 asked that mail from olena.colleague@example.org" in text
    assert "valid for only 2 hours, until November 22, 2026, 12:00 PM UTC" in text
    assert "ignore this email" in text


@pytest.mark.parametrize("locale", SUPPORTED)
def test_email_change_requested_shows_the_new_address_and_when(locale: str) -> None:
    mail = render("email_change_requested", locale, PARAMS["email_change_requested"])
    for part in (mail.text, mail.html):
        assert "olena.new@example.org" in part
        assert NOON_22_NOV[locale] in part
        assert re.search(r"10:00(:00)?( AM)? UTC", part), part


def test_email_change_requested_english_wording() -> None:
    text = render("email_change_requested", "en", PARAMS["email_change_requested"]).text
    assert "someone logged in to your client area" in text
    assert "Nothing changes until the request is confirmed" in text
    assert "contact our support team" in text


@pytest.mark.parametrize("locale", SUPPORTED)
def test_email_changed_shows_both_addresses_and_when(locale: str) -> None:
    mail = render("email_changed", locale, PARAMS["email_changed"])
    for part in (mail.text, mail.html):
        assert "olena.old@example.com" in part
        assert "olena.new@example.org" in part
        assert part.index("olena.old@example.com") < part.index("olena.new@example.org")
        assert NOON_22_NOV[locale] in part
        assert re.search(r"10:00(:00)?( AM)? UTC", part), part


def test_email_changed_english_wording() -> None:
    text = render("email_changed", "en", PARAMS["email_changed"]).text
    assert "from olena.old@example.com to olena.new@example.org" in text
    assert "password reset link requested before the change has been cancelled" in text
    assert "contact our support team" in text


def test_email_change_mails_ukrainian_wording() -> None:
    confirm = render("email_change_confirm", "uk", PARAMS["email_change_confirm"]).text
    assert "контактною email-адресою" in confirm
    assert "дійсне тільки 2 години" in confirm
    changed = render("email_changed", "uk", PARAMS["email_changed"]).text
    assert "з olena.old@example.com на olena.new@example.org" in changed


@pytest.mark.parametrize("locale", SUPPORTED)
def test_reset_mail_states_two_hour_validity_and_utc_expiry(locale: str) -> None:
    mail = render("password_reset", locale, PARAMS["password_reset"])
    for part in (mail.text, mail.html):
        assert TWO_HOURS[locale] in part
        assert NOON_22_NOV[locale] in part
        assert re.search(r"12:00(:00)?( PM)? UTC", part), part


def test_reset_mail_english_wording() -> None:
    text = render("password_reset", "en", PARAMS["password_reset"]).text
    assert "valid for only 2 hours, until November 22, 2026, 12:00 PM UTC" in text
    assert "works only once" in text
    assert "ignore" in text


def test_reset_mail_ukrainian_uses_seed_wording() -> None:
    text = render("password_reset", "uk", PARAMS["password_reset"]).text
    assert "дійсне тільки 2 години" in text


@pytest.mark.parametrize("locale", SUPPORTED)
def test_password_changed_shows_when_in_utc(locale: str) -> None:
    mail = render("password_changed", locale, PARAMS["password_changed"])
    assert NOON_22_NOV[locale] in mail.text
    assert re.search(r"10:00(:00)?( AM)? UTC", mail.text)


def test_datetime_filter_converts_offsets_to_utc() -> None:
    params = {**PARAMS["password_changed"], "changed_at": "2026-11-22T14:30:00+02:00"}
    assert "12:30 PM UTC" in render("password_changed", "en", params).text


def test_duration_is_exact_not_rounded() -> None:
    params = {**PARAMS["password_reset"], "valid_for_seconds": 5400}
    assert "90 minutes" in render("password_reset", "en", params).text
    params = {**PARAMS["password_reset"], "valid_for_seconds": 3600}
    assert "60 хвилин" in render("password_reset", "uk", params).text


def test_html_escapes_user_values_and_text_keeps_them_verbatim() -> None:
    evil = '<script>alert("x")</script> & Co'
    params = {**PARAMS["account_created"], "full_name": evil, "login": "<b>me</b>"}
    mail = render("account_created", "en", params)
    assert "<script>" not in mail.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in mail.html
    assert "&lt;b&gt;me&lt;/b&gt;" in mail.html
    assert evil in mail.text
    assert "<b>me</b>" in mail.text
    assert "&lt;" not in mail.text and "&amp;" not in mail.text


@pytest.mark.parametrize(
    "kind", ["email_change_confirm", "email_change_requested", "email_changed"]
)
def test_html_escapes_email_addresses(kind: str) -> None:
    odd = '"<i>x</i>"&co@example.org'
    mail = render(kind, "en", {**PARAMS[kind], "new_email": odd})
    assert "<i>" not in mail.html
    assert "&#34;&lt;i&gt;x&lt;/i&gt;&#34;&amp;co@example.org" in mail.html
    assert odd in mail.text


def test_link_with_ampersand_is_escaped_in_html_attribute_only() -> None:
    link = "https://my.example.net/password/reset?a=1&token=T"
    mail = render("password_reset", "en", {**PARAMS["password_reset"], "link": link})
    assert link in mail.text.splitlines()
    assert 'href="https://my.example.net/password/reset?a=1&amp;token=T"' in mail.html


def test_subject_is_not_html_escaped() -> None:
    mail = render("password_reset", "en", {**PARAMS["password_reset"], "brand": "A&B <Hosting>"})
    assert mail.subject == "A&B <Hosting>: reset your password"
    assert "<title>A&amp;B &lt;Hosting&gt;: reset your password</title>" in mail.html


@pytest.mark.parametrize("locale", SUPPORTED)
def test_subject_never_contains_crlf(locale: str) -> None:
    brand = "Evil\r\nBcc: victim@example.com\nX-Injected: 1\u2028\x0b\x00"
    for kind in KINDS:
        mail = render(kind, locale, {**PARAMS[kind], "brand": brand})
        assert "\r" not in mail.subject and "\n" not in mail.subject
        assert "\u2028" not in mail.subject and "\x0b" not in mail.subject
        assert "\x00" not in mail.subject
        assert "  " not in mail.subject
        assert mail.subject.startswith("Evil Bcc: victim@example.com X-Injected: 1")


def test_subject_is_capped_at_200_characters() -> None:
    mail = render("password_reset", "en", {**PARAMS["password_reset"], "brand": "x" * 500})
    assert len(mail.subject) == 200


@pytest.mark.parametrize("locale", ["de", "", "xx-YY", "EN-gb", "../en", None])
def test_unknown_locale_falls_back_to_english(locale: str) -> None:
    mail = render("password_reset", locale, PARAMS["password_reset"])
    assert mail == render("password_reset", "en", PARAMS["password_reset"])
    assert "2 hours" in mail.text


def test_regional_locale_uses_its_language() -> None:
    mail = render("password_reset", "uk-UA", PARAMS["password_reset"])
    assert mail == render("password_reset", "uk", PARAMS["password_reset"])


@pytest.mark.parametrize("kind", ["", "welcome", "../en/password_reset", "_mail", "_html"])
def test_unknown_kind_is_a_value_error(kind: str) -> None:
    with pytest.raises(ValueError, match="unknown mail kind"):
        render(kind, "en", PARAMS["password_reset"])


@pytest.mark.parametrize("missing", ["expires_at", "link", "full_name", "valid_for_seconds"])
def test_missing_parameter_is_a_value_error(missing: str) -> None:
    params = dict(PARAMS["password_reset"])
    del params[missing]
    with pytest.raises(ValueError, match="missing parameter"):
        render("password_reset", "en", params)


@pytest.mark.parametrize(
    "bad", ["javascript:alert(1)", "//evil.example/x", "ftp://x", "https://a b", 42]
)
def test_links_must_be_http_urls(bad: object) -> None:
    with pytest.raises(ValueError, match="link"):
        render("password_reset", "en", {**PARAMS["password_reset"], "link": bad})


def test_malformed_datetime_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        render("password_reset", "en", {**PARAMS["password_reset"], "expires_at": "soon"})


def test_environments_are_built_once() -> None:
    # One source, two renderings: HTML autoescaped, plain text verbatim.
    html, text = rendering._environment(html=True), rendering._environment(html=False)
    assert html is rendering._environment(html=True)
    assert text is rendering._environment(html=False)
    assert html.autoescape is True and text.autoescape is False
    for env in (html, text):
        assert {"datetime", "duration", "strong"} <= env.filters.keys()


@pytest.mark.parametrize("locale", SUPPORTED)
def test_ticket_reply_carries_number_subject_and_the_reply_text(locale: str) -> None:
    mail = render("ticket_reply", locale, PARAMS["ticket_reply"])
    # The number in the subject is what threads the client's answer back by mail.
    assert mail.subject == "clientarea: [TKT-100-042] Сайт не відкривається"
    assert "we restarted the server." in mail.text
    assert "<b>not markup</b>" in mail.text  # plain text stays as typed
    assert "&lt;b&gt;not markup&lt;/b&gt;" in mail.html and "<b>not markup" not in mail.html
    assert mail.text.count("TKT-100-042") >= 2


@pytest.mark.parametrize("locale", SUPPORTED)
def test_a_reply_to_an_unattached_ticket_carries_no_name_and_no_subject(locale: str) -> None:
    # Its address is unverified (typed into a form, or a From that may be forged): the
    # caller passes neither the name nor the subject its author typed (issue 12).
    params = {**PARAMS["ticket_reply"], "full_name": None, "ticket_subject": None}
    mail = render("ticket_reply", locale, params)
    assert mail.subject == "clientarea: [TKT-100-042]"
    named = render("ticket_reply", locale, PARAMS["ticket_reply"])
    neutral = render("email_verification", locale, PARAMS["email_verification"])
    assert mail.text.splitlines()[0] == neutral.text.splitlines()[0] != named.text.splitlines()[0]
    for part in (mail.text, mail.html):
        assert "Olena" not in part and "Сайт" not in part and "None" not in part
        assert "TKT-100-042" in part and "we restarted the server." in part


@pytest.mark.parametrize("locale", SUPPORTED)
def test_access_request_ack_names_the_number_and_the_two_hour_reset(locale: str) -> None:
    mail = render("access_request_received", locale, PARAMS["access_request_received"])
    assert "TKT-100-043" in mail.subject and "TKT-100-043" in mail.text
    assert "2" in mail.text


def test_access_request_ack_ukrainian_uses_the_seed_wording() -> None:
    text = render("access_request_received", "uk", PARAMS["access_request_received"]).text
    assert "замовте зміну пароля на сторінці авторизації" in text
    assert "дійсне тільки 2 години" in text


@pytest.mark.parametrize("locale", SUPPORTED)
def test_auto_reply_points_to_the_client_area_and_sales(locale: str) -> None:
    mail = render("support_auto_reply", locale, PARAMS["support_auto_reply"])
    assert "sales@example.net" in mail.text and "sales@example.net" in mail.html
    assert "https://my.example.net/login" in mail.text.splitlines()


def test_auto_reply_portuguese_uses_the_seed_wording() -> None:
    text = render("support_auto_reply", "pt", PARAMS["support_auto_reply"]).text
    assert "têm de ser submetidos através da Área de Cliente" in text
    assert "autorizado na ficha de cliente" in text
    assert "upgrade de Plano H0 para H1" in text


# --- manual recovery ------------------------------------------------------------------


@pytest.mark.parametrize("locale", SUPPORTED)
def test_recovery_mails_name_the_reference(locale: str) -> None:
    for kind in sorted(RECOVERY_KINDS):
        mail = render(kind, locale, PARAMS[kind])
        assert "RC-ABCDEFGHJK" in mail.subject, kind
        assert "RC-ABCDEFGHJK" in mail.text and "RC-ABCDEFGHJK" in mail.html, kind


@pytest.mark.parametrize("locale", SUPPORTED)
def test_recovery_received_tells_what_comes_next_for_uploads_and_post(locale: str) -> None:
    uploads = render("recovery_received", locale, PARAMS["recovery_received"]).text
    post = render(
        "recovery_received", locale, {**PARAMS["recovery_received"], "uploads_needed": False}
    ).text
    assert uploads != post
    # Paragraphs stay apart whichever branch is taken.
    assert "\n\n" in uploads.split("RC-ABCDEFGHJK", 1)[1][:400]


@pytest.mark.parametrize("locale", SUPPORTED)
def test_recovery_approved_shows_both_addresses_and_when(locale: str) -> None:
    mail = render("recovery_approved", locale, PARAMS["recovery_approved"])
    for part in (mail.text, mail.html):
        assert "olena.old@example.com" in part and "olena.new@example.org" in part
        assert NOON_22_NOV[locale] in part


def test_recovery_rejected_carries_the_reason_escaped_in_html() -> None:
    mail = render("recovery_rejected", "uk", PARAMS["recovery_rejected"])
    assert "The passport copy is not signed <b>by hand</b>." in mail.text
    assert "&lt;b&gt;by hand&lt;/b&gt;" in mail.html and "<b>by hand" not in mail.html
    assert "відхилено" in mail.subject


def test_recovery_english_wording() -> None:
    received = render("recovery_received", "en", PARAMS["recovery_received"]).text
    assert "We never send the access key by email." in received
    approved = render("recovery_approved", "en", PARAMS["recovery_approved"]).text
    assert "every session was ended" in approved
    assert "from olena.old@example.com to olena.new@example.org" in approved
