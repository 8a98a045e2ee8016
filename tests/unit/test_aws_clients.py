"""One botocore session per thread for every AWS client a function creates
(clientarea.aws, clientarea.storage.base): a cold request that touches four tables and sends
a mail creates its clients from one set of loaded models, endpoint data and event
handlers, not five (about 50 ms of CPU each; docs/cold-start.md has the measurement)."""

from __future__ import annotations

import threading

import botocore.loaders
import pytest
from botocore.exceptions import UnknownServiceError
from clientarea import aws
from clientarea.storage import accounts, base, services, sessions
from clientarea.storage import tokens as token_store


def test_every_table_shares_one_botocore_client() -> None:
    models = [
        accounts.AccountModel,
        sessions.SessionModel,
        token_store.TokenModel,
        services.ServiceModel,
    ]
    clients = {id(model._get_connection().connection.client) for model in models}
    assert len(clients) == 1
    assert base.connection().client is accounts.AccountModel._get_connection().connection.client


def test_a_second_service_loads_no_shared_data_again(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded: list[str] = []  # the data files read, as "<service>/<version>/<name>" or "<name>"
    original = botocore.loaders.JSONFileLoader.load_file

    def load_file(self: botocore.loaders.JSONFileLoader, file_path: str) -> object:
        data = original(self, file_path)
        if data is not None:
            loaded.append(file_path.split("/data/", 1)[-1])
        return data

    monkeypatch.setattr(botocore.loaders.JSONFileLoader, "load_file", load_file)
    result: dict[str, list[str]] = {}

    def fresh_thread() -> None:  # a thread of its own: a session not yet used
        aws.session().create_client("dynamodb", region_name="eu-central-1")
        result["first"] = list(loaded)
        aws.boto3_session().client("sqs", region_name="eu-central-1")
        result["second"] = loaded[len(result["first"]) :]

    thread = threading.Thread(target=fresh_thread)
    thread.start()
    thread.join()
    shared = {"endpoints", "partitions", "sdk-default-configuration", "_retry"}
    assert shared <= set(result["first"])
    assert not shared & set(result["second"]), result["second"]
    assert any(name.startswith("sqs/") for name in result["second"])


@pytest.mark.parametrize("service", ["dynamodb", "sqs", "s3", "stepfunctions", "sesv2"])
def test_the_loader_loads_what_botocores_loads(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = botocore.loaders.Loader().load_service_model(service, "service-2")

    def scan(*_: object) -> None:
        raise AssertionError("listed every service to load one")

    loader = aws.ServiceLoader()
    monkeypatch.setattr(loader, "list_available_services", scan)
    assert loader.load_service_model(service, "service-2") == expected


def test_an_unknown_service_is_refused_as_botocore_refuses_it() -> None:
    with pytest.raises(UnknownServiceError) as ours:
        aws.ServiceLoader().load_service_model("no-such-service", "service-2")
    with pytest.raises(UnknownServiceError) as theirs:
        botocore.loaders.Loader().load_service_model("no-such-service", "service-2")
    assert str(ours.value) == str(theirs.value)


def test_clients_of_several_modules_come_from_one_boto3_session() -> None:
    # Each module creates its own client on first use (the mail queue's SQS, then the
    # documents' S3): boto3 adds its S3 methods to the client class once per boto3
    # session, and twice on one botocore session is an error (RuntimeError, a 500).
    errors: list[BaseException] = []

    def fresh_thread() -> None:
        try:
            aws.boto3_session().client("sqs", region_name="eu-central-1")
            aws.boto3_session().client("s3", region_name="eu-central-1")
            aws.boto3_session().client("s3", region_name="eu-central-1")
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=fresh_thread)
    thread.start()
    thread.join()
    assert errors == []
