"""``TrackingClient``'s registry methods: MLflow's names on the registry store."""

from __future__ import annotations

import pytest

from mltrail import TrackingClient
from mltrail._errors import InvalidValueError, NotFoundError, StoreError
from mltrail.tracking._context import get_user


@pytest.fixture
def client() -> TrackingClient:
    client = TrackingClient()
    client.create_registered_model("wine", tags={"team": "risk"})
    for number in (1, 2):
        client.create_model_version(
            "wine", f"/models/{number}", run_id=f"run{number}", tags={"n": number}
        )
    return client


def test_alias_moves_record_the_process_user(client: TrackingClient) -> None:
    client.set_registered_model_alias("wine", "champion", 1)
    client.delete_registered_model_alias("wine", "champion")
    assert {c.user_id for c in client.get_alias_history("wine")} == {get_user()}


def test_deleting_a_version_records_who_removed_its_aliases(
    client: TrackingClient,
) -> None:
    client.set_registered_model_alias("wine", "champion", 2)
    client.delete_model_version("wine", 2)
    last = client.get_alias_history("wine", "champion")[-1]
    assert (last.version, last.user_id) == (None, get_user())


def test_copy_model_version_creates_the_target_once(client: TrackingClient) -> None:
    client.set_registered_model_alias("wine", "champion", 2)
    first = client.copy_model_version("models:/wine@champion", "prod")
    second = client.copy_model_version("models:/wine/latest", "prod")
    assert (first.version, second.version) == (1, 2)
    assert first.source == "models:/wine/2"
    assert (first.run_id, first.tags) == ("run2", {"n": "2"})
    assert client.get_model_version_download_uri("prod", 1) == "/models/2"


def test_copy_model_version_needs_a_models_uri(client: TrackingClient) -> None:
    with pytest.raises(InvalidValueError, match="model URI must be"):
        client.copy_model_version("runs:/abc/model", "prod")
    with pytest.raises(NotFoundError):
        client.get_registered_model("prod")


def test_model_version_stages_are_mlflows(client: TrackingClient) -> None:
    assert client.get_model_version_stages("wine", "2") == [
        "None",
        "Staging",
        "Production",
        "Archived",
    ]
    with pytest.raises(NotFoundError):
        client.get_model_version_stages("wine", 3)


def test_a_store_without_a_registry_is_a_clear_error() -> None:
    client = TrackingClient()
    client._opened_store = object()  # type: ignore[assignment]  # a store of runs only
    with pytest.raises(StoreError, match="has no model registry"):
        client.get_registered_model("wine")
