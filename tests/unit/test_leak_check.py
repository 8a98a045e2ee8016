"""The leak check every test runs under (tests/support/leaks.py) finds what it is for."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from tests.support.leaks import LeakCheck


def _log_from_the_layer(message: str, *args: object, **kwargs: Any) -> None:
    """A record as if the layer's code had logged it (the check tells records by their
    source file: a logger's name depends on the process's service name)."""
    logger = logging.getLogger("service_undefined")
    path = str(Path("layers", "clientarea", "clientarea", "passwords.py").resolve())
    record = logger.makeRecord(logger.name, logging.WARNING, path, 1, message, args, None, **kwargs)
    logger.handle(record)


def test_a_mailed_token_in_a_log_line_is_a_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    check = LeakCheck()
    check.watch(monkeypatch)
    token = "100001.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    check.mailed([{"links": [f"https://example.com/reset-password#token={token}"]}])
    _log_from_the_layer("reset for %s", "someone")
    assert check.leaks() == []
    _log_from_the_layer("reset with %s", token)
    assert len(check.leaks()) == 1


def test_a_sent_password_in_a_log_extra_is_a_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    check = LeakCheck()
    check.watch(monkeypatch)
    check.sent(None, b'{"login": "demo", "password": "correct horse battery"}', {})
    _log_from_the_layer("login failed", extra={"attempt": "correct horse battery"})
    assert check.leaks()


def test_a_reply_naming_the_internals_fails() -> None:
    with pytest.raises(AssertionError, match="botocore"):
        LeakCheck().answered("GET", "/account", b'{"message": "botocore.exceptions.ClientError"}')


def test_a_presigned_upload_link_is_no_internal() -> None:
    body = b'{"url": "https://clientarea-local-recoverydocumentsbucket.s3.amazonaws.com/"}'
    LeakCheck().answered("POST", "/recovery/requests", body)
