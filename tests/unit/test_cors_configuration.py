"""clientarea.config.allowed_origins: the list a deployment gives, or a loud refusal."""

from __future__ import annotations

import pytest
from clientarea import config, cors, web


def test_the_configured_origins_in_order(monkeypatch):
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://app.example, https://staging.example:8443")
    assert config.allowed_origins() == ("https://app.example", "https://staging.example:8443")


def test_no_configuration_allows_no_origin(monkeypatch):
    monkeypatch.delenv("ALLOWED_ORIGINS", raising=False)
    assert config.allowed_origins() == ()
    assert cors.cors_config() is None


@pytest.mark.parametrize(
    "value", ["*", "null", "https://app.example/", "app.example", "https://*.example"]
)
def test_anything_but_origins_fails_the_cold_start(monkeypatch, value):
    # A wildcard or a typo must not open the API to every page, nor close it silently
    monkeypatch.setenv("ALLOWED_ORIGINS", f"https://app.example,{value}")
    with pytest.raises(RuntimeError, match="is not an origin"):
        web.create_app()
