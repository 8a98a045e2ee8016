"""POST /_dev/clock: the dev server's clock moves forward, freezes and resumes."""

from __future__ import annotations

import time

import pytest


def test_advance_moves_now_forward_by_the_given_seconds(client):
    before = client.server_now()
    after = client.advance_clock(3600)
    assert 3600 <= (after - before).total_seconds() <= 3602


def test_a_frozen_clock_stands_still_and_resumes_where_it_stopped(client):
    with client.frozen_clock() as frozen:
        time.sleep(1.1)
        assert client.server_now() == frozen
        assert (client.advance_clock(59) - frozen).total_seconds() == 59
    # Resumed from the frozen instant (+59 s): never back to where it was before.
    resumed = client.server_now()
    assert 59 <= (resumed - frozen).total_seconds() <= 61


@pytest.mark.parametrize(
    "body",
    [{}, {"advance_seconds": -1}, {"advance_seconds": "soon"}, {"freeze": "yes"}, []],
)
def test_bad_clock_requests_are_422(http_client, body):
    reply = http_client.session.post(http_client.base_url + "/_dev/clock", json=body, timeout=10)
    assert reply.status_code == 422
    assert reply.json()["code"] == "validation_error"
