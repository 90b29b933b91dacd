"""``TrackingClient`` on an ``http://`` URI: the registry through ``RestStore``."""

from __future__ import annotations

from pathlib import Path

import pytest

from mltrail import TrackingClient
from mltrail._errors import ConflictError, InvalidValueError, NotFoundError
from tests.server._live import live_server

pytestmark = pytest.mark.slow


def test_the_registry_works_through_a_server(tmp_path: Path) -> None:
    with live_server(tmp_path / "server") as server:
        client = TrackingClient(server.url)
        created = client.create_registered_model(
            "wine", tags={"team": "risk"}, description="red"
        )
        assert (created.name, created.tags) == ("wine", {"team": "risk"})
        with pytest.raises(ConflictError):
            client.create_registered_model("wine")
        for number in (1, 2):
            version = client.create_model_version(
                "wine", f"s3://bucket/wine/{number}", tags={"n": number}
            )
            assert version.version == number
        client.set_registered_model_alias("wine", "champion", 1)
        client.set_registered_model_alias("wine", "champion", 2)
        assert client.get_model_version_by_alias("wine", "champion").version == 2
        history = client.get_alias_history("wine", "champion")
        assert [(c.previous_version, c.version) for c in history] == [(None, 1), (1, 2)]
        assert history[0].user_id == "anonymous"
        client.set_registered_model_tag("wine", "tier", "1")
        client.delete_registered_model_tag("wine", "team")
        client.set_model_version_tag("wine", 1, "k", "v")
        client.delete_model_version_tag("wine", 1, "n")
        assert client.get_model_version("wine", 1).tags == {"k": "v"}
        client.update_model_version("wine", 1, description="first")
        client.update_registered_model("wine", description="white")
        moved = client.transition_model_version_stage("wine", 1, "Staging")
        assert moved.current_stage == "Staging"
        assert [v.version for v in client.get_latest_versions("wine", ["Staging"])] == [
            1
        ]
        page = client.search_registered_models("name = 'wine'", max_results=1)
        assert [m.description for m in page] == ["white"]
        versions = client.search_model_versions("name = 'wine'", max_results=1)
        assert [v.version for v in versions] == [2]
        assert versions.token is not None
        assert client.get_model_version_download_uri("wine", 2) == "s3://bucket/wine/2"
        with pytest.raises(InvalidValueError):
            client.get_model_version_by_alias("wine", "missing")
        client.delete_registered_model_alias("wine", "champion")
        client.delete_model_version("wine", 2)
        with pytest.raises(NotFoundError):
            client.get_model_version("wine", 2)
        renamed = client.rename_registered_model("wine", "wine-2")
        assert renamed.name == "wine-2"
        client.delete_registered_model("wine-2")
        assert list(client.search_registered_models()) == []
