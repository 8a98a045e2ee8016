"""Transactional email rendering: one Jinja2 template per (locale, kind).

Every template file `templates/<locale>/<kind>.j2` defines three blocks — `subject`,
`text` and `html` — rendered separately. `subject` and `text` are plain text (never
HTML-escaped); `html` is autoescaped, so user-supplied values such as a full name
cannot inject markup. The subject is flattened to one line so that nothing a client
typed can add a mail header.

All parameter values come from JSON: datetimes are ISO 8601 strings and durations
are whole seconds. Dates are shown in UTC, spelled out, because the reader's time
zone is unknown.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jinja2
from babel.dates import format_datetime, format_timedelta

from clientarea.locales import negotiate

__all__ = ["KINDS", "RenderedMail", "render"]

SUBJECT_MAX = 200
BRAND = "clientarea"
_LINK_SCHEMES = ("https://", "http://")
_TEMPLATES = Path(__file__).resolve().parent / "templates"

# Every mail kind is a template file; English is the reference every locale must match
# (tests check that all five locales have the same kinds).
KINDS: frozenset[str] = frozenset(path.stem for path in (_TEMPLATES / "en").glob("*.j2"))


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def _to_datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"not an ISO 8601 datetime: {value!r}") from exc
    else:
        raise ValueError(f"not a datetime: {value!r}")
    if moment.tzinfo is None:  # the contract's times are UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _to_seconds(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(f"not a number of seconds: {value!r}")
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ValueError(f"not a number of seconds: {value!r}")


def _require(value: object) -> None:
    """A filter given a missing variable fails like any other use of it (StrictUndefined)."""
    if isinstance(value, jinja2.Undefined):
        str(value)  # raises jinja2.UndefinedError naming the variable


@jinja2.pass_context
def _datetime_filter(context: jinja2.runtime.Context, value: object) -> str:
    """'2026-11-22T12:00:00Z' → 'November 22, 2026, 12:00:00 PM UTC' in en (always UTC)."""
    _require(value)
    text = format_datetime(_to_datetime(value), format="long", tzinfo=UTC, locale=context["locale"])
    # CLDR puts a narrow no-break space before "AM"/"PM"; plain-text mail readers and
    # older fonts render it poorly, so it becomes an ordinary space.
    return text.replace("\u202f", " ")


@jinja2.pass_context
def _duration_filter(context: jinja2.runtime.Context, value: object) -> str:
    """7200 → '2 hours' / '2 години'; 86400 → '24 hours' (never a lone '1 …' unit)."""
    _require(value)
    return format_timedelta(
        timedelta(seconds=_to_seconds(value)), locale=context["locale"], threshold=2
    )


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
    )
    env.filters["datetime"] = _datetime_filter
    env.filters["duration"] = _duration_filter
    return env


def _clean_subject(raw: str) -> str:
    # str.split() with no argument splits on every Unicode whitespace, CR and LF
    # included; any other control character is dropped outright.
    flat = " ".join(raw.split())
    flat = "".join(ch for ch in flat if unicodedata.category(ch) != "Cc")
    return flat[:SUBJECT_MAX].rstrip()


def _clean_body(raw: str) -> str:
    lines = [line.rstrip() for line in raw.strip().splitlines()]
    return "\n".join(lines) + "\n"


def _render_block(template: jinja2.Template, name: str, variables: dict[str, object]) -> str:
    block = template.blocks.get(name)
    if block is None:
        raise LookupError(f"template {template.name} has no {name!r} block")
    return "".join(block(template.new_context(variables)))


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
    template = _environment().get_template(f"{lang}/{kind}.j2")
    variables: dict[str, object] = {"brand": BRAND, **params, "locale": lang}
    try:
        subject = _clean_subject(_render_block(template, "subject", variables))
        text = _clean_body(_render_block(template, "text", variables))
        html = _clean_body(_render_block(template, "html", {**variables, "subject": subject}))
    except jinja2.UndefinedError as exc:
        raise ValueError(f"missing parameter for {kind} mail: {exc.message}") from exc
    return RenderedMail(subject=subject, text=text, html=html)
