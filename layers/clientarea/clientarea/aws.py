"""The botocore session our AWS clients are created from, one per thread.

Creating a client loads the service's model, the endpoint rules and the partitions,
and registers botocore's ~130 built-in event handlers: about 50 ms of a cold start,
paid again by every new botocore session. PynamoDB creates one session per model class
(clientarea.storage.base shares one connection instead), and botocore's loader lists every
service's directory (~420 of them) before loading the one asked for, to check that it
exists: ~20 ms of each client's creation (boto/botocore#3687, open upstream, removes
that scan from the path where the service exists; `ServiceLoader` does the same here
until it lands).
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

import botocore.session
from botocore.exceptions import DataNotFoundError
from botocore.loaders import Loader, instance_cache

if TYPE_CHECKING:
    import boto3

_local = threading.local()


class ServiceLoader(Loader):
    """botocore's `Loader`, without the scan of every service's directory when the
    service asked for is there. When it is not, botocore's own answer
    (`UnknownServiceError`, naming the services it knows) is unchanged."""

    @instance_cache
    def load_service_model(
        self, service_name: str, type_name: str, api_version: str | None = None
    ) -> Any:
        try:
            version = api_version or self.determine_latest_version(service_name, type_name)
        except DataNotFoundError:
            return super().load_service_model(service_name, type_name, api_version)
        model = self.load_data(os.path.join(service_name, version, type_name))
        # The rest of botocore's load_service_model, as it is (the "sdk" extras merged
        # into the model); botocore-stubs do not declare these two private names.
        extras = self._find_extras(service_name, type_name, version)  # type: ignore[attr-defined]
        self._extras_processor.process(model, extras)  # type: ignore[attr-defined]
        return model


def _loader(session: botocore.session.Session) -> ServiceLoader:
    """The loader botocore would create (`AWS_DATA_PATH` and all), as a ServiceLoader."""
    data_path = session.get_config_variable("data_path")
    extra = (
        [os.path.expanduser(os.path.expandvars(p)) for p in data_path.split(os.pathsep)]
        if data_path
        else []
    )
    return ServiceLoader(extra_search_paths=extra)


def session() -> botocore.session.Session:
    """This thread's botocore session (botocore sessions are not thread-safe; Lambda
    runs one thread, the dev server one per execution environment)."""
    current: botocore.session.Session | None = getattr(_local, "session", None)
    if current is None:
        current = botocore.session.get_session()
        current.register_component("data_loader", _loader(current))
        _local.session = current
    return current


def boto3_session() -> boto3.Session:
    """This thread's boto3 session, on its botocore session: its clients share the
    models, endpoint data and event handlers the DynamoDB client already loaded, where
    `boto3.client(...)` would load them all again into a default session of its own.
    One per thread: each boto3 session registers boto3's handlers on the botocore
    session, and twice makes S3's client creation fail (its methods added twice)."""
    current: boto3.Session | None = getattr(_local, "boto3", None)
    if current is None:
        import boto3  # noqa: PLC0415 - only the requests that call another service pay for it

        current = boto3.Session(botocore_session=session())
        _local.boto3 = current
    return current
