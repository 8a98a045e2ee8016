"""clientarea.intake without AWS: MIME parsing, the language guess, automatic mail,
SES verdicts; ticket numbers in subjects (clientarea.support.numbering)."""

from __future__ import annotations

from pathlib import Path

import pytest
from clientarea.intake import authentication, language, parsing
from clientarea.support import numbering

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mail"


@pytest.fixture(autouse=True)
def _addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENDER_ADDRESS", "no-reply@clientarea.test")
    monkeypatch.setenv("SUPPORT_ADDRESS", "support@clientarea.test")
    monkeypatch.setenv("SALES_ADDRESS", "sales@clientarea.test")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Доброго дня! Не відкривається сайт", "uk"),
        ("Добрий день, ґанок і їжак", "uk"),
        ("Здравствуйте! Сайт не открывается, счёт не пришёл", "ru"),
        ("Привет, как дела", "ru"),  # Cyrillic without Ukrainian letters
        ("Dzień dobry, nie działa poczta", "pl"),
        ("Bom dia, quanto custa a migração? Obrigado pela atenção", "pt"),
        ("Hello, my site is down", "en"),
        ("", "en"),
    ],
)
def test_language_of_text(text: str, expected: str) -> None:
    assert language.language_of_text(text) == expected


@pytest.mark.parametrize(
    ("name", "sender_name", "language", "attachments"),
    [
        (
            "uk_multipart_attachment.eml",
            "Олена Коваленко",
            "uk",
            [("рахунок.pdf", "application/pdf")],
        ),
        ("ru_plain_qp.eml", "Сергей Иванов", "ru", []),
        (
            "pl_latin2_attachment.eml",
            "Łukasz Żółtowski",
            "pl",
            [("zrzut-ekranu-błąd.png", "image/png")],
        ),
        ("pt_html_latin1.eml", "João Conceição", "pt", []),
    ],
)
def test_fixtures_parse_to_names_languages_and_attachments(
    name, sender_name, language, attachments
):
    mail = parsing.parse((FIXTURES / name).read_bytes())
    assert mail.sender == "olena@example.com" and mail.sender_name == sender_name
    assert mail.language == language and not mail.automatic
    assert [(a.filename, a.content_type) for a in mail.attachments] == attachments
    assert mail.body and "=?" not in mail.subject


def test_content_language_header_wins_over_the_letters() -> None:
    raw = (
        (FIXTURES / "ru_plain_qp.eml")
        .read_bytes()
        .replace(b"MIME-Version", b"Content-Language: uk-UA\r\nMIME-Version")
    )
    assert parsing.parse(raw).language == "uk"


@pytest.mark.parametrize(
    ("name", "automatic"),
    [
        ("auto_replied.eml", True),
        ("bounce_mailer_daemon.eml", True),
        ("naive_responder.eml", False),
        ("uk_multipart_attachment.eml", False),
    ],
)
def test_automatic_mail_is_recognised(name: str, automatic: bool) -> None:
    assert parsing.parse((FIXTURES / name).read_bytes()).automatic is automatic


def test_an_empty_envelope_sender_means_a_bounce() -> None:
    raw = (FIXTURES / "naive_responder.eml").read_bytes()
    assert parsing.parse(raw, mail_from="").automatic
    assert not parsing.parse(raw, mail_from="olena@example.com").automatic


def test_two_from_addresses_give_no_sender() -> None:
    raw = b"From: a@example.com, b@example.com\r\nSubject: x\r\n\r\nbody\r\n"
    mail = parsing.parse(raw)
    assert mail.sender == "" and mail.automatic  # nobody to answer, nobody to trust


@pytest.mark.parametrize(
    ("header", "sender", "name"),
    [
        (b"From: Olena <olena@example.com>", "olena@example.com", "Olena"),
        (b'From: "Doe, John" <john@example.com>', "john@example.com", "Doe, John"),
        (b"From: john@example.com (John Doe)", "john@example.com", ""),
        (b"From: =?utf-8?q?Jo=C3=A3o?= <joao@example.pt>", "joao@example.pt", "João"),
        (b"From: a@example.com\r\nFrom: b@example.com", "", ""),  # two From headers
        (b"From: a@example.com <b@example.com>", "", ""),  # an address as the name
        (b"From: <a@example.com> b@example.com", "", ""),  # junk after the address
        (b"From: A <a@example.com", "", ""),  # unclosed bracket
        (b"From: Friends: a@example.com;", "", ""),  # a group
        (b"From: <@relay.example:a@example.com>", "", ""),  # obsolete route
        (b"From: Jo\x00hn <john@example.com>", "", ""),  # a NUL in the name
        (b"From: =?utf-8?b?RXZlDQpCY2M6IHg=?= <a@example.com>", "", ""),  # CRLF in the name
        (b"From: owner", "", ""),  # no domain
        (b"From: ", "", ""),
        (b"X-From: a@example.com", "", ""),  # no From at all
    ],
)
def test_only_one_well_formed_from_gives_a_sender(header: bytes, sender: str, name: str) -> None:
    mail = parsing.parse(header + b"\r\nSubject: x\r\n\r\nbody\r\n", mail_from="x@example.net")
    assert (mail.sender, mail.sender_name) == (sender, name)


@pytest.mark.parametrize(
    ("message_id", "echoed"),
    [
        ("<abc.123@mail.example.net>", True),
        ("<CAF+x=y_z@mail.gmail.com>", True),
        ("<call +1 555 0100 now> <abc@example.net>", False),
        ("<abc@example.net> (comment)", False),
        ("no-brackets@example.net", False),
        ("<" + "a" * 300 + "@example.net>", False),
        ("", False),
    ],
)
def test_only_a_plain_message_id_is_echoed(message_id: str, echoed: bool) -> None:
    assert bool(parsing.PLAIN_MESSAGE_ID.fullmatch(message_id)) is echoed


@pytest.mark.parametrize(
    ("verdicts", "answerable"),
    [
        ({"spf": "PASS"}, True),
        ({"dmarc": "PASS"}, True),
        ({"spf": "PASS", "dmarc": "FAIL"}, False),  # a forged From: no reply at all
        ({"spf": "FAIL", "dkim": "PASS"}, False),
        ({"spf": "PROCESSING_FAILED", "dmarc": "PROCESSING_FAILED"}, False),
        ({"spf": "PASS", "spam": "FAIL"}, False),
        ({"dmarc": "PASS", "virus": "FAIL"}, False),
        ({}, False),  # GRAY everywhere
    ],
)
def test_an_envelope_sender_is_answered_only_when_spf_or_dmarc_passes(
    verdicts: dict[str, str], answerable: bool
) -> None:
    assert authentication.Verdicts(**verdicts).envelope_answerable() is answerable


def test_verdicts_pass_only_when_all_three_pass() -> None:
    assert authentication.Verdicts("PASS", "PASS", "PASS").authenticated()
    assert not authentication.Verdicts("PASS", "PASS", "GRAY").authenticated()
    assert not authentication.Verdicts("PASS", "PASS", "PASS", virus="FAIL").authenticated()
    assert authentication.Verdicts("PASS", "FAIL", "FAIL").probably_forged()
    assert not authentication.Verdicts("GRAY", "GRAY", "GRAY").probably_forged()


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Re: clientarea: [TKT-100-042] Site down", "TKT-100-042"),
        ("Fwd: tkt-100-042", "TKT-100-042"),
        ("about TKT-1234-567 please", "TKT-1234-567"),
        ("TKT-100-04", None),
        ("XTKT-100-042", None),
        ("", None),
    ],
)
def test_ticket_numbers_in_subjects(text: str, number: str | None) -> None:
    assert numbering.parse_number(text) == number


def test_number_format_grows_past_a_million() -> None:
    assert numbering.format_number(100_001) == "TKT-100-001"
    assert numbering.format_number(1_234_567) == "TKT-1234-567"
    assert numbering.parse_number(numbering.format_number(1_234_567)) == "TKT-1234-567"
