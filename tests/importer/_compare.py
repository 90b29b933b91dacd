"""Compare an mltrail store with the truth MLflow's client read from the source."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

from mltrail._entities import ViewType
from mltrail.importer._copy import IMPORT_PREFIX
from mltrail.store._artifacts import open_artifact_store
from mltrail.store._sql import SqlStore


def hash_tree(*paths: Path) -> dict[str, str]:
    """Return the sha256 of every file under ``paths`` (files or folders)."""
    found = {}
    for top in paths:
        files = [top] if top.is_file() else sorted(top.rglob("*"))
        for path in files:
            if path.is_file():
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _own(tags: dict[str, str]) -> dict[str, str]:
    """Tags without the import's provenance tags."""
    return {k: v for k, v in tags.items() if not k.startswith(IMPORT_PREFIX)}


def _digests(store: SqlStore, uri: str) -> dict[str, str]:
    artifacts = open_artifact_store(uri, root=store.artifact_root)
    found = {}
    folders: list[str | None] = [None]
    while folders:
        folder = folders.pop()
        try:
            listing = artifacts.list(uri, folder)
        except Exception:  # a run without files has no folder
            listing = []
        for info in listing:
            if info.is_dir:
                folders.append(info.path)
            else:
                data = artifacts.read_bytes(uri, info.path)
                found[info.path] = hashlib.sha256(data).hexdigest()
    return found


def _same_value(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def source_ids(store: SqlStore) -> dict[str, str]:
    """Return the source id of every imported run, by its id in ``store``."""
    experiments = [
        e.experiment_id
        for e in store.search_experiments(view_type=ViewType.ALL, max_results=1000)
    ]
    runs = store.search_runs(experiments, view_type=ViewType.ALL, max_results=10_000)
    return {
        r.info.run_id: r.data.tags.get(IMPORT_PREFIX + "source_run_id", r.info.run_id)
        for r in runs
    }


def _back(tags: dict[str, str], ids: dict[str, str]) -> dict[str, str]:
    """Tags as the source had them: a parent's id mapped back."""
    own = _own(tags)
    if "mlflow.parentRunId" in own:
        own["mlflow.parentRunId"] = ids.get(own["mlflow.parentRunId"], "?")
    return own


def assert_runs_equal(store: SqlStore, experiment_id: str, truth: list[Any]) -> None:
    """Check every run, field by field, its full metric histories and its files."""
    ids = source_ids(store)
    runs = store.search_runs([experiment_id], view_type=ViewType.ALL, max_results=1000)
    # Every imported run says where it came from; the target's own runs do not.
    by_source = {
        ids[r.info.run_id]: r
        for r in runs
        if IMPORT_PREFIX + "source_run_id" in r.data.tags
    }
    assert sorted(by_source) == sorted(t["run_id"] for t in truth)
    for expected in truth:
        run = by_source[expected["run_id"]]
        info = run.info
        assert info.run_name == expected["run_name"]
        assert info.user_id == expected["user_id"]
        assert info.status == expected["status"]
        assert info.start_time == expected["start_time"]
        assert info.end_time == expected["end_time"]
        assert info.lifecycle_stage == expected["lifecycle_stage"]
        assert run.data.params == expected["params"]
        assert _back(run.data.tags, ids) == expected["tags"]
        assert sorted(run.data.metrics) == sorted(expected["metrics"])
        for key, points in expected["metrics"].items():
            history = store.get_metric_history(info.run_id, key)
            got = sorted((m.timestamp, m.step, m.value) for m in history)
            want = sorted(tuple(p) for p in points)
            assert len(got) == len(want), key
            for (t1, s1, v1), (t2, s2, v2) in zip(got, want, strict=True):
                assert (t1, s1) == (t2, s2), key
                assert _same_value(v1, v2), (key, v1, v2)
        datasets = sorted(
            [
                d.dataset.name,
                d.dataset.digest,
                d.dataset.source_type,
                d.dataset.source,
                d.dataset.schema,
                d.dataset.profile,
                sorted([t.key, t.value] for t in d.tags),
            ]
            for d in run.inputs.dataset_inputs
        )
        assert datasets == expected["datasets"]
        _, outputs = store.get_run_models(info.run_id)
        assert sorted([m, s] for m, s in outputs) == expected["model_outputs"]
        assert _digests(store, info.artifact_uri) == expected["artifacts"]


def assert_models_equal(store: SqlStore, experiment_id: str, truth: list[Any]) -> None:
    """Check every logged model: fields, params, tags, metrics and files."""
    ids = source_ids(store)
    for expected in truth:
        model = store.get_logged_model(expected["model_id"])
        assert model.experiment_id == experiment_id
        assert model.name == expected["name"]
        assert model.status == expected["status"].rsplit("_", 1)[-1].rsplit(".")[-1]
        assert ids[model.source_run_id or ""] == expected["source_run_id"]
        assert model.creation_timestamp == expected["creation_timestamp"]
        assert model.params == expected["params"]
        assert _own(model.tags) == expected["tags"]
        metrics = sorted(
            [m.key, m.value, m.timestamp, m.step, ids[m.run_id or ""], m.dataset_name]
            for m in model.metrics
        )
        assert metrics == expected["metrics"]
        assert _digests(store, model.artifact_location) == expected["artifacts"]


def assert_registry_equal(store: SqlStore, truth: list[Any]) -> None:
    """Check every registered model: description, tags, aliases and versions."""
    ids = source_ids(store)
    for expected in truth:
        model = store.get_registered_model(expected["name"])
        assert model.description == expected["description"]
        assert _own(model.tags) == expected["tags"]
        assert model.aliases == expected["aliases"]
        versions = store.search_model_versions(
            filter_string=f"name = '{expected['name']}'"
        )
        got = sorted(
            (
                {
                    "version": v.version,
                    "source": v.source,
                    "run_id": ids[v.run_id],
                    "tags": _own(v.tags),
                    "current_stage": v.current_stage,
                    "description": v.description,
                }
                for v in versions
            ),
            key=lambda v: str(v["version"]).zfill(9),
        )
        want = [
            {k: v for k, v in version.items() if k != "model_id"}
            for version in expected["versions"]
        ]
        assert got == want


def assert_store_equal(store: SqlStore, truth: dict[str, Any]) -> None:
    """Check everything the truth holds against the store."""
    for expected in truth["experiments"]:
        experiment = store.get_experiment_by_name(expected["name"])
        assert experiment is not None, expected["name"]
        assert experiment.lifecycle_stage == expected["lifecycle_stage"]
        if expected["experiment_id"] != "0":  # Default is the target's own
            assert experiment.creation_time == expected["creation_time"]
        assert _own(experiment.tags) == expected["tags"]
        assert_runs_equal(store, experiment.experiment_id, expected["runs"])
        assert_models_equal(store, experiment.experiment_id, expected["logged_models"])
    assert_registry_equal(store, truth["registered_models"])
