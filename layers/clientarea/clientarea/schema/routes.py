"""Each route's documented answers (docs/openapi.json): its success, and its errors
derived from the exception classes it can raise.

An error's status and code are the class's (clientarea.errors, which clientarea.web maps
to answers by class), its description the class's docstring: nothing per route is
written by hand, so what a route documents cannot drift from what it answers. Every
error answer refers to the one `Error` schema; the codes a status can carry for an
operation are listed in its description and as one example each.
"""

from collections.abc import Iterable
from typing import Any

from clientarea.errors import DomainError

ERROR_REF = {"$ref": "#/components/schemas/Error"}
ANY_JSON = {"application/json": {"schema": {"type": "object"}}}
# A success without a body (204), and one whose body is always `{}` (202).
NO_BODY: dict[str, Any] = {}
EMPTY_OBJECT = {"application/json": {"schema": {"type": "object", "maxProperties": 0}}}


def responses(
    status: int,
    model: Any,
    description: str,
    *,
    content: dict[str, Any] | None = None,
    raises: Iterable[type[DomainError]] = (),
) -> dict[int, Any]:
    """A route's documented answers: the success (`model`, else `content`, else any JSON
    object; `NO_BODY` for none) and an error answer per status of the classes in `raises`."""
    if model is not None:
        content = {"application/json": {"model": model}}
    documented: dict[int, Any] = {
        status: {"description": description, "content": ANY_JSON if content is None else content}
    }
    for error in raises:
        add_error(documented.setdefault(error.status, {}), error)
    return documented


def summary(error: type[DomainError]) -> str:
    """The first paragraph of the class's docstring, on one line."""
    text = (error.__doc__ or error.code).strip().split("\n\n")[0]
    return " ".join(text.split())


def add_error(response: dict[str, Any], error: type[DomainError]) -> dict[str, Any]:
    """`response` (an error answer, or `{}` for a new one) also documents `error`: its
    code joins the description and the examples; a code already there is left as it is."""
    media = response.setdefault("content", {}).setdefault("application/json", {})
    media["schema"] = ERROR_REF
    examples = media.setdefault("examples", {})
    if error.code in examples:
        return response
    examples[error.code] = {
        "summary": summary(error),
        "value": {"code": error.code, "message": summary(error)},
    }
    response["description"] = "\n".join(
        f"`{code}`: {example['summary']}" for code, example in examples.items()
    )
    return response


def codes(response: dict[str, Any]) -> list[str]:
    """The error codes a documented answer can carry."""
    return list(response.get("content", {}).get("application/json", {}).get("examples", {}))
