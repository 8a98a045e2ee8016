"""The gettext catalogs: every word extracted from the code and the mail templates,
translated in every language (none empty, none fuzzy), with the English placeholders;
the compiled .mo current; a sixth language is one more catalog."""

from __future__ import annotations

import gettext
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po
from clientarea import i18n
from clientarea.mail.rendering import KINDS

from infra.catalogs import compile_catalog
from tests.unit.test_words import mail_variants

LAYER = i18n.TRANSLATIONS.parents[1]  # layers/clientarea, where babel.cfg maps the sources
POT = i18n.TRANSLATIONS / "messages.pot"
LANGUAGES = [lang for lang in i18n.LANGUAGES if lang != i18n.SOURCE]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
# Each catalog's header names the word it uses for these (and the seeds' own terms).
GLOSSARY = ("client area", "account", "ticket", "cession", "order", "password")


def _key(message: Message) -> tuple[str | None, str]:
    return message.context, message.id if isinstance(message.id, str) else message.id[0]


def _read(path: Path) -> Catalog:
    with path.open("rb") as source:
        return read_po(source)


def _po(language: str) -> Path:
    return i18n.TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def _messages(catalog: Catalog) -> dict[tuple[str | None, str], Message]:
    return {_key(m): m for m in catalog if m.id}


def _forms(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def test_the_template_holds_every_marked_word() -> None:
    with (LAYER / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    extracted = {
        (context, message if isinstance(message, str) else message[0])
        for _, _, message, _, context in extract_from_dir(LAYER, method_map, options_map)
    }
    assert extracted == set(_messages(_read(POT))), "stale messages.pot: run `make messages`"
    # The words of the mails, the errors and the recovery texts all come through it.
    sources = {loc.split("/")[1] for m in _read(POT) for loc, _ in m.locations}
    assert {"mail", "locales.py", "recovery", "i18n.py"} <= sources


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    template, catalog = _messages(_read(POT)), _read(_po(language))
    assert not catalog.fuzzy, "the header is fuzzy: pybabel compile would skip the catalog"
    assert not catalog.obsolete
    translated = _messages(catalog)
    assert set(translated) == set(template), "run `make messages`, then translate"
    untranslated = [k for k, m in translated.items() if not all(f.strip() for f in _forms(m))]
    fuzzy = [key for key, message in translated.items() if message.fuzzy]
    assert untranslated == []
    assert fuzzy == []
    for key, message in translated.items():
        if isinstance(message.id, tuple):
            assert len(_forms(message)) == catalog.num_plurals, key


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders(language: str) -> None:
    for key, message in _messages(_read(_po(language))).items():
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        expected = set().union(*(_placeholders(text) for text in ids))
        for form in _forms(message):
            assert _placeholders(form) == expected, (key, form)
            # And nothing else that % would read as a directive.
            form % dict.fromkeys(expected, 1)


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_catalog_says_its_language_and_keeps_a_glossary(language: str) -> None:
    catalog = _read(_po(language))
    assert str(catalog.locale).split("_")[0] == language
    header = catalog.header_comment.lower()
    assert "glossary" in header
    for term in GLOSSARY:
        assert f"- {term} " in header, term


def test_portuguese_is_portugal_s() -> None:
    # Babel's plain "pt" is Brazilian: the catalog says pt_PT, and dates follow it.
    assert str(_read(_po("pt")).locale) == "pt_PT"
    assert i18n.cldr_locale("pt") == "pt_PT"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_is_the_po(language: str) -> None:
    # What the code reads (tests/conftest.py compiles a .mo older than its .po).
    with _po(language).with_suffix(".mo").open("rb") as compiled:
        loaded = gettext.GNUTranslations(compiled)
    for (context, _), message in _messages(_read(_po(language))).items():
        if isinstance(message.id, tuple):
            for n in (1, 2, 5, 21):
                form = message.string[loaded.plural(n)]  # type: ignore[attr-defined]
                got = (
                    loaded.npgettext(context, *message.id, n)
                    if context
                    else loaded.ngettext(*message.id, n)
                )
                assert got == form
        else:
            got = loaded.pgettext(context, message.id) if context else loaded.gettext(message.id)
            assert got == message.string


def test_a_catalog_with_a_wrong_placeholder_is_not_compiled(tmp_path: Path) -> None:
    catalog = _read(_po("pl"))
    message = catalog.get("This password cannot be used: %(reason)s")
    message.string = "Nie można użyć tego hasła: %(powod)s"
    broken = tmp_path / "pl" / "LC_MESSAGES" / "messages.po"
    broken.parent.mkdir(parents=True)
    with broken.open("wb") as target:
        write_po(target, catalog)
    with pytest.raises(ValueError, match="placeholder"):
        compile_catalog(broken)
    assert not broken.with_suffix(".mo").exists()


# --- a sixth language is one more catalog ----------------------------------------------

SIXTH = """
import json
from clientarea import locales
from clientarea.mail.rendering import render

params = {
    "full_name": "<i>Jana</i>",
    "link": "https://my.example.net/reset-password#token=T",
    "expires_at": "2026-11-22T12:00:00Z",
    "valid_for_seconds": 7200,
}
mail = render("password_reset", "de-DE", params)
print(json.dumps({
    "supported": list(locales.SUPPORTED),
    "negotiated": locales.negotiate(None, "fr;q=0.9, de-AT;q=0.95"),
    "error": locales.message("rate_limited", "de", retry_after=1),
    "subject": mail.subject,
    "text": mail.text,
    "html": mail.html,
}))
"""


def _german(template: Catalog) -> Catalog:
    """A throwaway catalog: "DE " before every English word, and one hostile greeting."""
    catalog = Catalog(locale="de", domain="messages", fuzzy=False)
    catalog.update(template)
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            message.string = tuple(f"DE {text}" for text in message.id)
        else:
            message.string = f"DE {message.id}"
    # A translator's words are text, never markup, in the HTML mail.
    catalog.get("Hello %(name)s,").string = "<b>Hallo</b> %(name)s,"
    return catalog


@pytest.fixture(scope="module")
def german(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package with one more catalog, compiled, and nothing else changed."""
    root = tmp_path_factory.mktemp("sixth")
    package = root / "clientarea"
    shutil.copytree(i18n.TRANSLATIONS.parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    po = package / "translations" / "de" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    with po.open("wb") as target:
        write_po(target, _german(_read(POT)))
    compile_catalog(po)
    return root


def _run(root: Path, script: str, given: object = None) -> dict:
    """`script` in a fresh interpreter on the copy (the languages are read at import)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(given),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_sixth_language_is_one_more_catalog(german: Path) -> None:
    # GIVEN a copy of the package with one more catalog (the fixture)
    # WHEN that package answers
    out = _run(german, SIXTH)
    # THEN German is negotiated, and the errors and mails speak it, dates in German
    assert out["supported"][0] == "en" and "de" in out["supported"]
    assert out["negotiated"] == "de"
    assert out["error"] == "DE Too many requests. Please try again in DE 1 second."
    assert out["subject"] == "clientarea: DE reset your password"
    assert (
        "DE The link is valid for only DE 2 hours, until DE 22. November 2026, 12:00 UTC"
        in out["text"]
    )
    assert "<b>Hallo</b> <i>Jana</i>," in out["text"]  # plain text: as written
    assert "&lt;b&gt;Hallo&lt;/b&gt; &lt;i&gt;Jana&lt;/i&gt;," in out["html"]
    assert "<b>Hallo" not in out["html"] and '<html lang="de">' in out["html"]


EVERY_WORD = """
import json, sys
from clientarea import locales
from clientarea.recovery import forms as recovery_forms
from clientarea.mail.rendering import render

variants = json.load(sys.stdin)
texts = recovery_forms.catalogue("de")
print(json.dumps({
    "mails": [
        [kind, params, render(kind, "de", params)._asdict()]
        for kind, params in variants
    ],
    "messages": {
        code: locales.message(code, "de", retry_after=30, limit=2, reason="common")
        for code in (*locales.ERRORS, *locales.PLURAL_ERRORS)
    },
    "reasons": [locales.weak_password_reason(r, "de") for r in locales.WEAK_PASSWORD_REASONS],
    "recovery": [text for table in recovery_forms.TEXTS for text in texts[table].values()],
}))
"""


def _without_values(text: str, params: dict[str, object]) -> str:
    """`text` less what the caller passed (names, domains, a quoted reply, a ticket's
    own subject): those are not the catalog's words."""
    for name, value in params.items():
        if isinstance(value, str) and not name.endswith("link"):
            text = text.replace(value, "")
    return text


LABEL = re.compile(r'<a href="[^"]+"[^>]*display:inline-block[^>]*>([^<]+)</a>')


def test_every_word_of_every_mail_and_message_comes_from_the_catalogs(german: Path) -> None:
    # A word written outside {% trans %}/_() (or an error without its N_) would reach a
    # German reader in English: in the throwaway catalog every translation starts "DE ".
    variants = list(mail_variants())
    out = _run(german, EVERY_WORD, variants)
    assert len(out["mails"]) == len(variants) and {k for k, _ in variants} == set(KINDS)
    for kind, params, mail in out["mails"]:
        subject = _without_values(mail["subject"].removeprefix("clientarea: "), params)
        assert subject.startswith("DE ") or not re.search(r"\w", subject), (kind, subject)
        text = _without_values(mail["text"], params)
        for block in filter(None, (b.strip() for b in text.split("\n\n"))):
            if block.startswith(("http://", "https://")):
                continue  # a button, in plain text
            assert block.startswith(("DE ", "— DE ", "<b>Hallo</b>")), (kind, block)
        labels = LABEL.findall(mail["html"])
        assert labels and all(label.startswith("DE ") for label in labels), (kind, labels)
    for code, message in out["messages"].items():
        assert message.startswith("DE "), code
    for text in (*out["reasons"], *out["recovery"]):
        assert text.startswith("DE "), text
