"""`python -m infra.local`: the whole API on 127.0.0.1 with moto as its AWS."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import threading
import warnings
from http.server import ThreadingHTTPServer
from urllib.parse import urlsplit

from moto.core.config import default_user_config
from moto.server import ThreadedMotoServer

from infra.local.deployment import DEV_FRONTEND_URL, MOTO_CONFIG, LocalDeployment
from infra.local.lambdas import SERVICE

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
    from clientarea.accounts import registration  # noqa: PLC0415
    from clientarea.roles import Role  # noqa: PLC0415 - only after the environment exists

    demo = registration.provision(
        email="demo@example.com", password=DEMO_PASSWORD, full_name="Demo Client", login="demo"
    )
    staff = registration.provision(
        email="staff@example.com",
        password=DEMO_PASSWORD,
        full_name="Support Staff",
        login="staff",
        role=Role.SUPPORT,
    )
    # An administrator too: approving a manual recovery is for role admin only.
    admin = registration.provision(
        email="admin@example.com",
        password=DEMO_PASSWORD,
        full_name="Staff Administrator",
        login="admin",
        role=Role.ADMIN,
    )
    held = seed_services(demo.client_number)
    return [
        f"  client: demo@example.com (login demo, client number {demo.client_number})",
        f"          holding {held}",
        f"  staff:  staff@example.com (login staff, client number {staff.client_number})",
        f"  admin:  admin@example.com (login admin, client number {admin.client_number})",
        f"  password for all three: {DEMO_PASSWORD}",
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


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"{url!r} is not an http(s) URL")
    return f"{parts.scheme}://{parts.netloc}"


def frontend_url(value: str) -> str:
    origin_of(value)  # refuses anything but an http(s) URL
    return value.rstrip("/")


def origin(value: str) -> str:
    """An --frontend-origin: scheme://host[:port], nothing after."""
    if origin_of(value) != value.rstrip("/"):
        raise argparse.ArgumentTypeError(f"{value!r} is not an origin (scheme://host[:port])")
    return value.rstrip("/")


def default_origins(frontend_url: str) -> list[str]:
    """The frontend URL's origin, and the same with localhost for 127.0.0.1 (or back):
    a browser treats the two as different origins, and people type either."""
    first = origin_of(frontend_url)
    twins = {"//127.0.0.1": "//localhost", "//localhost": "//127.0.0.1"}
    for host, twin in twins.items():
        if host + ":" in first or first.endswith(host):
            return [first, first.replace(host, twin, 1)]
    return [first]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make dev", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument(
        "--frontend-url",
        type=frontend_url,
        default=DEV_FRONTEND_URL,
        help=f"where emailed links point (the template's FrontendUrl; default {DEV_FRONTEND_URL})",
    )
    parser.add_argument(
        "--frontend-origin",
        type=origin,
        action="append",
        dest="frontend_origins",
        metavar="ORIGIN",
        help="a browser origin allowed to read the API (repeatable; the template's "
        "AllowedOrigins; default: the frontend URL's origin, with localhost and "
        "127.0.0.1 both). The first is the one API Gateway's own refusals carry.",
    )
    parser.add_argument(
        "--cession-timeout",
        type=int,
        default=None,
        help="seconds a cession waits for confirmations",
    )
    parser.add_argument("--no-reload", action="store_true", help="do not reload changed code")
    parser.add_argument(
        "--no-frontend",
        action="store_true",
        help="do not serve web/dist at --frontend-url (emailed links still point there)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.add_argument(
        "--verbose", action="store_true", help="also moto's and botocore's own logs"
    )
    parser.add_argument(
        "--enforce-iam",
        action="store_true",
        help="run each function with only its role's permissions (as the handler tests do)",
    )
    args = parser.parse_args(argv)
    args.frontend_origins = args.frontend_origins or default_origins(args.frontend_url)
    return args


def configure_logging(*, quiet: bool, verbose: bool) -> None:
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
    )
    if not verbose:
        # moto's server logs every AWS call as an HTTP request ("POST / HTTP/1.1" 200),
        # botocore every credential lookup, PynamoDB its settings file: noise next to one
        # line per API request. So is Powertools' warning on every invocation that
        # published no metric (deployed, it goes to CloudWatch unread).
        for name in ("werkzeug", "botocore", "boto3", "urllib3", "moto", "pynamodb"):
            logging.getLogger(name).setLevel(logging.WARNING)
        warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
        # The functions' metrics (EMF lines, CloudWatch's to read) are printed only with
        # --verbose; their own log lines always are.
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"


def run(listeners: list[ThreadingHTTPServer]) -> None:
    """Serve every listener, each on a thread of its own, until Ctrl-C."""
    threads = [
        threading.Thread(target=listener.serve_forever, name=f"listener-{i}", daemon=True)
        for i, listener in enumerate(listeners)
    ]
    for thread in threads:
        thread.start()
    try:
        while all(thread.is_alive() for thread in threads):
            threads[0].join(timeout=0.5)
    except KeyboardInterrupt:
        print("\nstopping", flush=True)
    finally:
        for listener in listeners:
            listener.shutdown()
            listener.server_close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging(quiet=args.quiet, verbose=args.verbose)

    moto = start_moto()
    overrides = {
        "FrontendUrl": args.frontend_url,
        "AllowedOrigins": ",".join(args.frontend_origins),
    }
    if args.cession_timeout is not None:
        overrides["CessionTimeoutSeconds"] = str(args.cession_timeout)
    deployment = LocalDeployment(overrides, enforce_iam=args.enforce_iam).start()
    credentials = seed()
    assert deployment.api is not None and deployment.queues is not None
    if not args.no_reload:
        SERVICE.start_watching()

    from infra.local.server import make_server  # noqa: PLC0415

    api = make_server(
        deployment.api,
        args.host,
        args.port,
        dev_origins=tuple(args.frontend_origins),
        queues=deployment.queues,
    )
    # Every listener of `make dev`: the API (with /_dev/*). Another one (the web
    # client's files on --frontend-url, say) is one more ThreadingHTTPServer here.
    listeners: list[ThreadingHTTPServer] = [api]
    url = f"http://{api.server_address[0]}:{api.server_address[1]}"
    if not args.no_frontend:
        # The reference web client (web/dist) on its own origin, with the headers of the
        # template's WebClientHeadersPolicy (infra/local/frontend.py).
        from infra.local.frontend import make_frontend_server  # noqa: PLC0415

        listeners.append(
            make_frontend_server(
                args.frontend_url, api_url=url, upload_origin=os.environ["AWS_ENDPOINT_URL"]
            )
        )
    deployment.queues.start()
    print(f"clientarea dev API listening on {url}", flush=True)
    if not args.no_frontend:
        print(f"  client area (web/dist): {args.frontend_url}", flush=True)
    print(f"  mail: {url}/_dev/mail   docs: {url}/_dev/docs", flush=True)
    print(f"  links in mails point at {args.frontend_url}", flush=True)
    print(f"  browsers may read the API from {', '.join(args.frontend_origins)}", flush=True)
    print(f"  AWS (moto): {os.environ['AWS_ENDPOINT_URL']}", flush=True)
    print("\n".join(credentials), flush=True)
    try:
        run(listeners)
    finally:
        deployment.queues.stop()
        SERVICE.stop()
        moto.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
