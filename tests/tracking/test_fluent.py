from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml
from matplotlib.figure import Figure

from mltrail import tracking
from mltrail._entities import Run, ViewType
from mltrail._errors import ConflictError, InvalidValueError, NotFoundError


def _artifact_paths(run_id: str, path: str | None = None) -> list[str]:
    return [
        info.path for info in tracking.TrackingClient().list_artifacts(run_id, path)
    ]


def _read_artifact(run: Run, path: str) -> bytes:
    return Path(run.info.artifact_uri, path).read_bytes()


def test_metrics_are_durable_after_end_run(fluent_store: str) -> None:
    with tracking.start_run() as run:
        for step in range(100):
            tracking.log_metric("loss", 1 / (step + 1), step=step)
    history = tracking.TrackingClient(fluent_store).get_metric_history(
        run.info.run_id, "loss"
    )
    assert [metric.step for metric in history] == list(range(100))
    assert tracking.get_run(run.info.run_id).data.metrics == {"loss": 0.01}


def test_log_metric_rejects_bad_value_at_call_time() -> None:
    with (
        tracking.start_run(),
        pytest.raises(InvalidValueError, match=r"'acc'.*got 'high'"),
    ):
        tracking.log_metric("acc", "high")  # type: ignore[arg-type]  # the point


def test_log_metric_keeps_timestamp_and_non_finite_values(fluent_store: str) -> None:
    with tracking.start_run() as run:
        tracking.log_metric("a", float("nan"), timestamp=123)
        tracking.log_metric("b", float("-inf"))
    (point,) = tracking.TrackingClient(fluent_store).get_metric_history(
        run.info.run_id, "a"
    )
    assert point.timestamp == 123
    assert math.isnan(point.value)
    assert tracking.get_run(run.info.run_id).data.metrics["b"] == float("-inf")


def test_log_metric_synchronous_writes_now() -> None:
    with tracking.start_run() as run:
        tracking.log_metric("m", 1.0, synchronous=True)
        assert len(run._buffer) == 0
        stored = run._client._store.get_run(run.info.run_id)
        assert stored.data.metrics == {"m": 1.0}


def test_log_metric_to_other_run(fluent_store: str) -> None:
    with tracking.start_run() as target:
        pass
    with tracking.start_run():
        tracking.log_metric("m", 2.0, run_id=target.info.run_id)
        tracking.log_metrics({"n": 3.0}, run_id=target.info.run_id)
    assert tracking.get_run(target.info.run_id).data.metrics == {"m": 2.0, "n": 3.0}


def test_log_metrics_is_all_or_nothing() -> None:
    with tracking.start_run() as run:
        with pytest.raises(InvalidValueError, match="'bad'"):
            tracking.log_metrics({"good": 1.0, "bad": None})  # type: ignore[dict-item]
        assert len(run._buffer) == 0


def test_log_metrics_shares_step_and_timestamp(fluent_store: str) -> None:
    with tracking.start_run() as run:
        tracking.log_metrics({"a": 1.0, "b": 2.0}, step=4, synchronous=True)
    client = tracking.TrackingClient(fluent_store)
    (a,) = client.get_metric_history(run.info.run_id, "a")
    (b,) = client.get_metric_history(run.info.run_id, "b")
    assert (a.step, b.step) == (4, 4)
    assert a.timestamp == b.timestamp


def test_log_metrics_needs_a_mapping() -> None:
    with pytest.raises(InvalidValueError, match="a mapping"):
        tracking.log_metrics([("a", 1.0)])  # type: ignore[arg-type]  # the point


def test_flush_makes_points_durable(fluent_store: str) -> None:
    with tracking.start_run() as run:
        tracking.log_metric("m", 1.0)
        tracking.flush()
        assert run._client._store.get_run(run.info.run_id).data.metrics == {"m": 1.0}


def test_flush_raises_store_error() -> None:
    with tracking.start_run() as run:
        tracking.log_metric("m", 1.0)
        run._client._store.update_run_info(run.info.run_id, lifecycle_stage="deleted")
        with pytest.raises(InvalidValueError, match=r"were not written|deleted"):
            tracking.flush()
        run._client._store.update_run_info(run.info.run_id, lifecycle_stage="active")


def test_params_are_stringified(fluent_store: str) -> None:
    with tracking.start_run() as run:
        assert tracking.log_param("alpha", 0.5) == 0.5
        tracking.log_params({"n": 3, "none": None, "flag": True})
    assert tracking.get_run(run.info.run_id).data.params == {
        "alpha": "0.5",
        "n": "3",
        "none": "None",
        "flag": "True",
    }


def test_changed_param_raises_conflict() -> None:
    with tracking.start_run():
        tracking.log_param("C", 1.0)
        tracking.log_param("C", 1.0)
        with pytest.raises(ConflictError, match="'C'"):
            tracking.log_param("C", 2.0)


def test_log_param_to_other_run() -> None:
    with tracking.start_run() as target:
        pass
    tracking.log_param("p", 1, run_id=target.info.run_id)
    assert tracking.active_run() is None
    assert tracking.get_run(target.info.run_id).data.params == {"p": "1"}


def test_tags_set_and_delete(fluent_store: str) -> None:
    with tracking.start_run() as run:
        tracking.set_tag("a", 1)
        tracking.set_tags({"b": "x", "c": None})
        tracking.delete_tag("a")
    tags = tracking.get_run(run.info.run_id).data.tags
    assert "a" not in tags
    assert (tags["b"], tags["c"]) == ("x", "None")


def test_delete_missing_tag_raises() -> None:
    with tracking.start_run(), pytest.raises(NotFoundError, match="nope"):
        tracking.delete_tag("nope")


def test_log_artifact_and_artifacts(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("x\n1\n")
    (tmp_path / "cm.png").write_bytes(b"png")
    with tracking.start_run() as run:
        tracking.log_artifact(tmp_path / "cm.png")
        tracking.log_artifact(str(tmp_path / "cm.png"), artifact_path="plots")
        tracking.log_artifacts(tmp_path / "data", artifact_path="data")
    assert _artifact_paths(run.info.run_id) == ["cm.png", "data", "plots"]
    assert _read_artifact(run, "data/a.csv") == b"x\n1\n"
    assert _read_artifact(run, "plots/cm.png") == b"png"


def test_log_artifact_of_missing_file_names_it() -> None:
    with tracking.start_run(), pytest.raises(NotFoundError, match=r"missing\.png"):
        tracking.log_artifact("missing.png")


def test_log_artifact_refuses_path_outside_run(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    with tracking.start_run(), pytest.raises(InvalidValueError, match="inside the run"):
        tracking.log_artifact(tmp_path / "a.txt", artifact_path="../../elsewhere")


def test_log_text_is_utf8() -> None:
    with tracking.start_run() as run:
        tracking.log_text("héllo ✓", "notes/hello.txt")
    assert _read_artifact(run, "notes/hello.txt").decode("utf-8") == "héllo ✓"


@pytest.mark.parametrize(
    ("name", "load"),
    [
        ("d.json", json.loads),
        ("d.yaml", yaml.safe_load),
        ("d.YML", yaml.safe_load),
        ("d.txt", json.loads),
    ],
    ids=["json", "yaml", "yml-upper", "other-is-json"],
)
def test_log_dict_format_follows_suffix(name: str, load: object) -> None:
    content = {"classes": [0, 1], "name": "wine", "nested": {"a": 1.5}}
    with tracking.start_run() as run:
        tracking.log_dict(content, name)
    assert load(_read_artifact(run, name)) == content  # type: ignore[operator]


def test_log_dict_rejects_unserializable() -> None:
    with tracking.start_run(), pytest.raises(InvalidValueError, match="dictionary"):
        tracking.log_dict({"f": object()}, "d.json")


@pytest.mark.parametrize(
    ("name", "magic"),
    [("fig.png", b"\x89PNG"), ("plots/fig.svg", b"<?xml"), ("fig.pdf", b"%PDF")],
    ids=["png", "svg", "pdf"],
)
def test_log_figure_saves_in_suffix_format(name: str, magic: bytes) -> None:
    figure = Figure()
    figure.subplots().plot([0, 1], [1, 0])
    with tracking.start_run() as run:
        tracking.log_figure(figure, name)
    assert _read_artifact(run, name).startswith(magic)


def test_log_figure_rejects_non_figure() -> None:
    with (
        tracking.start_run(),
        pytest.raises(InvalidValueError, match="matplotlib Figure"),
    ):
        tracking.log_figure([1, 2], "fig.png")


def test_log_figure_rejects_unknown_format() -> None:
    with tracking.start_run(), pytest.raises(InvalidValueError, match="image format"):
        tracking.log_figure(Figure(), "fig.nope")


def test_search_runs_frame_has_mlflow_columns(fluent_store: str) -> None:
    for depth in (2, 8):
        with tracking.start_run():
            tracking.log_param("max_depth", depth)
            tracking.log_metric("acc", 0.8 + depth / 100)
    open_run = tracking.start_run()
    tracking.set_tag("only", "here")
    frame = tracking.search_runs(order_by=["metrics.acc DESC"])
    assert list(frame.columns[:6]) == [
        "run_id",
        "experiment_id",
        "status",
        "artifact_uri",
        "start_time",
        "end_time",
    ]
    assert {
        "metrics.acc",
        "params.max_depth",
        "tags.only",
        "tags.mlflow.runName",
    } <= set(frame.columns)
    assert frame["metrics.acc"].iloc[:2].tolist() == [0.88, 0.8200000000000001]
    assert math.isnan(frame["metrics.acc"].iloc[2])
    assert frame["params.max_depth"].iloc[:2].tolist() == ["8", "2"]
    assert frame["tags.only"].iloc[2] == "here"
    assert pd.isna(frame["tags.only"].iloc[0])
    assert str(frame["start_time"].dtype).startswith("datetime64")
    assert str(frame["start_time"].dt.tz) == "UTC"
    assert pd.isna(frame["end_time"].iloc[2])
    assert frame["run_id"].iloc[2] == open_run.info.run_id


def test_search_runs_with_no_match_has_info_columns() -> None:
    frame = tracking.search_runs(filter_string="metrics.acc > 1")
    assert list(frame.columns) == [
        "run_id",
        "experiment_id",
        "status",
        "artifact_uri",
        "start_time",
        "end_time",
    ]
    assert len(frame) == 0


def test_search_runs_list_and_paging() -> None:
    ids = []
    for _ in range(3):
        with tracking.start_run() as run:
            ids.append(run.info.run_id)
    first = tracking.search_runs(max_results=2, output_format="list")
    assert first.token is not None
    rest = tracking.search_runs(output_format="list", page_token=first.token)
    assert sorted(r.info.run_id for r in [*first, *rest]) == sorted(ids)


def test_search_runs_by_experiment_name() -> None:
    experiment = tracking.set_experiment("named")
    with tracking.start_run() as run:
        pass
    tracking.set_experiment(experiment_id="0")
    assert tracking.search_runs(output_format="list") == []
    found = tracking.search_runs(
        experiment_names=["named", "missing"], output_format="list"
    )
    assert [r.info.run_id for r in found] == [run.info.run_id]
    assert experiment.experiment_id == run.info.experiment_id


def test_search_runs_by_unknown_names_is_empty() -> None:
    assert (
        tracking.search_runs(experiment_names=["missing"], output_format="list") == []
    )


def test_search_runs_rejects_ids_and_names() -> None:
    with pytest.raises(InvalidValueError, match="not both"):
        tracking.search_runs(["0"], experiment_names=["Default"])


def test_search_runs_rejects_unknown_format() -> None:
    with pytest.raises(InvalidValueError, match="'pandas' or 'list'"):
        tracking.search_runs(output_format="json")  # type: ignore[call-overload]


@pytest.mark.parametrize(
    "view",
    ["DELETED_ONLY", 2, ViewType.DELETED_ONLY],
    ids=["name", "code", "enum"],
)
def test_search_runs_view_type(view: object) -> None:
    with tracking.start_run() as run:
        pass
    tracking.delete_run(run.info.run_id)
    found = tracking.search_runs(run_view_type=view, output_format="list")  # type: ignore[call-overload]
    assert [r.info.run_id for r in found] == [run.info.run_id]


def test_search_runs_rejects_unknown_view_type() -> None:
    with pytest.raises(InvalidValueError, match="view type"):
        tracking.search_runs(run_view_type="SOME")


def test_search_experiments_collects_pages() -> None:
    for name in ("b", "a", "c"):
        tracking.create_experiment(name)
    names = [e.name for e in tracking.search_experiments(order_by=["name"])]
    assert names == ["Default", "a", "b", "c"]
    assert len(tracking.search_experiments(max_results=2)) == 2


def test_experiment_helpers(fluent_store: str) -> None:
    experiment_id = tracking.create_experiment("helpers", tags={"k": 1})
    assert tracking.get_experiment_by_name("helpers").experiment_id == experiment_id  # type: ignore[union-attr]
    tracking.set_experiment("helpers")
    tracking.set_experiment_tag("owner", "me")
    assert tracking.get_experiment(experiment_id).tags == {"k": "1", "owner": "me"}
    tracking.delete_experiment(experiment_id)
    assert tracking.get_experiment(experiment_id).lifecycle_stage == "deleted"


def test_reads_see_buffered_points() -> None:
    with tracking.start_run() as run:
        tracking.log_metric("m", 1.0)
        assert tracking.get_run(run.info.run_id).data.metrics == {"m": 1.0}
