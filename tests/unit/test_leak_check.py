"""The leak check every test runs under (tests/support/leaks.py) finds what it is for."""

from __future__ import annotations

import logging

import pytest

from tests.support.leaks import LeakCheck


def test_a_mailed_token_in_a_log_line_is_a_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    check = LeakCheck()
    check.watch(monkeypatch)
    token = "100001.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    check.mailed([{"links": [f"https://example.com/reset-password#token={token}"]}])
    logging.getLogger("clientarea.passwords").warning("reset for %s", "someone")
    assert check.leaks() == []
    logging.getLogger("clientarea.passwords").warning("reset with %s", token)
    assert len(check.leaks()) == 1


def test_a_sent_password_in_a_log_extra_is_a_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    check = LeakCheck()
    check.watch(monkeypatch)
    check.sent(None, b'{"login": "demo", "password": "correct horse battery"}', {})
    logging.getLogger("clientarea").warning(
        "login failed", extra={"attempt": "correct horse battery"}
    )
    assert check.leaks()


def test_a_reply_naming_the_internals_fails() -> None:
    with pytest.raises(AssertionError, match="botocore"):
        LeakCheck().answered("GET", "/account", b'{"message": "botocore.exceptions.ClientError"}')
