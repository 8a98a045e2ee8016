"""The leak check every test runs under (tests/conftest.py, autouse): no reply names
the internals (a stack trace, an ARN, a table, the AWS libraries), and no secret the
test handled (a password it sent, a session token or access key it was given, a link
token it was mailed) appears in the functions' logs: in-process, the records of the
functions' code; over HTTP, what the dev server wrote to its log meanwhile."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

from tests.clients import DirectClient, HttpClient, InProcessClient

INTERNALS = ("Traceback", "arn:aws", "clientarea-local", 'File "', "botocore", "pynamodb")
# Fields whose values are secrets, in what a test sends and what it is answered.
SECRET_FIELD = re.compile(r"password|token|access_key|secret", re.IGNORECASE)
# Shorter values (a test's "x", "garbage") would match innocent text.
MIN_SECRET = 12
LINK = re.compile(r"https?://[^\s\"'<>]+")
SERVER_LOGS: dict[str, Path] = {}
FUNCTION_CODE = (
    f"{os.sep}layers{os.sep}clientarea{os.sep}",
    f"{os.sep}functions{os.sep}",
)  # the dev servers' log files, by URL (tests/conftest.py)


def _secret_values(value: Any, field: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _secret_values(item, str(key))
    elif isinstance(value, list):
        for item in value:
            yield from _secret_values(item, field)
    elif isinstance(value, str) and SECRET_FIELD.search(field) and len(value) >= MIN_SECRET:
        yield value


class LeakCheck:
    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.records: list[str] = []
        self.server_offsets: dict[str, int] = {}

    def watch(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Look at what every test client sends, is answered, and reads in the mailbox."""
        check = self
        handlers = logging.Logger.callHandlers

        def record(logger: logging.Logger, entry: logging.LogRecord) -> None:
            # Not a handler of ours on the logger: Powertools takes the first it finds.
            # Told by the code that logged it: a Powertools logger's name depends on the
            # service name its process had when it was made.
            if any(part in entry.pathname for part in FUNCTION_CODE):
                line = entry.getMessage() + " " + json.dumps(vars(entry), default=str)
                check.records.append(line)
            handlers(logger, entry)

        monkeypatch.setattr(logging.Logger, "callHandlers", record)
        for cls in (InProcessClient, HttpClient, DirectClient):
            send = cls.send

            def checked(
                client: Any,
                method: str,
                path: str,
                body: bytes | None,
                headers: dict[str, str],
                ip: str,
                *,
                _send: Any = send,
            ) -> Any:
                check.sent(getattr(client, "base_url", None), body, headers)
                reply = _send(client, method, path, body, headers, ip)
                check.answered(method, path, reply.body)
                return reply

            monkeypatch.setattr(cls, "send", checked)
        for cls in (InProcessClient, HttpClient):
            for name in ("mails", "all_mails"):
                read = getattr(cls, name)

                def noted(client: Any, *args: Any, _read: Any = read, **kw: Any) -> Any:
                    mails = _read(client, *args, **kw)
                    check.mailed(mails)
                    return mails

                monkeypatch.setattr(cls, name, noted)

    def sent(self, base_url: str | None, body: bytes | None, headers: dict[str, str]) -> None:
        if base_url in SERVER_LOGS and base_url not in self.server_offsets:
            self.server_offsets[base_url] = SERVER_LOGS[base_url].stat().st_size
        with suppress(ValueError, RecursionError):  # not JSON, or nested past reading
            self.secrets.update(_secret_values(json.loads(body or b"null")))
        self.secrets.update(_secret_values(headers))
        for name, value in headers.items():
            if name.lower() == "authorization" and len(value) >= MIN_SECRET + 7:
                self.secrets.add(value.removeprefix("Bearer "))

    def answered(self, method: str, path: str, body: bytes) -> None:
        # Links are not internals: a presigned upload names its bucket in its host.
        text = LINK.sub("<link>", body.decode("utf-8", errors="replace"))
        for leak in INTERNALS:
            assert leak not in text, f"{method} {path} leaks {leak!r}: {text[:500]}"
        with suppress(ValueError, RecursionError):  # not JSON, or nested past reading
            self.secrets.update(_secret_values(json.loads(body or b"null")))

    def mailed(self, mails: list[dict[str, Any]]) -> None:
        for mail in mails:
            for link in mail.get("links", []):
                if "#token=" in link:
                    self.secrets.add(link.split("#token=", 1)[1])

    def logged(self) -> list[str]:
        lines = list(self.records)
        for url, offset in self.server_offsets.items():
            with SERVER_LOGS[url].open("rb") as log:
                log.seek(offset)
                lines += log.read().decode("utf-8", errors="replace").splitlines()
        return lines

    def leaks(self) -> list[str]:
        """The log lines that carry a secret (the secret cut short)."""
        found = []
        for line in self.logged():
            for secret in self.secrets:
                if secret in line:
                    found.append(f"{secret[:6]}… in {line[:300]}")
        return found
