"""The field types of the HTTP shapes, each declared once.

mypy cannot read the field types built at run time (pydantic Annotated types returned by
the builders below): the fields that use them carry ignore[valid-type].
"""

import re
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import AfterValidator, Field, SecretStr

# --- what text a person types may contain --------------------------------------------------
#
# Nothing a person types needs a control character (C0 but tab and line breaks, DEL, C1)
# or a Unicode noncharacter U+FFFE/U+FFFF, and XML (the DOCX application form) cannot
# hold them: such text is refused (422), never stored to break a renderer later. Lone
# surrogates never get this far (not a valid string). A name or a one-line field holds
# no line break either (tab, CR, LF, U+2028/2029) and no bidirectional control (which
# makes text display as something other than it is, e.g. in a staff view).
#
# Each rule is a regular expression written once and used twice: in docs/openapi.json
# as the field's `pattern` (a client, or schemathesis, knows the rule) and by the
# validator, with Python's `re.search` as JSON Schema's pattern means. Python's `$` also
# matches before one final line break, so a name typed with one is taken without it.
_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff"
_NOT_IN_A_LINE = _CONTROL + r"\t\n\r\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
NAME_PATTERN = rf"^[^{_NOT_IN_A_LINE}]*[^{_NOT_IN_A_LINE}\s][^{_NOT_IN_A_LINE}]*$"
LINE_PATTERN = rf"^[^{_NOT_IN_A_LINE}]*$"
TEXT_PATTERN = rf"^[^{_CONTROL}]*$"


def _typed(pattern: str, why: str, min_length: int, max_length: int) -> Any:
    def follows(value: str) -> str:
        # Compiled on first use (and cached by re), not when a function imports its shapes.
        if not re.search(pattern, value):
            raise ValueError(why)
        # The one line break Python's `$` lets through is not part of a one-line value.
        return value if pattern == TEXT_PATTERN else value.removesuffix("\n")

    return Annotated[
        str,
        Field(
            min_length=min_length,
            max_length=max_length,
            json_schema_extra={"pattern": pattern},
        ),
        AfterValidator(follows),
    ]


def person_name(max_length: int = 200) -> Any:
    """A person's or a company's name: one line, not blank, nothing unprintable."""
    return _typed(NAME_PATTERN, "a name is one line of printable text", 1, max_length)


def one_line(max_length: int, min_length: int = 0) -> Any:
    """A phone number, a login, a code, a hint: one line, nothing unprintable."""
    return _typed(LINE_PATTERN, "one line of printable text", min_length, max_length)


def free_text(max_length: int, min_length: int = 0) -> Any:
    """A postal address: lines of printable text (tabs and line breaks allowed)."""
    return _typed(TEXT_PATTERN, "printable text", min_length, max_length)


# --- request fields --------------------------------------------------------------------------

Name = person_name(200)
Email = Annotated[str, Field(min_length=3, max_length=254)]
# A login name or the contact email, as typed to sign in or to reset a password.
Login = Annotated[str, Field(min_length=1, max_length=254)]
Password = Annotated[SecretStr, Field(min_length=1, max_length=1024)]
# A mailed link's secret (email verification, password reset, cession, contact email).
Token = Annotated[str, Field(min_length=1, max_length=512)]
# A language tag as a client states it (negotiated against the supported locales).
Locale = Annotated[str | None, Field(max_length=35)]

# --- path parameters -------------------------------------------------------------------------

TicketNumber = Annotated[str, Path(min_length=1, max_length=32)]
# A recovery case's reference.
Reference = Annotated[str, Path(min_length=1, max_length=32)]
# A service's, an order's or a session's id.
PathId = Annotated[str, Path(min_length=1, max_length=64)]

# --- response fields -------------------------------------------------------------------------

# An instant as clientarea.clock.iso writes it (RFC 3339, UTC): a str at run time.
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
