"""Write an MLflow store with the real ``mlflow`` client, then dump what it holds.

Run as ``python mlflow_writer.py TRACKING_URI TRUTH_JSON``. It logs what an MLflow
user has: an autologged scikit-learn run with its model, a run with long metric
histories (NaN and infinity included), params, tags, text and binary artifacts, a
nested run, a deleted run, a deleted experiment, and a registered model with
versions (one deleted), tags and an alias. Then it reads everything back through
``MlflowClient`` (the ground truth the tests compare an import with) and writes it
to TRUTH_JSON, artifacts as sha256 digests.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

import mlflow
from mlflow import MlflowClient
from mlflow.entities import ViewType
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

STEPS = 300


def write() -> None:
    """Log the runs, models and registry entries."""
    mlflow.set_experiment("imported")
    mlflow.set_experiment_tag("team", "risk")
    X, y = load_iris(return_X_y=True)
    mlflow.sklearn.autolog()
    LogisticRegression(max_iter=300).fit(X, y)
    mlflow.sklearn.autolog(disable=True)
    autologged = mlflow.last_logged_model()
    assert autologged is not None
    with mlflow.start_run(run_name="history") as parent:
        for step in range(STEPS):
            mlflow.log_metrics({"loss": 1 / (step + 1), "acc": step / STEPS}, step=step)
        mlflow.log_metric("odd", float("nan"))
        mlflow.log_metric("odd", float("inf"), step=1)
        mlflow.log_params({"C": 1.0, "penalty": "l2"})
        mlflow.set_tag("ticket", "ML-1234")
        mlflow.log_text("hello", "notes/hello.txt")
        mlflow.log_dict({"classes": [0, 1, 2]}, "meta/classes.json")
        with tempfile.TemporaryDirectory() as folder:
            blob = Path(folder, "blob.bin")
            blob.write_bytes(os.urandom(300_000))
            mlflow.log_artifact(str(blob), "data")
        with mlflow.start_run(run_name="child", nested=True):
            mlflow.log_metric("x", 1.0)
    with mlflow.start_run(run_name="gone") as gone:
        mlflow.log_param("a", "1")
    client = MlflowClient()
    client.delete_run(gone.info.run_id)
    client.set_tag(parent.info.run_id, "parent", "yes")
    uri = f"models:/{autologged.model_id}"
    mlflow.register_model(uri, "iris")
    mlflow.register_model(uri, "iris")
    mlflow.register_model(uri, "iris")
    client.delete_model_version("iris", "1")
    client.set_registered_model_alias("iris", "champion", "2")
    client.set_model_version_tag("iris", "2", "validated", "true")
    client.set_registered_model_tag("iris", "owner", "risk")
    client.update_registered_model("iris", description="Iris classifier")
    dead = client.create_experiment("abandoned", tags={"why": "test"})
    client.delete_experiment(dead)


def _digests(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(
            path.read_bytes()
        ).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _artifacts(uri: str) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as folder:
        try:
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=uri, dst_path=folder
            )
        except Exception:  # an empty run has no artifact folder
            return {}
        return _digests(Path(local))


def dump() -> dict[str, object]:
    """Read everything back through MLflow's client."""
    client = MlflowClient()
    experiments = []
    for experiment in client.search_experiments(view_type=ViewType.ALL):
        runs = []
        for run in client.search_runs(
            [experiment.experiment_id], run_view_type=ViewType.ALL
        ):
            info = run.info
            runs.append(
                {
                    "run_id": info.run_id,
                    "run_name": info.run_name,
                    "user_id": info.user_id,
                    "status": info.status,
                    "start_time": info.start_time,
                    "end_time": info.end_time,
                    "lifecycle_stage": info.lifecycle_stage,
                    "params": run.data.params,
                    "tags": run.data.tags,
                    "metrics": {
                        key: [
                            [m.timestamp, m.step, m.value]
                            for m in client.get_metric_history(info.run_id, key)
                        ]
                        for key in run.data.metrics
                    },
                    "datasets": sorted(
                        [
                            d.dataset.name,
                            d.dataset.digest,
                            d.dataset.source_type,
                            d.dataset.source,
                            d.dataset.schema,
                            d.dataset.profile,
                            sorted([t.key, t.value] for t in d.tags),
                        ]
                        for d in (run.inputs.dataset_inputs if run.inputs else [])
                    ),
                    "model_outputs": sorted(
                        [m.model_id, m.step]
                        for m in (run.outputs.model_outputs if run.outputs else [])
                    ),
                    "artifacts": _artifacts(info.artifact_uri),
                }
            )
        models = [
            {
                "model_id": m.model_id,
                "name": m.name,
                "status": str(m.status),
                "source_run_id": m.source_run_id,
                "creation_timestamp": m.creation_timestamp,
                "params": m.params,
                "tags": m.tags,
                "metrics": sorted(
                    [x.key, x.value, x.timestamp, x.step, x.run_id, x.dataset_name]
                    for x in m.metrics or []
                ),
                "artifacts": _artifacts(m.artifact_location),
            }
            for m in client.search_logged_models([experiment.experiment_id])
        ]
        experiments.append(
            {
                "experiment_id": experiment.experiment_id,
                "name": experiment.name,
                "lifecycle_stage": experiment.lifecycle_stage,
                "creation_time": experiment.creation_time,
                "tags": experiment.tags,
                "runs": runs,
                "logged_models": models,
            }
        )
    registered = []
    for model in client.search_registered_models():
        versions = client.search_model_versions(f"name = '{model.name}'")
        registered.append(
            {
                "name": model.name,
                "description": model.description,
                "tags": model.tags,
                "aliases": {a: int(v) for a, v in model.aliases.items()},
                "versions": sorted(
                    (
                        {
                            "version": int(v.version),
                            "source": v.source,
                            "run_id": v.run_id,
                            "model_id": v.model_id,
                            "tags": v.tags,
                            "current_stage": v.current_stage,
                            "description": v.description or "",
                        }
                        for v in versions
                    ),
                    key=lambda v: str(v["version"]).zfill(9),
                ),
            }
        )
    return {"experiments": experiments, "registered_models": registered}


if __name__ == "__main__":
    mlflow.set_tracking_uri(sys.argv[1])
    write()
    Path(sys.argv[2]).write_text(json.dumps(dump(), indent=1, sort_keys=True))
