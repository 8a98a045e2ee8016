"""`make dev`'s flags: where mailed links point and which browser origins may read."""

from __future__ import annotations

import pytest

from infra.local.__main__ import parse_args


def test_by_default_links_point_at_the_web_client_and_both_its_origins_may_read():
    args = parse_args([])
    assert args.frontend_url == "http://127.0.0.1:5173"
    assert args.frontend_origins == ["http://127.0.0.1:5173", "http://localhost:5173"]


def test_origins_follow_the_frontend_url_unless_given():
    assert parse_args(["--frontend-url", "http://localhost:8080/app/"]).frontend_origins == [
        "http://localhost:8080",
        "http://127.0.0.1:8080",
    ]
    assert parse_args(["--frontend-url", "https://staging.example.com"]).frontend_origins == [
        "https://staging.example.com"
    ]
    given = parse_args(
        ["--frontend-origin", "https://a.example", "--frontend-origin", "http://b.example:3000"]
    )
    assert given.frontend_origins == ["https://a.example", "http://b.example:3000"]


@pytest.mark.parametrize(
    "bad", ["*", "null", "https://a.example/path", "ftp://a.example", "a.example"]
)
def test_an_origin_is_scheme_host_and_port_only(bad, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--frontend-origin", bad])
