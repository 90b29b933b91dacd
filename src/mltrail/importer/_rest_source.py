"""Read an MLflow tracking server over its REST API (``/api/2.0/mlflow/...``).

Only reads (searches, gets, artifact downloads through the ``mlflow-artifacts``
proxy); requests go through mltrail's ``RestClient`` (retries, credentials from
``MLFLOW_TRACKING_USERNAME``/``_PASSWORD``/``_TOKEN``, errors as mltrail's).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlparse

from mltrail._entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    LoggedModel,
    LoggedModelMetric,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunInputs,
)
from mltrail._errors import StoreError
from mltrail._registry_entities import ModelVersion
from mltrail.importer._local import CHUNK_SIZE, LocalFiles, local_path
from mltrail.importer._source import (
    MODEL_STATUSES,
    SourceFile,
    SourceModel,
    SourceRegisteredModel,
    SourceRun,
    parse_value,
    redact,
)
from mltrail.store._rest_client import RestClient

__all__ = ["RestSource"]

_API = "/api/2.0/mlflow"
_ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
_DELETED_STAGE = "Deleted_Internal"


def _pairs(items: list[dict[str, Any]] | None, key: str = "key") -> dict[str, str]:
    return {str(item[key]): str(item.get("value", "")) for item in items or ()}


class RestSource:
    """An MLflow tracking server, read through its REST API."""

    def __init__(self, uri: str) -> None:
        self.uri = redact(uri.rstrip("/"))
        self._client = RestClient(uri)
        self._local = LocalFiles()

    def _pages(
        self, method: str, route: str, fields: dict[str, Any], key: str
    ) -> Iterator[dict[str, Any]]:
        token = None
        while True:
            body = self._client.call(
                method, _API + route, {**fields, "page_token": token}
            )
            yield from body.get(key, [])
            token = body.get("next_page_token")
            if not token:
                return

    def experiments(self) -> list[Experiment]:
        found = [
            Experiment(
                experiment_id=str(e["experiment_id"]),
                name=e["name"],
                artifact_location=e.get("artifact_location", ""),
                lifecycle_stage=e.get("lifecycle_stage", "active"),
                creation_time=int(e.get("creation_time") or 0),
                last_update_time=int(e.get("last_update_time") or 0),
                tags=_pairs(e.get("tags")),
            )
            for e in self._pages(
                "POST",
                "/experiments/search",
                {"max_results": 1000, "view_type": "ALL"},
                "experiments",
            )
        ]
        found.sort(key=lambda e: (len(e.experiment_id), e.experiment_id))
        return found

    def runs(self, experiment_id: str) -> list[SourceRun]:
        found = []
        for item in self._pages(
            "POST",
            "/runs/search",
            {
                "experiment_ids": [experiment_id],
                "run_view_type": "ALL",
                "max_results": 1000,
                "order_by": ["attributes.start_time ASC", "attributes.run_id ASC"],
            },
            "runs",
        ):
            found.append(self._run(item))
        found.sort(key=lambda r: (r.run.info.start_time, r.run.info.run_id))
        return found

    def _run(self, item: dict[str, Any]) -> SourceRun:
        info = item["info"]
        data = item.get("data", {})
        inputs = item.get("inputs", {})
        outputs = item.get("outputs", {})
        datasets = [
            DatasetInput(
                Dataset(
                    name=d["dataset"]["name"],
                    digest=d["dataset"]["digest"],
                    source_type=d["dataset"].get("source_type", ""),
                    source=d["dataset"].get("source", ""),
                    schema=d["dataset"].get("schema"),
                    profile=d["dataset"].get("profile"),
                ),
                [InputTag(k, v) for k, v in _pairs(d.get("tags")).items()],
            )
            for d in inputs.get("dataset_inputs", [])
        ]
        end_time = info.get("end_time")
        run = Run(
            RunInfo(
                run_id=info.get("run_id") or info["run_uuid"],
                run_name=info.get("run_name", ""),
                experiment_id=str(info["experiment_id"]),
                user_id=info.get("user_id", ""),
                status=info.get("status", "RUNNING"),
                start_time=int(info.get("start_time") or 0),
                end_time=None if end_time is None else int(end_time),
                artifact_uri=info.get("artifact_uri", ""),
                lifecycle_stage=info.get("lifecycle_stage", "active"),
            ),
            RunData(
                metrics={
                    m["key"]: parse_value(m.get("value"))
                    for m in data.get("metrics", [])
                },
                params=_pairs(data.get("params")),
                tags=_pairs(data.get("tags")),
            ),
            RunInputs(datasets),
        )
        return SourceRun(
            run,
            [
                (m["model_id"], int(m.get("step") or 0))
                for m in outputs.get("model_outputs", [])
            ],
            [m["model_id"] for m in inputs.get("model_inputs", [])],
        )

    def metric_history(self, run: Run) -> list[Metric]:
        points = []
        for key in run.data.metrics:
            for m in self._pages(
                "GET",
                "/metrics/get-history",
                {"run_id": run.info.run_id, "metric_key": key, "max_results": 25000},
                "metrics",
            ):
                points.append(
                    Metric(
                        key,
                        parse_value(m.get("value")),
                        int(m.get("timestamp") or 0),
                        int(m.get("step") or 0),
                    )
                )
        return points

    def logged_models(self, experiment_id: str) -> list[SourceModel]:
        found = []
        for item in self._pages(
            "POST",
            "/logged-models/search",
            {"experiment_ids": [experiment_id], "max_results": 100},
            "models",
        ):
            info = item["info"]
            data = item.get("data", {})
            found.append(
                SourceModel(
                    LoggedModel(
                        model_id=info["model_id"],
                        experiment_id=experiment_id,
                        name=info.get("name", ""),
                        artifact_location=info.get("artifact_uri", ""),
                        creation_timestamp=int(info.get("creation_timestamp_ms") or 0),
                        last_updated_timestamp=int(
                            info.get("last_updated_timestamp_ms") or 0
                        ),
                        status=MODEL_STATUSES.get(info.get("status", ""), "PENDING"),
                        source_run_id=info.get("source_run_id"),
                        model_type=info.get("model_type"),
                        status_message=info.get("status_message"),
                        tags=_pairs(info.get("tags")),
                        params=_pairs(data.get("params")),
                        metrics=[
                            LoggedModelMetric(
                                key=m["key"],
                                value=parse_value(m.get("value")),
                                timestamp=int(m.get("timestamp") or 0),
                                step=int(m.get("step") or 0),
                                run_id=m.get("run_id"),
                                dataset_name=m.get("dataset_name"),
                                dataset_digest=m.get("dataset_digest"),
                            )
                            for m in data.get("metrics", [])
                        ],
                    )
                )
            )
        found.sort(key=lambda m: (m.model.creation_timestamp, m.model.model_id))
        return found

    def _proxy_path(self, location: str) -> str | None:
        """Return the proxy path of an ``mlflow-artifacts:`` location, else None."""
        parsed = urlparse(location)
        if parsed.scheme == "mlflow-artifacts":
            return parsed.path.strip("/")
        return None

    def files(self, location: str) -> list[SourceFile]:
        top = self._proxy_path(location)
        if top is None:
            if local_path(location) is not None:
                return self._local.files(location)
            raise StoreError(
                f"artifact location {location!r} is neither served by the server's "
                "proxy (mlflow-artifacts:) nor a local folder. Start the MLflow "
                "server with --serve-artifacts, or import from its database and "
                "folder instead."
            )
        found = []
        folders = [""]
        while folders:
            folder = folders.pop()
            path = f"{top}/{folder}" if folder else top
            body = self._client.call("GET", _ARTIFACTS, {"path": path})
            for file in body.get("files", []):
                relative = f"{folder}/{file['path']}" if folder else file["path"]
                if file.get("is_dir"):
                    folders.append(relative)
                else:
                    found.append(SourceFile(relative, int(file.get("file_size") or 0)))
        found.sort(key=lambda f: f.path)
        return found

    def read(self, location: str, path: str) -> Iterator[bytes]:
        top = self._proxy_path(location)
        if top is None:
            yield from self._local.read(location, path)
            return
        route = f"{_ARTIFACTS}/{quote(f'{top}/{path}')}"
        response = self._client.request("GET", route, stream=True)
        try:
            if response.status != 200:
                raise self._client.error_of(
                    response.status, response.data, "GET", route
                )
            yield from response.stream(CHUNK_SIZE)
        finally:
            response.release_conn()

    def registered_models(self) -> list[SourceRegisteredModel]:
        found = []
        for item in self._pages(
            "GET",
            "/registered-models/search",
            {"max_results": 1000},
            "registered_models",
        ):
            name = item["name"]
            versions = {
                int(v["version"]): ModelVersion(
                    name=name,
                    version=int(v["version"]),
                    creation_timestamp=int(v.get("creation_timestamp") or 0),
                    last_updated_timestamp=int(v.get("last_updated_timestamp") or 0),
                    description=v.get("description", ""),
                    user_id=v.get("user_id", ""),
                    current_stage=v.get("current_stage", "None"),
                    source=v.get("source", ""),
                    run_id=v.get("run_id", ""),
                    status=v.get("status", "READY"),
                    status_message=v.get("status_message", ""),
                    tags=_pairs(v.get("tags")),
                    run_link=v.get("run_link", ""),
                    model_id=v.get("model_id"),
                )
                for v in self._pages(
                    "GET",
                    "/model-versions/search",
                    {"filter": f"name = '{_quote(name)}'", "max_results": 10_000},
                    "model_versions",
                )
            }
            # The API hides deleted versions; their numbers stay taken.
            for number in range(1, max(versions, default=0)):
                versions.setdefault(
                    number,
                    ModelVersion(
                        name=name,
                        version=number,
                        creation_timestamp=0,
                        last_updated_timestamp=0,
                        current_stage=_DELETED_STAGE,
                    ),
                )
            found.append(
                SourceRegisteredModel(
                    name=name,
                    description=item.get("description", ""),
                    tags=_pairs(item.get("tags")),
                    aliases={
                        a["alias"]: int(a["version"]) for a in item.get("aliases", [])
                    },
                    versions=[versions[n] for n in sorted(versions)],
                )
            )
        return found

    def close(self) -> None:
        self._client.close()


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")
