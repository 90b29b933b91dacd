"""The registry's JSON wire format reads back what it writes."""

from __future__ import annotations

from mltrail._registry_entities import AliasChange, ModelVersion, RegisteredModel
from mltrail.store._registry_wire import (
    alias_change_from_json,
    alias_change_to_json,
    model_version_from_json,
    model_version_to_json,
    registered_model_from_json,
    registered_model_to_json,
)

FULL_VERSION = ModelVersion(
    name="wine",
    version=3,
    creation_timestamp=1,
    last_updated_timestamp=2,
    description="retrained",
    user_id="ada",
    current_stage="Production",
    source="runs:/abc/model",
    run_id="abc",
    status="READY",
    status_message="ok",
    tags={"validated": "yes"},
    run_link="http://runs/abc",
    aliases=["champion"],
    signature={"inputs": "[]", "outputs": "[]"},
    model_id="m-123",
)


def test_a_full_version_round_trips() -> None:
    data = model_version_to_json(FULL_VERSION)
    assert data["version"] == "3"
    assert model_version_from_json(data) == FULL_VERSION


def test_empty_fields_are_left_out_and_read_back_empty() -> None:
    version = ModelVersion("wine", 1, 1, 1)
    data = model_version_to_json(version)
    assert not {"description", "user_id", "status_message", "model_id"} & set(data)
    assert "signature" not in data
    assert model_version_from_json(data) == version


def test_a_registered_model_round_trips() -> None:
    model = RegisteredModel(
        "wine",
        1,
        2,
        description="red",
        latest_versions=[FULL_VERSION],
        tags={"team": "risk"},
        aliases={"champion": 3},
    )
    data = registered_model_to_json(model)
    assert data["aliases"] == [{"alias": "champion", "version": "3"}]
    assert registered_model_from_json(data) == model
    bare = RegisteredModel("iris", 1, 1)
    assert registered_model_from_json(registered_model_to_json(bare)) == bare


def test_malformed_tag_lists_read_as_no_tags() -> None:
    data = model_version_to_json(ModelVersion("wine", 1, 1, 1))
    data["tags"] = "not a list"
    assert model_version_from_json(data).tags == {}
    data["tags"] = [{"value": "no key"}, "not an object", {"key": "k"}]
    assert model_version_from_json(data).tags == {"k": ""}


def test_alias_changes_round_trip() -> None:
    for change in (
        AliasChange("wine", "champion", 2, 1, "ada", 5),
        AliasChange("wine", "champion", None, 2, "bob", 6),
        AliasChange("wine", "champion", 1, None, "eve", 4),
    ):
        assert alias_change_from_json(alias_change_to_json(change)) == change
