"""What a mail template does with a value: the filters (`datetime`, `duration`,
`strong`) and what every helper asks of its render (the reader's language, whether it
renders HTML), for clientarea.mail.rendering. Values come from JSON: datetimes are ISO
8601 strings, durations whole seconds."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

import jinja2
from babel.core import Locale
from babel.dates import format_date, format_time
from markupsafe import Markup

from clientarea import i18n


def to_datetime(value: object) -> datetime:
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


def to_seconds(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(f"not a number of seconds: {value!r}")
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ValueError(f"not a number of seconds: {value!r}")


def require(value: object) -> None:
    """A filter given a missing variable fails like any other use of it (StrictUndefined)."""
    if isinstance(value, jinja2.Undefined):
        str(value)  # raises jinja2.UndefinedError naming the variable


def language(context: jinja2.runtime.Context) -> str:
    return str(context["locale"])


def html_mode(context: jinja2.runtime.Context) -> bool:
    return bool(context.eval_ctx.autoescape)


@functools.cache
def locale_data(language: str) -> Locale:
    return Locale.parse(i18n.cldr_locale(language))


@jinja2.pass_context
def datetime_filter(context: jinja2.runtime.Context, value: object) -> str:
    """'2026-12-04T12:00:00Z' → 'December 4, 2026, 12:00 PM UTC' in en, '4 grudnia
    2026 r., godz. 12:00 UTC' in pl: the long date, hours and minutes, always UTC."""
    require(value)
    moment = to_datetime(value)
    lang = language(context)
    cldr = locale_data(lang)
    # Translators: a date and time in UTC, e.g. "December 4, 2026, 12:00 PM UTC";
    # %(date)s is the long date, %(time)s hours and minutes, both in your language.
    pattern = i18n.translation(lang).pgettext("datetime", "%(date)s, %(time)s UTC")
    text = pattern % {
        "date": format_date(moment, format="long", locale=cldr),
        "time": format_time(moment, format="short", tzinfo=UTC, locale=cldr),
    }
    # CLDR puts a narrow no-break space before "AM"/"PM"; plain-text mail readers and
    # older fonts render it poorly, so it becomes an ordinary space.
    return text.replace("\u202f", " ")


@jinja2.pass_context
def duration_filter(context: jinja2.runtime.Context, value: object) -> str:
    """7200 → '2 hours' / '2 години'; 86400 → '24 hours'; 307980 → '3 days and 13 hours'."""
    require(value)
    return i18n.duration(to_seconds(value), language(context))


@jinja2.pass_context
def strong(context: jinja2.runtime.Context, value: object) -> object:
    """What the reader must notice (an address, a domain): bold in HTML, as is in text."""
    require(value)
    if not html_mode(context):
        return value
    return Markup("<strong>%s</strong>") % value
