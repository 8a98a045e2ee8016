"""A unit of work names the conditions that failed, from the transaction's cancellation
reasons alone (no re-read), whatever kinds of operation they were registered as."""

from __future__ import annotations

import pytest
from clientarea.errors import ConditionsFailed


@pytest.fixture
def store(deployment):
    from clientarea.storage import accounts  # after the deployment set its environment

    return accounts


def _counter(store, name: str):
    return store.CounterModel(f"counter#{name}")


def test_each_kind_of_operation_reports_its_own_name(deployment, store):
    from clientarea.storage.unit_of_work import UnitOfWork

    model = store.CounterModel
    with UnitOfWork() as uow:
        uow.save(_counter(store, "a"), name="seed a")
        uow.save(_counter(store, "b"), name="seed b")
        uow.save(_counter(store, "d"), name="seed d")
    # One failing condition of each kind, among passing ones, registered out of
    # PynamoDB's sending order (updates, puts, deletes, checks): each is named right.
    with pytest.raises(ConditionsFailed) as failed, UnitOfWork() as uow:
        uow.update(
            _counter(store, "a"),
            actions=[model.value.add(1)],
            condition=model.pk.exists(),
            name="passing update",
        )
        uow.save(_counter(store, "b"), condition=model.pk.does_not_exist(), name="failing put")
        uow.delete(_counter(store, "c"), condition=model.pk.exists(), name="failing delete")
        uow.condition_check(model, "counter#d", condition=model.pk.exists(), name="passing check")
        uow.condition_check(model, "counter#zz", condition=model.pk.exists(), name="failing check")
    assert set(failed.value.failed) == {"failing put", "failing delete", "failing check"}
    # Nothing was written: the passing update did not happen.
    assert int(model.get("counter#a", consistent_read=True).value) == 0


def test_a_committed_unit_runs_its_after_commit_hooks_and_a_refused_one_does_not(deployment, store):
    from clientarea.storage.unit_of_work import UnitOfWork

    ran: list[str] = []
    with UnitOfWork() as uow:
        uow.save(_counter(store, "x"), name="x")
        uow.after_commit(lambda: ran.append("committed"))
    assert ran == ["committed"]
    with pytest.raises(ConditionsFailed), UnitOfWork() as uow:
        uow.save(_counter(store, "x"), condition=store.CounterModel.pk.does_not_exist(), name="x")
        uow.after_commit(lambda: ran.append("again"))
    assert ran == ["committed"]


@pytest.mark.parametrize("name", [None, ""])
def test_an_operation_without_a_name_is_refused_and_nothing_is_sent(deployment, store, name):
    from clientarea.storage.unit_of_work import UnitOfWork
    from pynamodb.exceptions import DoesNotExist

    named = {} if name is None else {"name": name}
    with pytest.raises(TypeError), UnitOfWork() as uow:
        uow.save(_counter(store, "named first"), name="named first")
        uow.save(_counter(store, "unnamed"), **named)
    for key in ("named first", "unnamed"):
        with pytest.raises(DoesNotExist):
            store.CounterModel.get(f"counter#{key}", consistent_read=True)


def test_a_unit_opened_with_a_meaning_raises_it_from_the_names(deployment, store):
    from clientarea.errors import InvalidOrderState
    from clientarea.storage.unit_of_work import UnitOfWork

    model = store.CounterModel
    with UnitOfWork() as uow:
        uow.save(_counter(store, "m"), name="seed")
    with pytest.raises(InvalidOrderState) as refused, UnitOfWork(refused=InvalidOrderState) as uow:
        uow.save(_counter(store, "m"), condition=model.pk.does_not_exist(), name="taken")
    conditions = refused.value.__cause__
    assert isinstance(conditions, ConditionsFailed) and conditions.failed == ("taken",)


def test_joining_writes_in_the_callers_unit_or_commits_its_own(deployment, store):
    from clientarea.storage.unit_of_work import UnitOfWork, joining

    with UnitOfWork() as outer:
        with joining(outer) as unit:
            assert unit is outer
            unit.save(_counter(store, "joined"), name="joined")
        # not committed until the caller's unit is
        assert store.CounterModel.count("counter#joined") == 0
    assert store.CounterModel.count("counter#joined") == 1
    with joining(None) as own:
        own.save(_counter(store, "own"), name="own")
    assert store.CounterModel.count("counter#own") == 1
