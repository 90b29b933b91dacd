"""SqlStore's model registry: models, versions, tags, stages, aliases and history."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mltrail._errors import ConflictError, InvalidValueError, NotFoundError
from mltrail.store import _schema as schema
from mltrail.store._schema import alias_history, model_versions, registered_models
from mltrail.store._sql import SqlStore

SOURCE = "runs:/0123456789abcdef0123456789abcdef/model"


def _count(store: SqlStore, table: sa.Table) -> int:
    with store._engine.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        )


def _model_with_versions(store: SqlStore, name: str = "wine", count: int = 2) -> None:
    store.create_registered_model(name)
    for number in range(count):
        store.create_model_version(name, f"{SOURCE}{number}", run_id=f"run{number}")


# Registered models.


def test_create_registered_model_reads_back(store: SqlStore) -> None:
    created = store.create_registered_model(
        "wine", tags={"team": "risk", "tier": "1"}, description="red or white"
    )
    got = store.get_registered_model("wine")
    assert got == created
    assert got.tags == {"team": "risk", "tier": "1"}
    assert got.description == "red or white"
    assert got.creation_timestamp == got.last_updated_timestamp > 0
    assert got.latest_versions == []
    assert got.aliases == {}


def test_creating_a_taken_name_is_a_conflict_and_changes_nothing(
    store: SqlStore,
) -> None:
    store.create_registered_model("wine", description="first")
    with pytest.raises(ConflictError, match="'wine' already exists"):
        store.create_registered_model("wine", description="second")
    assert store.get_registered_model("wine").description == "first"
    assert _count(store, registered_models) == 1


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("", "non-empty str"),
        ("   ", "not only spaces"),
        ("a/b", "without '/' or ':'"),
        ("a:b", "without '/' or ':'"),
        ("..", "not a relative path"),
        ("./a", "without '/'"),
        (3, "non-empty str"),
        ("x" * 501, "at most 500"),
    ],
    ids=["empty", "spaces", "slash", "colon", "dots", "relative", "int", "long"],
)
def test_invalid_model_names_are_rejected(
    store: SqlStore, name: object, match: str
) -> None:
    with pytest.raises(InvalidValueError, match=match):
        store.create_registered_model(name)  # type: ignore[arg-type]  # bad on purpose
    assert _count(store, registered_models) == 0


def test_unknown_model_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError, match="registered model 'nope' does not exist"):
        store.get_registered_model("nope")


def test_update_registered_model_replaces_the_description(store: SqlStore) -> None:
    created = store.create_registered_model("wine", description="old")
    updated = store.update_registered_model("wine", description="new")
    assert updated.description == "new"
    assert updated.last_updated_timestamp >= created.last_updated_timestamp
    assert store.update_registered_model("wine", description=None).description == ""


def test_rename_keeps_versions_aliases_and_history(store: SqlStore) -> None:
    _model_with_versions(store)
    store.set_registered_model_alias("wine", "champion", 2, user_id="ada")
    renamed = store.rename_registered_model("wine", "red-wine")
    assert renamed.name == "red-wine"
    assert renamed.aliases == {"champion": 2}
    assert store.get_model_version("red-wine", 1).name == "red-wine"
    assert [c.name for c in store.get_alias_history("red-wine")] == ["red-wine"]
    with pytest.raises(NotFoundError):
        store.get_registered_model("wine")


def test_rename_to_a_taken_name_is_a_conflict(store: SqlStore) -> None:
    store.create_registered_model("a")
    store.create_registered_model("b")
    with pytest.raises(ConflictError, match="'b' already exists"):
        store.rename_registered_model("a", "b")
    assert store.get_registered_model("a").name == "a"


def test_rename_to_the_same_name_is_allowed(store: SqlStore) -> None:
    store.create_registered_model("a")
    assert store.rename_registered_model("a", "a").name == "a"


def test_delete_registered_model_removes_everything_it_owns(store: SqlStore) -> None:
    _model_with_versions(store)
    store.set_registered_model_tag("wine", "k", "v")
    store.set_model_version_tag("wine", 1, "k", "v")
    store.set_registered_model_alias("wine", "champion", 1)
    store.delete_registered_model("wine")
    with pytest.raises(NotFoundError):
        store.get_registered_model("wine")
    assert _count(store, model_versions) == 0
    assert _count(store, alias_history) == 0
    store.create_registered_model("wine")
    assert store.create_model_version("wine", SOURCE).version == 1


def test_registered_model_tags_are_set_replaced_and_deleted(store: SqlStore) -> None:
    store.create_registered_model("wine")
    store.set_registered_model_tag("wine", "team", "risk")
    store.set_registered_model_tag("wine", "team", "growth")
    store.set_registered_model_tag("wine", "tier", "1")
    assert store.get_registered_model("wine").tags == {"team": "growth", "tier": "1"}
    store.delete_registered_model_tag("wine", "team")
    store.delete_registered_model_tag("wine", "missing")  # no error, as in MLflow
    assert store.get_registered_model("wine").tags == {"tier": "1"}


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("", "v", "tag key must be a non-empty str"),
        ("k" * 251, "v", "at most 250"),
        ("k", 1, "must be a str"),
        ("k", "v" * 100_001, "at most 100,000"),
        ("k", "a\x00b", "without NUL"),
    ],
    ids=["empty-key", "long-key", "int-value", "long-value", "nul"],
)
def test_invalid_tags_are_rejected(
    store: SqlStore, key: str, value: object, match: str
) -> None:
    store.create_registered_model("wine")
    with pytest.raises(InvalidValueError, match=match):
        store.set_registered_model_tag("wine", key, value)  # type: ignore[arg-type]  # bad on purpose
    assert store.get_registered_model("wine").tags == {}


def test_tag_on_unknown_model_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError):
        store.set_registered_model_tag("nope", "k", "v")


# Model versions.


def test_versions_are_numbered_from_one(store: SqlStore) -> None:
    store.create_registered_model("wine")
    first = store.create_model_version(
        "wine",
        SOURCE,
        run_id="0123456789abcdef0123456789abcdef",
        tags={"validated": "yes"},
        run_link="http://x/run",
        description="baseline",
        user_id="ada",
        signature={"inputs": '[{"type": "double"}]'},
    )
    second = store.create_model_version("wine", SOURCE)
    assert (first.version, second.version) == (1, 2)
    got = store.get_model_version("wine", "1")
    assert got == first
    assert got.tags == {"validated": "yes"}
    assert got.user_id == "ada"
    assert got.status == "READY"
    assert got.current_stage == "None"
    assert got.signature == {"inputs": '[{"type": "double"}]'}
    assert got.run_link == "http://x/run"
    assert second.run_id == ""


def test_creating_a_version_bumps_the_model(store: SqlStore) -> None:
    created = store.create_registered_model("wine")
    version = store.create_model_version("wine", SOURCE)
    model = store.get_registered_model("wine")
    assert model.last_updated_timestamp == version.creation_timestamp
    assert model.last_updated_timestamp >= created.last_updated_timestamp


def test_version_of_unknown_model_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError, match="registered model 'nope'"):
        store.create_model_version("nope", SOURCE)


@pytest.mark.parametrize("source", ["", None, 3], ids=["empty", "none", "int"])
def test_version_needs_a_source(store: SqlStore, source: object) -> None:
    store.create_registered_model("wine")
    with pytest.raises(InvalidValueError, match="source must be a non-empty"):
        store.create_model_version("wine", source)  # type: ignore[arg-type]  # bad on purpose


@pytest.mark.parametrize("version", [0, -1, "abc", "1.5", True, None, 2**31], ids=str)
def test_invalid_version_numbers_are_rejected(store: SqlStore, version: object) -> None:
    _model_with_versions(store)
    with pytest.raises(InvalidValueError, match="model version must be a positive"):
        store.get_model_version("wine", version)  # type: ignore[arg-type]  # bad on purpose


def test_unknown_version_is_not_found(store: SqlStore) -> None:
    _model_with_versions(store)
    with pytest.raises(NotFoundError, match="model version 'wine/9' does not exist"):
        store.get_model_version("wine", 9)


def test_deleted_version_is_gone_and_its_number_never_reused(store: SqlStore) -> None:
    _model_with_versions(store)
    store.set_registered_model_alias("wine", "champion", 2, user_id="ada")
    store.delete_model_version("wine", 2, user_id="bob")
    with pytest.raises(NotFoundError):
        store.get_model_version("wine", 2)
    assert store.get_registered_model("wine").aliases == {}
    assert store.create_model_version("wine", SOURCE).version == 3
    last = store.get_alias_history("wine")[-1]
    assert (last.previous_version, last.version, last.user_id) == (2, None, "bob")
    with pytest.raises(NotFoundError):
        store.delete_model_version("wine", 2)


def test_update_model_version_replaces_the_description(store: SqlStore) -> None:
    _model_with_versions(store)
    assert store.update_model_version("wine", 1, description="x").description == "x"
    assert store.get_model_version("wine", 1).description == "x"


def test_model_version_tags_are_set_and_deleted(store: SqlStore) -> None:
    _model_with_versions(store)
    store.set_model_version_tag("wine", 1, "validated", "no")
    store.set_model_version_tag("wine", 1, "validated", "yes")
    assert store.get_model_version("wine", 1).tags == {"validated": "yes"}
    assert store.get_model_version("wine", 2).tags == {}
    store.delete_model_version_tag("wine", 1, "validated")
    store.delete_model_version_tag("wine", 1, "validated")
    assert store.get_model_version("wine", 1).tags == {}


def test_download_uri_is_the_source_or_the_resolved_location(store: SqlStore) -> None:
    store.create_registered_model("wine")
    store.create_model_version("wine", SOURCE)
    store.create_model_version("wine", "models:/other/1", storage_location="/m/1")
    assert store.get_model_version_download_uri("wine", 1) == SOURCE
    assert store.get_model_version_download_uri("wine", 2) == "/m/1"


# Stages.


def test_transition_stage_accepts_any_case(store: SqlStore) -> None:
    _model_with_versions(store)
    moved = store.transition_model_version_stage("wine", 1, "production")
    assert moved.current_stage == "Production"


def test_transition_can_archive_the_others_in_the_stage(store: SqlStore) -> None:
    _model_with_versions(store, count=3)
    store.transition_model_version_stage("wine", 1, "Production")
    store.transition_model_version_stage("wine", 2, "Production")
    store.transition_model_version_stage(
        "wine", 3, "Production", archive_existing_versions=True
    )
    stages = [store.get_model_version("wine", n).current_stage for n in (1, 2, 3)]
    assert stages == ["Archived", "Archived", "Production"]


@pytest.mark.parametrize(
    ("stage", "archive", "match"),
    [
        ("Bogus", False, "one of None, Staging, Production, Archived"),
        ("Archived", True, "'Staging' or 'Production' when archive"),
        ("Staging", "yes", "must be a bool"),
    ],
    ids=["unknown", "archive-archived", "archive-not-bool"],
)
def test_invalid_transitions_are_rejected(
    store: SqlStore, stage: str, archive: object, match: str
) -> None:
    _model_with_versions(store)
    with pytest.raises(InvalidValueError, match=match):
        store.transition_model_version_stage(
            "wine",
            1,
            stage,
            archive_existing_versions=archive,  # type: ignore[arg-type]  # bad on purpose
        )
    assert store.get_model_version("wine", 1).current_stage == "None"


def test_latest_versions_are_the_newest_per_stage(store: SqlStore) -> None:
    _model_with_versions(store, count=4)
    store.transition_model_version_stage("wine", 1, "Production")
    store.transition_model_version_stage("wine", 2, "Production")
    store.transition_model_version_stage("wine", 3, "Staging")
    latest = store.get_latest_versions("wine")
    assert [(v.current_stage, v.version) for v in latest] == [
        ("None", 4),
        ("Staging", 3),
        ("Production", 2),
    ]
    production = store.get_latest_versions("wine", ["production"])
    assert [v.version for v in production] == [2]
    assert store.get_latest_versions("wine", "Archived") == []
    model = store.get_registered_model("wine")
    assert [v.version for v in model.latest_versions] == [4, 3, 2]


# Search.


def test_search_registered_models_filters_orders_and_pages(store: SqlStore) -> None:
    for name in ("wine-white", "wine-red", "iris", "Wine-rose"):
        store.create_registered_model(name, tags={"kind": name.split("-")[0]})
    found = store.search_registered_models(filter_string="name LIKE 'wine%'")
    assert [m.name for m in found] == ["wine-red", "wine-white"]
    found = store.search_registered_models(filter_string="name ILIKE 'wine%'")
    assert [m.name for m in found] == ["Wine-rose", "wine-red", "wine-white"]
    found = store.search_registered_models(filter_string="tags.kind = 'iris'")
    assert [m.name for m in found] == ["iris"]
    first = store.search_registered_models(max_results=3, order_by=["name DESC"])
    assert [m.name for m in first] == ["wine-white", "wine-red", "iris"]
    rest = store.search_registered_models(
        max_results=3, order_by=["name DESC"], page_token=first.token
    )
    assert [m.name for m in rest] == ["Wine-rose"]
    assert rest.token is None


def test_search_registered_models_orders_by_update_time(store: SqlStore) -> None:
    for name in ("a", "b", "c"):
        store.create_registered_model(name)
    store.set_registered_model_tag("a", "touched", "yes")
    found = store.search_registered_models(order_by=["last_updated_timestamp DESC"])
    assert found[0].name == "a"
    found = store.search_registered_models(order_by=["timestamp DESC"])
    assert found[0].name == "a"


def test_models_without_the_prompt_tag_are_not_prompts(store: SqlStore) -> None:
    store.create_registered_model("model")
    store.create_registered_model("prompt", tags={"mlflow.prompt.is_prompt": "true"})
    no_prompts = "tags.`mlflow.prompt.is_prompt` != 'true'"
    found = store.search_registered_models(filter_string=no_prompts)
    assert [m.name for m in found] == ["model"]
    only = "tag.`mlflow.prompt.is_prompt` = 'true'"
    assert [m.name for m in store.search_registered_models(filter_string=only)] == [
        "prompt"
    ]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_results": 1001}, "from 1 to 1,000"),
        ({"max_results": 0}, "from 1 to 1,000"),
        ({"filter_string": "params.x = '1'"}, "a prefix: tags., attributes."),
        ({"filter_string": "run_id = 'x'"}, "an attribute: name"),
        ({"order_by": ["version_number"]}, "one of name, creation_timestamp"),
        ({"order_by": ["name", "name DESC"]}, "each key at most once"),
        ({"order_by": ["name SIDEWAYS"]}, "ASC, DESC or the end"),
        ({"order_by": [3]}, "order_by entry must be a str"),
        ({"page_token": "bogus"}, "a token returned by a previous search"),
        ({"filter_string": 3}, "filter_string must be a str"),
    ],
    ids=[
        "too-many",
        "zero",
        "params",
        "version-key",
        "order-key",
        "order-twice",
        "order-direction",
        "order-int",
        "token",
        "filter-int",
    ],
)
def test_invalid_model_searches_are_rejected(
    store: SqlStore, kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(InvalidValueError, match=match):
        store.search_registered_models(**kwargs)  # type: ignore[arg-type]  # bad on purpose


def test_search_model_versions_filters_and_orders(store: SqlStore) -> None:
    _model_with_versions(store, "wine", 3)
    _model_with_versions(store, "iris", 2)
    store.set_model_version_tag("wine", 2, "validated", "yes")
    store.delete_model_version("wine", 1)
    found = store.search_model_versions()
    assert [(v.name, v.version) for v in found] == [
        ("iris", 2),
        ("iris", 1),
        ("wine", 3),
        ("wine", 2),
    ]
    cases = {
        "name = 'wine' AND version_number >= 2": [("wine", 3), ("wine", 2)],
        "tags.validated = 'yes'": [("wine", 2)],
        "run_id = 'run0'": [("iris", 1)],
        "run_id IN ('run0', 'run2')": [("iris", 1), ("wine", 3)],
        f"source_path = '{SOURCE}1'": [("iris", 2), ("wine", 2)],
        "name != 'wine' OR version_number = 3": [("iris", 2), ("iris", 1), ("wine", 3)],
    }
    for text, expected in cases.items():
        found = store.search_model_versions(filter_string=text)
        assert [(v.name, v.version) for v in found] == expected, text
    ordered = store.search_model_versions(order_by=["version_number ASC", "name DESC"])
    assert [(v.name, v.version) for v in ordered] == [
        ("iris", 1),
        ("wine", 2),
        ("iris", 2),
        ("wine", 3),
    ]


def test_search_model_versions_pages(store: SqlStore) -> None:
    _model_with_versions(store, "wine", 5)
    first = store.search_model_versions(max_results=2)
    second = store.search_model_versions(max_results=2, page_token=first.token)
    third = store.search_model_versions(max_results=2, page_token=second.token)
    numbers = [v.version for page in (first, second, third) for v in page]
    assert numbers == [5, 4, 3, 2, 1]
    assert third.token is None


def test_search_model_versions_caps_the_page_size(store: SqlStore) -> None:
    with pytest.raises(InvalidValueError, match="from 1 to 200,000"):
        store.search_model_versions(max_results=200_001)


# Aliases and their history.


def test_aliases_point_at_versions_and_record_each_move(store: SqlStore) -> None:
    _model_with_versions(store, count=3)
    store.set_registered_model_alias("wine", "champion", 1, user_id="ada")
    store.set_registered_model_alias("wine", "champion", 1, user_id="ada")  # no move
    store.set_registered_model_alias("wine", "champion", "3", user_id="bob")
    store.set_registered_model_alias("wine", "challenger", 2, user_id="eve")
    store.delete_registered_model_alias("wine", "challenger", user_id="eve")
    store.delete_registered_model_alias("wine", "never-set", user_id="eve")
    assert store.get_registered_model("wine").aliases == {"champion": 3}
    assert store.get_model_version("wine", 3).aliases == ["champion"]
    assert store.get_model_version_by_alias("wine", "champion").version == 3
    moves = [
        (c.alias, c.previous_version, c.version, c.user_id)
        for c in store.get_alias_history("wine")
    ]
    assert moves == [
        ("champion", None, 1, "ada"),
        ("champion", 1, 3, "bob"),
        ("challenger", None, 2, "eve"),
        ("challenger", 2, None, "eve"),
    ]
    champion = store.get_alias_history("wine", "champion")
    assert [c.version for c in champion] == [1, 3]
    assert champion[0].timestamp <= champion[1].timestamp


def test_an_alias_without_a_user_records_unknown(store: SqlStore) -> None:
    _model_with_versions(store)
    store.set_registered_model_alias("wine", "champion", 1)
    assert store.get_alias_history("wine")[0].user_id == "unknown"


@pytest.mark.parametrize(
    ("alias", "match"),
    [
        ("latest", "other than 'latest'"),
        ("LATEST", "other than 'latest'"),
        ("v2", "other than 'latest' and 'v<digits>'"),
        ("V10", "other than 'latest' and 'v<digits>'"),
        ("has space", "letters, digits"),
        ("a.b", "letters, digits"),
        ("", "non-empty str"),
        ("a" * 256, "at most 255"),
    ],
    ids=["latest", "LATEST", "v2", "V10", "space", "dot", "empty", "long"],
)
def test_reserved_and_malformed_aliases_are_rejected(
    store: SqlStore, alias: str, match: str
) -> None:
    _model_with_versions(store)
    with pytest.raises(InvalidValueError, match=match):
        store.set_registered_model_alias("wine", alias, 1)
    assert store.get_alias_history("wine") == []


def test_alias_to_an_unknown_version_is_not_found(store: SqlStore) -> None:
    _model_with_versions(store)
    with pytest.raises(NotFoundError, match="'wine/7'"):
        store.set_registered_model_alias("wine", "champion", 7)


def test_latest_alias_is_the_newest_live_version(store: SqlStore) -> None:
    _model_with_versions(store, count=3)
    store.delete_model_version("wine", 3)
    assert store.get_model_version_by_alias("wine", "Latest").version == 2


def test_latest_of_a_model_without_versions_is_not_found(store: SqlStore) -> None:
    store.create_registered_model("empty")
    with pytest.raises(NotFoundError, match="latest version"):
        store.get_model_version_by_alias("empty", "latest")


def test_unknown_alias_is_not_found(store: SqlStore) -> None:
    _model_with_versions(store)
    with pytest.raises(NotFoundError, match="alias 'wine@none' does not exist"):
        store.get_model_version_by_alias("wine", "none")


def test_history_of_an_unknown_model_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError):
        store.get_alias_history("nope")


# Concurrency and round trips.


def test_concurrent_versions_get_distinct_numbers(store: SqlStore) -> None:
    store.create_registered_model("busy")
    errors: list[BaseException] = []

    def register() -> None:
        try:
            for _ in range(5):
                store.create_model_version("busy", SOURCE)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=register) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(v.version for v in store.search_model_versions())
    assert numbers == list(range(1, 21))


TEXT = st.characters(exclude_characters="\x00", exclude_categories=["Cs"])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    tags=st.dictionaries(
        st.text(TEXT, min_size=1, max_size=250),
        st.text(TEXT, max_size=2000),
        max_size=4,
    ),
    description=st.text(TEXT, max_size=2000),
)
def test_accepted_tags_and_descriptions_read_back_equal(
    sqlite_store: SqlStore, tags: dict[str, str], description: str
) -> None:
    for model in sqlite_store.search_registered_models():
        sqlite_store.delete_registered_model(model.name)
    sqlite_store.create_registered_model("m", tags=tags, description=description)
    version = sqlite_store.create_model_version(
        "m", SOURCE, tags=tags, description=description
    )
    got = sqlite_store.get_registered_model("m")
    assert (got.tags, got.description) == (tags, description)
    assert sqlite_store.get_model_version("m", version.version).tags == tags


def _skip_first_call(
    monkeypatch: pytest.MonkeyPatch, store: SqlStore, name: str, result: object
) -> None:
    """Make ``store.<name>`` return ``result`` once: a concurrent writer's race."""
    original = getattr(store, name)
    calls: list[int] = []

    def patched(*args: object) -> object:
        calls.append(1)
        return result if len(calls) == 1 else original(*args)

    monkeypatch.setattr(store, name, patched)


def test_a_lost_race_to_create_a_name_is_a_conflict(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.create_registered_model("wine")
    _skip_first_call(monkeypatch, store, "_check_model_name_free", None)
    with pytest.raises(ConflictError, match="already exists"):
        store.create_registered_model("wine")


def test_a_lost_race_to_rename_is_a_conflict(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.create_registered_model("a")
    store.create_registered_model("b")
    _skip_first_call(monkeypatch, store, "_check_model_name_free", None)
    with pytest.raises(ConflictError, match="already exists"):
        store.rename_registered_model("a", "b")


def test_a_lost_race_to_set_an_alias_moves_it(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _model_with_versions(store)
    store.set_registered_model_alias("wine", "champion", 1, user_id="ada")
    _skip_first_call(monkeypatch, store, "_alias_version", None)
    store.set_registered_model_alias("wine", "champion", 2, user_id="bob")
    moves = [(c.previous_version, c.version) for c in store.get_alias_history("wine")]
    assert moves == [(None, 1), (1, 2)]


def test_tag_presence_can_be_searched(store: SqlStore) -> None:
    store.create_registered_model("tagged", tags={"team": "risk"})
    store.create_registered_model("plain")
    found = store.search_registered_models(filter_string="tags.team IS NULL")
    assert [m.name for m in found] == ["plain"]
    found = store.search_registered_models(filter_string="tags.team IS NOT NULL")
    assert [m.name for m in found] == ["tagged"]


def test_a_single_order_by_string_is_accepted(store: SqlStore) -> None:
    for name in ("a", "b"):
        store.create_registered_model(name)
    found = store.search_registered_models(order_by="name DESC")
    assert [m.name for m in found] == ["b", "a"]


@pytest.mark.parametrize(
    ("tags", "match"),
    [(["k"], "tags must be a mapping"), ({"k": 1}, "must be a str")],
    ids=["list", "int-value"],
)
def test_invalid_tag_collections_are_rejected(
    store: SqlStore, tags: object, match: str
) -> None:
    with pytest.raises(InvalidValueError, match=match):
        store.create_registered_model("wine", tags=tags)  # type: ignore[arg-type]  # bad on purpose


def test_non_str_run_ids_are_rejected(store: SqlStore) -> None:
    store.create_registered_model("wine")
    with pytest.raises(InvalidValueError, match="run_id must be a str or None"):
        store.create_model_version("wine", SOURCE, run_id=3)  # type: ignore[arg-type]  # bad on purpose


def _grants(store: SqlStore) -> list[tuple[str, str]]:
    table = schema.resource_permissions
    with store._engine.connect() as conn:
        rows = conn.execute(
            sa.select(table.c.resource_id, table.c.permission).where(
                table.c.resource_type == "registered_model"
            )
        ).all()
    return sorted((row[0], row[1]) for row in rows)


def test_grants_follow_a_rename_and_go_with_a_delete(store: SqlStore) -> None:
    user = store.create_user("ada", "x")
    store.create_registered_model("wine")
    store.set_permission("registered_model", "wine", user.username, "MANAGE")
    store.set_permission("registered_model", "red", user.username, "READ")  # stale
    store.rename_registered_model("wine", "red")
    assert _grants(store) == [("red", "MANAGE")]
    store.delete_registered_model("red")
    assert _grants(store) == []


def test_version_runs_are_read_in_one_call(store: SqlStore) -> None:
    kept = store.create_run("0", user_id="ada", start_time=1, run_name="kept")
    gone = store.create_run("0", user_id="ada", start_time=2, run_name="gone")
    store.update_run_info(gone.info.run_id, lifecycle_stage="deleted")
    ids = [kept.info.run_id, gone.info.run_id, "f" * 32, "", kept.info.run_id]
    runs = store.get_version_runs(ids)
    assert sorted(runs) == sorted([kept.info.run_id, gone.info.run_id])
    assert runs[kept.info.run_id].run_name == "kept"
    assert runs[gone.info.run_id].lifecycle_stage == "deleted"
    assert store.get_version_runs([]) == {}


@pytest.mark.parametrize(
    "name", ["it's", "back\\slash", "\\'", "''", "a\\\\'b", "%_ wild"], ids=repr
)
def test_filter_literal_finds_exactly_the_name(store: SqlStore, name: str) -> None:
    from mltrail.store._registry_values import filter_literal

    store.create_registered_model(name)
    store.create_registered_model(name + "x")
    store.create_model_version(name, SOURCE)
    found = store.search_registered_models(
        filter_string=f"name = {filter_literal(name)}"
    )
    assert [m.name for m in found] == [name]
    versions = store.search_model_versions(
        filter_string=f"name = {filter_literal(name)}"
    )
    assert [(v.name, v.version) for v in versions] == [(name, 1)]
