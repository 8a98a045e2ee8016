"""Whose replay a request may get (clientarea.web._caller): the scope of an
Idempotency-Key besides the method, the concrete path and the body."""

from __future__ import annotations

import hashlib

from clientarea.replay import caller as _caller


def _event(authorizer: dict | None = None, **headers: str) -> dict:
    return {"headers": headers, "requestContext": {"authorizer": authorizer}}


def test_a_session_is_its_own_scope() -> None:
    one = _caller(_event({"principalId": "100001", "session": "a" * 64}))
    other = _caller(_event({"principalId": "100001", "session": "b" * 64}))
    assert one == "session:" + "a" * 64 and one != other


def test_a_recovery_key_is_scoped_by_its_digest_never_the_key_itself() -> None:
    key = "k" * 43
    scope = _caller(_event(None, **{"X-Recovery-Key": key}))
    assert scope == "recovery:" + hashlib.sha256(key.encode()).hexdigest()
    assert key not in scope
    assert _caller(_event(None, **{"X-Recovery-Key": "j" * 43})) != scope


def test_nobody_in_particular_is_one_scope_apart_from_everyone_else() -> None:
    assert _caller(_event(None)) == "anonymous"


def test_a_signed_in_request_without_its_session_is_never_replayed() -> None:
    # (were the authorizer to stop handing the session on, every account would else
    # share one scope)
    assert _caller(_event({"principalId": "100001", "client_number": "100001"})) is None
