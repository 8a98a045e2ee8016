"""clientarea.services: who holds which service, as the other flows read it."""

from __future__ import annotations

import pytest
from clientarea import services
from clientarea.errors import NotFound

from tests.support.accounts import log_in


def test_list_for_owner_gives_each_account_its_own_services(deployment):
    a = services.provision(owner_client_number=100101, product="Hosting Pro", domain="b.example")
    b = services.provision(owner_client_number=100101, product="Hosting Start", domain="a.example")
    services.provision(owner_client_number=100102, product="Hosting Pro", domain="c.example")
    mine = services.list_for_owner(100101)
    assert [s.service_id for s in mine] == [b.service_id, a.service_id]  # by domain
    assert mine[0].as_dict() == {
        "service_id": b.service_id,
        "product": "Hosting Start",
        "domain": "a.example",
        "status": "active",
    }
    assert services.list_for_owner(100999) == []


def test_find_by_domain_normalises_and_refuses_to_guess(deployment):
    services.provision(owner_client_number=100201, product="Hosting", domain="Zażółć.Example.")
    services.provision(owner_client_number=100202, product="Hosting", domain="shared.example")
    services.provision(owner_client_number=100203, product="Hosting", domain="shared.example")
    assert services.find_by_domain("zażółć.example") == 100201
    assert services.find_by_domain(" XN--ZA-6JA4F8N1L.EXAMPLE ") == 100201
    assert services.find_by_domain("nobody.example") is None
    assert services.find_by_domain("shared.example") is None  # two accounts: no hint
    assert services.find_by_domain("not a domain") is None
    assert services.find_by_domain("") is None


def test_get_reads_the_item_and_unknown_ids_are_not_found(deployment):
    made = services.provision(owner_client_number=100301, product="Hosting", domain="x.example")
    assert services.get(made.service_id) == made
    with pytest.raises(NotFound):
        services.get("svc-0000000000000000")
    with pytest.raises(ValueError, match="not a domain"):
        services.provision(owner_client_number=100301, product="Hosting", domain=" ")


def test_the_dev_server_seeds_two_services_for_the_demo_client(http_client):
    token = log_in(http_client, "demo", "clientarea-dev-password")
    held = http_client.get("/services", token=token).json()
    assert {(s["product"], s["domain"], s["status"]) for s in held} >= {
        ("Hosting Pro", "demo-shop.example", "active"),
        ("Hosting Start", "demo.example", "active"),
    }
