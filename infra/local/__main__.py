"""`python -m infra.local`: the whole API on 127.0.0.1 with moto as its AWS."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys

from moto.core.config import default_user_config
from moto.server import ThreadedMotoServer

from infra.local.deployment import MOTO_CONFIG, LocalDeployment

DEMO_PASSWORD = "clientarea-dev-password"  # noqa: S105 - documented local-only credential


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_moto() -> ThreadedMotoServer:
    port = free_port()
    # The state machine executor calls the other services at localhost:$MOTO_PORT.
    os.environ["MOTO_PORT"] = str(port)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    # The server shares this process's backends: configure them as the tests do.
    default_user_config.update(MOTO_CONFIG)
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    return server


def seed() -> list[str]:
    from clientarea import accounts  # noqa: PLC0415 - only after the environment exists

    demo = accounts.provision(
        email="demo@example.com", password=DEMO_PASSWORD, full_name="Demo Client", login="demo"
    )
    staff = accounts.provision(
        email="staff@example.com",
        password=DEMO_PASSWORD,
        full_name="Support Staff",
        login="staff",
        role=accounts.Role.SUPPORT,
    )
    held = seed_services(demo.client_number)
    return [
        f"  client: demo@example.com (login demo, client number {demo.client_number})",
        f"          holding {held}",
        f"  staff:  staff@example.com (login staff, client number {staff.client_number})",
        f"  password for both: {DEMO_PASSWORD}",
    ]


def seed_services(client_number: int) -> str:
    """The demo client's two active services (API.md: the dev server's seed)."""
    from clientarea import services  # noqa: PLC0415 - only after the environment exists

    plans = (("Hosting Pro", "demo-shop.example"), ("Hosting Start", "demo.example"))
    seeded = [
        services.provision(owner_client_number=client_number, product=product, domain=domain)
        for product, domain in plans
    ]
    return ", ".join(f"{s.product} {s.domain} ({s.service_id})" for s in seeded)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make dev", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument(
        "--cession-timeout",
        type=int,
        default=None,
        help="seconds a cession waits for confirmations",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.add_argument(
        "--enforce-iam",
        action="store_true",
        help="run each function with only its role's permissions (as the handler tests do)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")

    moto = start_moto()
    overrides = {}
    if args.cession_timeout is not None:
        overrides["CessionTimeoutSeconds"] = str(args.cession_timeout)
    deployment = LocalDeployment(overrides, enforce_iam=args.enforce_iam).start()
    credentials = seed()
    assert deployment.api is not None and deployment.queues is not None

    from infra.local.server import make_server  # noqa: PLC0415

    server = make_server(deployment.api, args.host, args.port)
    deployment.queues.start()
    url = f"http://{server.server_address[0]}:{server.server_address[1]}"
    print(f"clientarea dev API listening on {url}", flush=True)
    print(f"  mail: {url}/_dev/mail   docs: {url}/_dev/docs", flush=True)
    print("\n".join(credentials), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nstopping", flush=True)
    finally:
        server.server_close()
        deployment.queues.stop()
        moto.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
