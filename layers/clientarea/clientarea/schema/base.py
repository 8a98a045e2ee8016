"""The two bases of every HTTP shape.

Both defer pydantic's schema building from import to the model's first use (the first
request of a route that takes or answers it): a function's cold start does not build
every model of every route it serves (make bench, issue 16).
"""

from pydantic import BaseModel, ConfigDict


class Shape(BaseModel):
    """A request body: unknown fields are refused (422), never silently dropped."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class Answer(BaseModel):
    """A response body (its schema is built on first use, as Shape's)."""

    model_config = ConfigDict(defer_build=True)
