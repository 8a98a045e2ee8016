"""A unit of work: one DynamoDB transaction that several aggregates' storage modules
write into, and that says which of its conditions failed.

    from clientarea.storage import accounts as account_store, tokens as token_store
    from clientarea.storage.unit_of_work import UnitOfWork

    try:
        with UnitOfWork() as uow:  # committed when the block ends without an error
            token_store.consume(uow, valid_token)  # registers "link"
            account_store.create(uow, account)  # "account", "email claim", "login claim"
    except ConditionsFailed as exc:  # clientarea.errors; nothing was written
        if account_store.LOGIN_CLAIM in exc.failed: ...

Every operation is registered with a `name` (a storage module's constant, e.g.
`accounts.NEW_EMAIL_CLAIM`), and a transaction refused for a condition raises
`ConditionsFailed` whose `failed` holds the names of every condition DynamoDB reported
failed (its cancellation reasons, matched to the operations in the order PynamoDB sends
them: condition checks, deletes, puts, updates; tests/unit/test_unit_of_work.py pins
that). No re-read is needed to learn what went wrong.

A unit whose refusal has one meaning for its caller says so when it is opened:
`UnitOfWork(refused=InvalidOrderState)` raises that error (`from` the ConditionsFailed)
instead. A domain function that writes either in its caller's unit or, called on its
own, in one of its own opens it with `joining(uow, refused=…)`.

The other outcomes: throttled or down is ServiceUnavailable, lost to a concurrent
transaction Conflict, anything else (an IAM refusal included) AWSRefused, each raised
`from` AWS's error. `after_commit(fn)` runs `fn` once the transaction is in (to bring
the models read before up to date, to count what was done).

Every operation needs its name: an unnamed one is refused (TypeError) before anything
is sent. Storage code registers operations; domain code only opens the unit, calls
storage functions with it, and reads `failed`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from clientarea import availability
from clientarea.errors import (
    AWSRefused,
    ConditionsFailed,
    Conflict,
    DomainError,
    ServiceUnavailable,
)
from clientarea.storage.base import connection

CONDITION_FAILED = "ConditionalCheckFailed"


class UnitOfWork(TransactWrite):
    """A write transaction whose operations carry names (see the module docstring)."""

    def __init__(self, *, refused: type[DomainError] | None = None) -> None:
        super().__init__(connection=connection())
        self._refused = refused
        # Per kind, in PynamoDB's sending order (Connection.transact_write_items).
        self._names: dict[str, list[str]] = {"check": [], "delete": [], "put": [], "update": []}
        self._after: list[Callable[[], None]] = []

    # Each operation takes a required `name` (PynamoDB's has none): an override mypy
    # calls incompatible, on purpose: an unnamed operation cannot be registered.
    def condition_check(  # type: ignore[no-untyped-def, override]
        self, model_cls, hash_key, range_key=None, condition=None, *, name: str
    ) -> None:
        self._names["check"].append(_named(name))
        super().condition_check(model_cls, hash_key, range_key=range_key, condition=condition)

    def delete(  # type: ignore[no-untyped-def, override]
        self, model, condition=None, *, add_version_condition: bool = True, name: str
    ) -> None:
        self._names["delete"].append(_named(name))
        super().delete(model, condition=condition, add_version_condition=add_version_condition)

    def save(  # type: ignore[no-untyped-def, override]
        self, model, condition=None, return_values=None, *, name: str
    ) -> None:
        self._names["put"].append(_named(name))
        super().save(model, condition=condition, return_values=return_values)

    def update(  # type: ignore[no-untyped-def, override]
        self,
        model,
        actions,
        condition=None,
        return_values=None,
        *,
        add_version_condition: bool = True,
        name: str,
    ) -> None:
        self._names["update"].append(_named(name))
        super().update(
            model,
            actions=actions,
            condition=condition,
            return_values=return_values,
            add_version_condition=add_version_condition,
        )

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run `fn` once the transaction is committed (never if it is refused)."""
        self._after.append(fn)

    def names(self) -> list[str]:
        """The operations' names in the order they are sent (and reported back)."""
        return [name for kind in ("check", "delete", "put", "update") for name in self._names[kind]]

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()

    def commit(self) -> Any:
        try:
            response = self._commit()
        except TransactWriteError as exc:
            failure = self._failure(exc)
            if isinstance(failure, ConditionsFailed) and self._refused is not None:
                failure.__cause__ = exc  # what the refused error comes from, and AWS's error
                raise self._refused() from failure
            raise failure from exc
        for fn in self._after:
            fn()
        return response

    def _failure(self, exc: TransactWriteError) -> Exception:
        if availability.is_transient(exc):
            return ServiceUnavailable(availability.RETRY_AFTER_SECONDS)
        if availability.is_transaction_conflict(exc):
            return Conflict()
        reasons = exc.cancellation_reasons or []
        failed = tuple(
            name
            for name, reason in zip(self.names(), reasons, strict=False)
            if reason is not None and reason.code == CONDITION_FAILED
        )
        if failed:
            return ConditionsFailed(failed)
        return AWSRefused(type(exc.cause).__name__ if exc.cause else "TransactWriteError")


def _named(name: str) -> str:
    if not name:
        raise TypeError("a unit of work's operation needs a name")
    return name


@contextmanager
def joining(
    uow: UnitOfWork | None, *, refused: type[DomainError] | None = None
) -> Iterator[UnitOfWork]:
    """`uow` itself when the caller has one (the caller commits it and reads what
    failed), else a UnitOfWork of its own (`refused` as UnitOfWork's), committed when
    the block ends without an error."""
    if uow is not None:
        yield uow
        return
    with UnitOfWork(refused=refused) as own:
        yield own
