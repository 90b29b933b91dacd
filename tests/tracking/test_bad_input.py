"""Bad input to the fluent API and the client raises mltrail errors (#9 §5).

Each case raised a raw Python error (TypeError, AttributeError, OverflowError) or was
iterated letter by letter before.
"""

from __future__ import annotations

import pytest

import mltrail
from mltrail._errors import InvalidValueError
from mltrail.tracking import TrackingClient


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: mltrail.log_params(["C", 1]), "params must be a mapping"),  # type: ignore[arg-type]
        (lambda: mltrail.set_tags(None), "tags must be a mapping"),  # type: ignore[arg-type]
        (lambda: mltrail.set_tags("team"), "tags must be a mapping"),  # type: ignore[arg-type]
        (lambda: mltrail.log_text(b"bytes", "a.txt"), "text must be a str"),  # type: ignore[arg-type]
        (lambda: mltrail.log_dict({"a": 1}, None), "artifact_file must be a str"),  # type: ignore[arg-type]
        (lambda: mltrail.log_metric("m", 1.0, timestamp=2**64), "fits in 64 bits"),
        (lambda: mltrail.log_metric("m", 1.0, step=2**64), "fits in 64 bits"),
        (lambda: mltrail.log_metrics(None), "metrics must be a mapping"),  # type: ignore[arg-type]
    ],
    ids=[
        "log_params-list",
        "set_tags-none",
        "set_tags-str",
        "log_text-bytes",
        "log_dict-none",
        "timestamp-2**64",
        "step-2**64",
        "log_metrics-none",
    ],
)
def test_fluent_rejects_bad_input(fluent_store: str, call: object, match: str) -> None:
    with mltrail.start_run() as run, pytest.raises(InvalidValueError, match=match):
        call()  # type: ignore[operator]  # a lambda
    stored = mltrail.get_run(run.info.run_id)
    assert stored.data.params == {}
    assert stored.data.metrics == {}


def test_oversized_param_names_its_key_and_the_artifact_calls(
    fluent_store: str,
) -> None:
    vocabulary = str([f"word{i:06d}" for i in range(100_000)])  # 1.4 M characters

    with mltrail.start_run() as run:
        with pytest.raises(
            InvalidValueError, match=r"param 'vocabulary'.*log_text\(\).*log_dict\(\)"
        ):
            mltrail.log_param("vocabulary", vocabulary)
        mltrail.log_param("C", 1.0)

    assert mltrail.get_run(run.info.run_id).data.params == {"C": "1.0"}


def test_figure_needs_a_file_name(fluent_store: str) -> None:
    from matplotlib.figure import Figure

    with mltrail.start_run(), pytest.raises(InvalidValueError, match="artifact_file"):
        mltrail.log_figure(Figure(), None)  # type: ignore[arg-type]  # the attack


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({"metrics": None}, "metrics must be a list"),
        ({"params": None}, "params must be a list"),
        ({"tags": None}, "tags must be a list"),
    ],
    ids=["metrics", "params", "tags"],
)
def test_client_log_batch_rejects_none(
    client: TrackingClient, arguments: dict[str, object], match: str
) -> None:
    run_id = client.create_run("0").info.run_id
    with pytest.raises(InvalidValueError, match=match):
        client.log_batch(run_id, **arguments)  # type: ignore[arg-type]  # the attack


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.create_run("0", tags=["a"]),
        lambda c: c.create_experiment("e", tags="team"),
        lambda c: c.log_inputs("a" * 32, None),
    ],
    ids=["create_run", "create_experiment", "log_inputs"],
)
def test_client_rejects_wrong_containers(client: TrackingClient, call: object) -> None:
    with pytest.raises(InvalidValueError):
        call(client)  # type: ignore[operator]  # a lambda


def test_start_run_rejects_tag_list(fluent_store: str) -> None:
    with pytest.raises(InvalidValueError, match="tags must be a mapping"):
        mltrail.start_run(tags=["team"])  # type: ignore[arg-type]  # the attack
    assert mltrail.active_run() is None


# A single str where a list is expected is one item, not its letters.


@pytest.fixture
def ten_experiments(client: TrackingClient) -> dict[str, str]:
    """Ten experiments with one run each, by experiment id (ids of two digits too)."""
    runs = {}
    for n in range(1, 11):
        experiment_id = client.create_experiment(f"e{n}")
        runs[experiment_id] = client.create_run(experiment_id).info.run_id
    return runs


def test_search_runs_takes_one_experiment_id_as_str(
    fluent_store: str, ten_experiments: dict[str, str]
) -> None:
    experiment_id = max(ten_experiments, key=int)  # "10" on a new database
    found = mltrail.search_runs(experiment_ids=experiment_id, output_format="list")
    assert [r.info.run_id for r in found] == [ten_experiments[experiment_id]]
    client_found = TrackingClient().search_runs(experiment_id)
    assert [r.info.run_id for r in client_found] == [ten_experiments[experiment_id]]


def test_search_runs_takes_one_experiment_name_as_str(
    fluent_store: str, ten_experiments: dict[str, str]
) -> None:
    experiment_id = max(ten_experiments, key=int)
    found = mltrail.search_runs(experiment_names="e10", output_format="list")
    assert [r.info.run_id for r in found] == [ten_experiments[experiment_id]]


def test_search_runs_takes_one_order_by_as_str(
    fluent_store: str, client: TrackingClient
) -> None:
    for value in (0.2, 0.9, 0.5):
        run_id = client.create_run("0").info.run_id
        client.log_metric(run_id, "acc", value)
    found = mltrail.search_runs(order_by="metrics.acc DESC", output_format="list")
    assert [r.data.metrics["acc"] for r in found] == [0.9, 0.5, 0.2]
    by_client = client.search_runs(["0"], order_by="metrics.acc ASC")
    assert [r.data.metrics["acc"] for r in by_client] == [0.2, 0.5, 0.9]


def test_search_experiments_takes_one_order_by_as_str(client: TrackingClient) -> None:
    for name in ("b", "a"):
        client.create_experiment(name)
    found = client.search_experiments(order_by="name DESC")
    assert [e.name for e in found] == ["b", "a", "Default"]


def test_experiment_ids_of_wrong_type_are_rejected(fluent_store: str) -> None:
    with pytest.raises(InvalidValueError, match="experiment_ids must be a str or"):
        mltrail.search_runs(experiment_ids=10)  # type: ignore[call-overload]  # the attack
