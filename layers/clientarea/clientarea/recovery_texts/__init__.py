"""The manual-recovery texts in every supported language: applicant types, channels,
documents (the help-centre wording the procedure was specified from) and the
application template. One `<locale>.toml` per locale, all with the same keys."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from clientarea.locales import negotiate


@functools.cache
def _load(locale: str) -> dict[str, Any]:
    import tomllib  # noqa: PLC0415 - on first use only, not in every cold start

    data = resources.files(__package__).joinpath(f"{locale}.toml").read_bytes()
    return tomllib.loads(data.decode("utf-8"))


def catalogue(locale: str | None) -> dict[str, Any]:
    """The texts for `locale` (unknown → English), with the locale used under "locale"."""
    lang = negotiate(locale, None)
    return {**_load(lang), "locale": lang}
