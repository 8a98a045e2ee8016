"""Transactional email rendering: one template per mail, its words in the catalogs.

`templates/<kind>.j2` extends `_mail.j2` (greeting, body, signature) and defines two
blocks: `subject` (one line; the mail's subject is "<brand>: " + it) and `body`, a
sequence of the helpers below, each one block of the mail: `{% call p() %}` a
paragraph, `button(url, label)` a link (in plain text, the URL on a line of its own),
`quote(text)` someone's words verbatim. The words are English, in `{% trans %}` or
`_()`, and come out in the reader's language from the gettext catalogs
(`clientarea.i18n`).

The one source is rendered twice: as plain text (nothing escaped) and as HTML
(autoescaped, so user-supplied values such as a full name cannot inject markup; the
catalogs' words are escaped too). A template writes nothing but through the helpers,
so the layout of both versions is the helpers' alone (`_html.j2` holds the HTML). The
subject is flattened to one line so that nothing a client typed can add a mail header.

All parameter values come from JSON: datetimes are ISO 8601 strings and durations are
whole seconds. Dates are shown in UTC, spelled out, because the reader's time zone is
unknown; durations in whole units, never rounded up.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import jinja2
from markupsafe import escape

from clientarea import i18n
from clientarea.locales import negotiate
from clientarea.mail import filters

__all__ = ["KINDS", "RenderedMail", "render"]

SUBJECT_MAX = 200
BRAND = "clientarea"
_LINK_SCHEMES = ("https://", "http://")
_TEMPLATES = Path(__file__).resolve().parent / "templates"
_BLOCKS = "_mail_blocks"  # the render's list of blocks, in the template context

# Every mail kind is a template file (the files starting with "_" are shared parts).
KINDS: frozenset[str] = frozenset(
    path.stem for path in _TEMPLATES.glob("*.j2") if not path.name.startswith("_")
)


class RenderedMail(NamedTuple):
    subject: str
    text: str
    html: str


def _words(context: jinja2.runtime.Context, text: str) -> str:
    """A catalog's words as the mode needs them: escaped in HTML, verbatim in text."""
    return escape(text) if filters.html_mode(context) else text


# --- the catalogs, for {% trans %} and _() -------------------------------------------


@jinja2.pass_context
def _gettext(context: jinja2.runtime.Context, message: str) -> str:
    return _words(context, i18n.translation(filters.language(context)).gettext(message))


@jinja2.pass_context
def _ngettext(context: jinja2.runtime.Context, singular: str, plural: str, n: int) -> str:
    return _words(
        context, i18n.translation(filters.language(context)).ngettext(singular, plural, n)
    )


@jinja2.pass_context
def _pgettext(context: jinja2.runtime.Context, ctx: str, message: str) -> str:
    return _words(context, i18n.translation(filters.language(context)).pgettext(ctx, message))


@jinja2.pass_context
def _npgettext(
    context: jinja2.runtime.Context, ctx: str, singular: str, plural: str, n: int
) -> str:
    words = i18n.translation(filters.language(context))
    return _words(context, words.npgettext(ctx, singular, plural, n))


# --- the blocks of a mail -----------------------------------------------------------


def _add(context: jinja2.runtime.Context, block: str) -> str:
    context[_BLOCKS].append(block)
    return ""


@functools.cache
def _html_parts() -> Any:
    return _environment(html=True).get_template("_html.j2").module


@jinja2.pass_context
def _paragraph(context: jinja2.runtime.Context, caller: Callable[[], str]) -> str:
    """`{% call p() %}words{% endcall %}`: one paragraph."""
    content = caller()
    return _add(
        context, _html_parts().paragraph(content) if filters.html_mode(context) else content
    )


@jinja2.pass_context
def _button(context: jinja2.runtime.Context, url: str, label: str, secondary: bool = False) -> str:
    """A link as a button, with the raw URL under it; in plain text, the URL alone."""
    filters.require(url)
    if not filters.html_mode(context):
        return _add(context, url)
    # Translators: under each button of a mail, above the link written out.
    hint = i18n.translation(filters.language(context)).gettext(
        "If the button does not work, copy this link into your browser's address bar:"
    )
    return _add(context, _html_parts().button(url, label, hint, secondary))


@jinja2.pass_context
def _quote(context: jinja2.runtime.Context, text: object) -> str:
    """Someone's own words (a support reply, a reason), kept as written."""
    filters.require(text)
    return _add(context, _html_parts().quote(text) if filters.html_mode(context) else str(text))


@jinja2.pass_context
def _signature(context: jinja2.runtime.Context, text: str) -> str:
    return _add(
        context, _html_parts().signature(text) if filters.html_mode(context) else f"— {text}"
    )


@functools.cache
def _environment(*, html: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        # The plain-text rendering is never read as HTML: it must keep "<" and "&" as
        # typed. The HTML rendering escapes.
        autoescape=html,  # noqa: S701  # nosec B701
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
    )
    env.policies["ext.i18n.trimmed"] = True  # babel.cfg extracts with trimmed = true
    env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the extension
        _gettext, _ngettext, newstyle=True, pgettext=_pgettext, npgettext=_npgettext
    )
    env.filters.update(
        datetime=filters.datetime_filter, duration=filters.duration_filter, strong=filters.strong
    )
    env.globals.update(p=_paragraph, button=_button, quote=_quote, signature=_signature)
    return env


def _clean_subject(raw: str) -> str:
    # str.split() with no argument splits on every Unicode whitespace, CR and LF
    # included; any other control character is dropped outright.
    flat = " ".join(raw.split())
    flat = "".join(ch for ch in flat if unicodedata.category(ch) != "Cc")
    return flat[:SUBJECT_MAX].rstrip()


def _clean_body(raw: str) -> str:
    lines = [line.rstrip() for line in str(raw).strip().splitlines()]  # str: not Markup's
    return "\n".join(lines) + "\n"


def _render_block(template: jinja2.Template, name: str, variables: dict[str, object]) -> str:
    block = template.blocks.get(name)
    if block is None:
        raise LookupError(f"template {template.name} has no {name!r} block")
    return "".join(block(template.new_context(variables)))


def _blocks(template: jinja2.Template, variables: dict[str, object]) -> list[str]:
    blocks: list[str] = []
    stray = template.render({**variables, _BLOCKS: blocks})
    if stray.strip():  # words outside the helpers would be in neither version
        raise LookupError(f"template {template.name} writes outside its blocks: {stray!r}")
    return blocks


def _check_links(params: Mapping[str, object]) -> None:
    """Every `*link` parameter must be an absolute http(s) URL (never `javascript:` …)."""
    for name, value in params.items():
        if not name.endswith("link"):
            continue
        if not isinstance(value, str) or not value.startswith(_LINK_SCHEMES):
            raise ValueError(f"{name} must be an absolute http(s) URL")
        if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in value):
            raise ValueError(f"{name} must not contain whitespace or control characters")


def render(kind: str, locale: str, params: Mapping[str, object]) -> RenderedMail:
    """Render the mail `kind` in `locale` (unknown locale → English).

    Raises ValueError for an unknown kind, a missing parameter, a link that is not an
    http(s) URL or a malformed datetime/duration value.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown mail kind: {kind!r}")
    _check_links(params)
    lang = negotiate(locale, None)  # "uk-UA" → "uk"; anything unsupported → "en"
    variables: dict[str, object] = {"brand": BRAND, **params, "locale": lang}
    name = f"{kind}.j2"
    text_template = _environment(html=False).get_template(name)
    html_template = _environment(html=True).get_template(name)
    try:
        subject = _render_block(text_template, "subject", variables)
        subject = _clean_subject(f"{variables['brand']}: {subject}")
        text = "\n\n".join(_blocks(text_template, variables))
        body = _blocks(html_template, variables)
    except jinja2.UndefinedError as exc:
        raise ValueError(f"missing parameter for {kind} mail: {exc.message}") from exc
    html = _html_parts().document(lang, subject, body)
    return RenderedMail(subject=subject, text=_clean_body(text), html=_clean_body(html))
