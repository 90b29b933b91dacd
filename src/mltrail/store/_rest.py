"""``RestStore``: the ``Store`` protocol over MLflow's REST API, to any tracking server.

Every method is one or a few calls of ``/api/2.0/mlflow/...``. Against an mltrail
server a batch goes in one request (so it is written whole or not at all); against
an MLflow server it is cut to MLflow's limits (1,000 metrics, 100 params, 100 tags).
Writes that fail because the server is unreachable go to the local spool
(``_rest_spool.py``) and are sent, in order, by the next call that reaches it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from mltrail._entities import (
    DatasetInput,
    Experiment,
    LifecycleStage,
    LoggedModel,
    LoggedModelMetric,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunTag,
    ViewType,
)
from mltrail._errors import MltrailError, MltrailWarning, NotFoundError
from mltrail._json import paused_gc
from mltrail.store._rest_client import (
    RemoteNotFoundError,
    RestClient,
    ServerUnavailableError,
    rest_client,
)
from mltrail.store._rest_registry import RestRegistryMixin
from mltrail.store._rest_sender import BackgroundSender
from mltrail.store._rest_spool import SpooledRequest, spool_of
from mltrail.store._rest_wire import (
    dataset_input_to_json,
    experiment_from_json,
    logged_model_from_json,
    metric_from_json,
    metric_to_json,
    model_metric_to_json,
    model_status_to_json,
    params_to_json,
    run_from_json,
    run_info_from_json,
    tags_to_json,
)

__all__ = ["RestStore"]

API = "/api/2.0/mlflow"
MLTRAIL_API = "/api/2.0/mltrail"
MLFLOW_LIMITS = {"metrics": 1000, "params": 100, "tags": 100, "total": 1000}
MLTRAIL_BATCH_ITEMS = 100_000
HISTORY_PAGE = 25_000


def _metric_json(metric: Metric) -> dict[str, Any]:
    return metric_to_json(metric)


class RestStore(RestRegistryMixin):
    """Runs on a tracking server, through MLflow's REST API.

    Parameters
    ----------
    uri : str
        The server, ``http(s)://host:port`` (credentials come from the
        environment, see ``_rest_client``).

    Examples
    --------
    >>> from mltrail.store._rest import RestStore
    >>> store = RestStore("http://127.0.0.1:5000")
    >>> store.uri
    'http://127.0.0.1:5000'
    >>> store.close()
    """

    # ``log_batch`` takes ``background=True`` for params no one else writes.
    sends_params_later = True

    def __init__(self, uri: str) -> None:
        self.uri = uri.rstrip("/")
        self.artifact_root = "mlflow-artifacts:"
        self._client: RestClient = rest_client(self.uri)
        self._spool = spool_of(self.uri)
        self._spooled = False
        self._spool_lock = threading.Lock()
        self._warned = False
        self._heartbeats = True
        self._infos: dict[str, RunInfo] = {}
        self._sender = BackgroundSender(self._send_write)

    # Transport.

    @property
    def _is_mltrail(self) -> bool:
        """Whether the server is mltrail's (MLflow's limits apply when unknown)."""
        try:
            return "mltrail_version" in self._client.server_info()
        except ServerUnavailableError:
            return False

    def _has_feature(self, name: str) -> bool:
        """Whether the server reads mltrail's extra field ``name`` (server-info)."""
        try:
            return name in (self._client.server_info().get("mltrail_features") or ())
        except ServerUnavailableError:
            return False

    def _call(
        self,
        method: str,
        path: str,
        fields: Mapping[str, Any] | None = None,
        *,
        idempotent: bool = True,
        base: str = API,
        after_queued: bool = True,
    ) -> dict[str, Any]:
        """Make one call; with ``after_queued``, after the writes queued before it."""
        if after_queued:
            self._sender.drain()
        if self._spooled:
            self._send_spool()
        return self._client.call(method, base + path, fields, idempotent=idempotent)

    def drain_writes(self) -> None:
        """Return once every write sent in the background reached the server.

        (or the spool, if the server is unreachable).

        Raises
        ------
        MltrailError
            The error of a background write that the server refused.
        """
        self._sender.drain()

    def _write(
        self,
        method: str,
        path: str,
        fields: Mapping[str, Any],
        *,
        idempotent: bool,
        background: bool = False,
    ) -> bool:
        """Send a write, or keep it in the spool if the server is unreachable.

        ``background`` queues it for the sender thread (``_rest_sender.py``) and
        returns at once. Returns True when it was sent or queued, False when spooled.
        """
        if background:
            self._sender.submit((method, path, dict(fields), idempotent))
            return True
        self._sender.drain()
        return self._send_write(method, path, fields, idempotent)

    def _send_write(
        self, method: str, path: str, fields: Mapping[str, Any], idempotent: bool
    ) -> bool:
        with self._spool_lock:
            if self._spooled and self._client.is_down:
                # The server was unreachable moments ago: keep this write in order
                # behind the others at once, instead of trying again.
                self._spool.append(method, API + path, fields)
                return False
            try:
                if self._spooled:
                    self._send_spool_locked()
                self._client.call(method, API + path, fields, idempotent=idempotent)
                return True
            except ServerUnavailableError as error:
                self._spool.append(method, API + path, fields)
                self._spooled = True
                if not self._warned:
                    self._warned = True
                    warnings.warn(
                        f"{error} mltrail keeps the writes in {self._spool.directory} "
                        "and sends them when the server answers again (or run "
                        "'mltrail sync').",
                        MltrailWarning,
                        stacklevel=3,
                    )
                return False

    def _deliver(self, request: SpooledRequest) -> None:
        self._client.call(
            request["method"], request["path"], request["fields"], idempotent=False
        )

    def _send_spool_locked(self) -> None:
        self._spool.send(self._deliver)
        self._spooled = False
        self._warned = False

    def _send_spool(self) -> None:
        with self._spool_lock:
            if self._spooled:
                self._send_spool_locked()

    def sync(self) -> int:
        """Send every spooled write of this server (all processes'); return the count.

        Returns
        -------
        int
            How many requests were sent.

        Raises
        ------
        StoreError
            If the server is still unreachable; the rest stays spooled.
        """
        with self._spool_lock:
            sent = self._spool.send(self._deliver)
            self._spooled = False
            return sent

    def _remember(self, info: RunInfo) -> RunInfo:
        if len(self._infos) > 10_000:
            self._infos.clear()
        self._infos[info.run_id] = info
        return info

    # Experiments.

    def create_experiment(
        self,
        name: str,
        *,
        artifact_location: str | None = None,
        tags: Sequence[RunTag] = (),
    ) -> str:
        """Create an experiment and return its id; a taken name is a ConflictError."""
        body = self._call(
            "POST",
            "/experiments/create",
            {
                "name": name,
                "artifact_location": artifact_location,
                "tags": tags_to_json(tags),
            },
            idempotent=False,
        )
        return str(body["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        """Return the experiment, deleted or not; NotFoundError if absent."""
        body = self._call("GET", "/experiments/get", {"experiment_id": experiment_id})
        return experiment_from_json(body["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """Return the experiment with this name, or None."""
        try:
            body = self._call(
                "GET", "/experiments/get-by-name", {"experiment_name": name}
            )
        except RemoteNotFoundError as error:
            if error.error_code == "ENDPOINT_NOT_FOUND":
                raise
            return None
        return experiment_from_json(body["experiment"])

    def search_experiments(
        self,
        *,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str = "",
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """Return experiments, ordered by ``order_by`` then by id."""
        body = self._call(
            "POST",
            "/experiments/search",
            {
                "view_type": ViewType(view_type).value,
                "max_results": max_results,
                "filter": filter_string or None,
                "order_by": list(order_by),
                "page_token": page_token,
            },
        )
        return PagedList(
            [experiment_from_json(item) for item in body.get("experiments", ())],
            body.get("next_page_token") or None,
        )

    def update_experiment(
        self,
        experiment_id: str,
        *,
        new_name: str | None = None,
        lifecycle_stage: str | None = None,
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Rename, delete or restore an experiment, or tag it."""
        if new_name is not None:
            self._call(
                "POST",
                "/experiments/update",
                {"experiment_id": experiment_id, "new_name": new_name},
            )
        if lifecycle_stage is not None:
            route = (
                "/experiments/delete"
                if lifecycle_stage == LifecycleStage.DELETED.value
                else "/experiments/restore"
            )
            self._call("POST", route, {"experiment_id": experiment_id})
        for tag in tags:
            self._call(
                "POST",
                "/experiments/set-experiment-tag",
                {"experiment_id": experiment_id, "key": tag.key, "value": tag.value},
            )

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove a tag from an experiment; NotFoundError if it has no such tag."""
        self._call(
            "POST",
            "/experiments/delete-experiment-tag",
            {"experiment_id": experiment_id, "key": key},
        )

    # Runs.

    def create_run(
        self,
        experiment_id: str,
        *,
        user_id: str,
        start_time: int,
        run_name: str,
        tags: Sequence[RunTag] = (),
        heartbeat_time: int | None = None,
    ) -> Run:
        """Create a RUNNING run and return it; a heartbeat time is sent at once.

        An mltrail server takes the heartbeat in the same request. It does not wait
        for the writes queued in the background: none of them can name a run that
        does not exist yet, or change what this call answers (an autologged fit
        would otherwise wait for the last run's metrics and inputs to travel).
        """
        with_heartbeat = heartbeat_time is not None and self._has_feature(
            "create_run_heartbeat"
        )
        body = self._call(
            "POST",
            "/runs/create",
            {
                "experiment_id": experiment_id,
                "user_id": user_id,
                "start_time": start_time,
                "run_name": run_name or None,
                "tags": tags_to_json(tags),
                "heartbeat_time": heartbeat_time if with_heartbeat else None,
            },
            idempotent=False,
            after_queued=False,
        )
        run = run_from_json(body["run"])
        self._remember(run.info)
        if heartbeat_time is not None and not with_heartbeat:
            self.touch_heartbeat([run.info.run_id], heartbeat_time)
        return run

    def get_run(self, run_id: str) -> Run:
        """Return the run with its latest metrics, params, tags and inputs."""
        body = self._call("GET", "/runs/get", {"run_id": run_id})
        run = run_from_json(body["run"])
        self._remember(run.info)
        return run

    def update_run_info(
        self,
        run_id: str,
        *,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
        lifecycle_stage: str | None = None,
        metric_batches: Sequence[tuple[str, Sequence[Metric]]] = (),
        heartbeat_time: int | None = None,
    ) -> RunInfo:
        """Write buffered points, then change the run's status, end time or name.

        A ``heartbeat_time`` (a resumed run) is sent as a heartbeat afterwards.

        If the server is unreachable, both are spooled and the returned info is the
        last known one with the changes applied.
        """
        info = self._update_run_info(
            run_id,
            status=status,
            end_time=end_time,
            run_name=run_name,
            lifecycle_stage=lifecycle_stage,
            metric_batches=metric_batches,
        )
        if heartbeat_time is not None:
            self.touch_heartbeat([run_id], heartbeat_time)
        return info

    def _update_run_info(
        self,
        run_id: str,
        *,
        status: str | None,
        end_time: int | None,
        run_name: str | None,
        lifecycle_stage: str | None,
        metric_batches: Sequence[tuple[str, Sequence[Metric]]],
    ) -> RunInfo:
        fields: dict[str, Any] = {
            "run_id": run_id,
            "run_uuid": run_id,
            "status": status,
            "end_time": end_time,
            "run_name": run_name,
        }
        if metric_batches and self._can_send_with_update(
            run_id, metric_batches, lifecycle_stage, status, end_time, run_name
        ):
            # One request, one transaction on the server: the points and the end.
            fields["metrics"] = [
                _metric_json(metric)
                for _, metrics in metric_batches
                for metric in metrics
            ]
            return self._send_update(run_id, fields, idempotent=False)
        if metric_batches:
            self.log_metric_batches(metric_batches)
        if lifecycle_stage is not None:
            route = (
                "/runs/delete"
                if lifecycle_stage == LifecycleStage.DELETED.value
                else "/runs/restore"
            )
            self._call("POST", route, {"run_id": run_id})
        if status is None and end_time is None and run_name is None:
            return self.get_run(run_id).info
        return self._send_update(run_id, fields, idempotent=True)

    def _can_send_with_update(
        self,
        run_id: str,
        metric_batches: Sequence[tuple[str, Sequence[Metric]]],
        lifecycle_stage: str | None,
        status: str | None,
        end_time: int | None,
        run_name: str | None,
    ) -> bool:
        """Whether the points can travel in the ``runs/update`` of the same run."""
        return (
            lifecycle_stage is None
            and (status is not None or end_time is not None or run_name is not None)
            and all(batch_run_id == run_id for batch_run_id, _ in metric_batches)
            and sum(len(metrics) for _, metrics in metric_batches)
            <= MLTRAIL_BATCH_ITEMS
            and self._has_feature("update_run_metrics")
        )

    def _send_update(
        self, run_id: str, fields: dict[str, Any], *, idempotent: bool
    ) -> RunInfo:
        """Send ``runs/update`` (spooled if the server is down); return the info."""
        status = fields["status"]
        end_time = fields["end_time"]
        run_name = fields["run_name"]
        known = self._infos.get(run_id)
        if known is None:
            body = self._call("POST", "/runs/update", fields, idempotent=idempotent)
            return self._remember(run_info_from_json(body["run_info"]))
        self._write("POST", "/runs/update", fields, idempotent=idempotent)
        changes: dict[str, Any] = {
            "status": status,
            "end_time": end_time,
            "run_name": run_name,
        }
        return self._remember(
            dataclasses.replace(
                known, **{k: v for k, v in changes.items() if v is not None}
            )
        )

    def _batches(
        self,
        metrics: Sequence[Metric],
        params: Sequence[Param],
        tags: Sequence[RunTag],
    ) -> list[dict[str, list[dict[str, Any]]]]:
        """Cut a batch into requests the server accepts."""
        items = {
            "metrics": [_metric_json(m) for m in metrics],
            "params": params_to_json(params),
            "tags": tags_to_json(tags),
        }
        if self._is_mltrail:
            total = sum(len(value) for value in items.values())
            if total <= MLTRAIL_BATCH_ITEMS:
                return [items]
            limits = dict.fromkeys(
                ("metrics", "params", "tags", "total"), MLTRAIL_BATCH_ITEMS
            )
        else:
            limits = MLFLOW_LIMITS
        requests: list[dict[str, list[dict[str, Any]]]] = []
        current: dict[str, list[dict[str, Any]]] = {
            "metrics": [],
            "params": [],
            "tags": [],
        }
        for kind in ("params", "tags", "metrics"):
            for item in items[kind]:
                size = sum(len(value) for value in current.values())
                if len(current[kind]) >= limits[kind] or size >= limits["total"]:
                    requests.append(current)
                    current = {"metrics": [], "params": [], "tags": []}
                current[kind].append(item)
        requests.append(current)
        return requests

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        background: bool | None = None,
    ) -> None:
        """Write metrics, params and tags (one request against mltrail's server).

        Without params, nothing can refuse the batch but a missing or deleted run:
        it is sent in the background, and such an error raised by the next call.
        With params it is sent at once, as a param that has another value already is
        refused, unless ``background=True`` says that none can have one (autolog's
        own run, whose params it writes once).
        """
        later = not params if background is None else background
        self._log_batch(run_id, metrics, params, tags, background=later)

    def _log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric],
        params: Sequence[Param],
        tags: Sequence[RunTag],
        *,
        background: bool,
    ) -> None:
        for request in self._batches(metrics, params, tags):
            if any(request.values()):
                self._write(
                    "POST",
                    "/runs/log-batch",
                    {"run_id": run_id, **request},
                    idempotent=False,
                    background=background,
                )

    def log_metric_batches(
        self, batches: Sequence[tuple[str, Sequence[Metric]]]
    ) -> None:
        """Write the metric points of several runs, one ``log-batch`` per run.

        Sent at once: the metric buffer calls this from its own thread, or to
        flush, and handles the errors itself.
        """
        for run_id, metrics in batches:
            self._log_batch(run_id, metrics, (), (), background=False)

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag from a run."""
        self._call("POST", "/runs/delete-tag", {"run_id": run_id, "key": key})

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Return every point of one metric, ordered by step, then timestamp."""
        metrics: list[Metric] = []
        token: str | None = None
        while True:
            body = self._call(
                "GET",
                "/metrics/get-history",
                {
                    "run_id": run_id,
                    "metric_key": key,
                    "max_results": HISTORY_PAGE,
                    "page_token": token,
                },
            )
            metrics.extend(metric_from_json(item) for item in body.get("metrics", ()))
            token = body.get("next_page_token") or None
            if token is None:
                return metrics

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        """Record datasets as inputs of the run (sent in the background)."""
        if datasets:
            self._write(
                "POST",
                "/runs/log-inputs",
                {
                    "run_id": run_id,
                    "datasets": [dataset_input_to_json(item) for item in datasets],
                },
                idempotent=True,
                background=True,
            )

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str = "",
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """Return runs matching the filter, ordered and paged stably."""
        with paused_gc():
            body = self._call(
                "POST",
                "/runs/search",
                {
                    "experiment_ids": list(experiment_ids),
                    "filter": filter_string or None,
                    "run_view_type": ViewType(view_type).value,
                    "max_results": max_results,
                    "order_by": list(order_by),
                    "page_token": page_token,
                },
            )
            runs = [run_from_json(item) for item in body.get("runs", ())]
        return PagedList(runs, body.get("next_page_token") or None)

    def touch_heartbeat(self, run_ids: Sequence[str], time: int) -> None:
        """Tell an mltrail server that these runs' process is alive.

        MLflow's servers have no such route: heartbeats then stop silently.
        """
        if not self._heartbeats or not run_ids:
            return
        try:
            self._client.call(
                "POST",
                MLTRAIL_API + "/runs/heartbeat",
                {"run_ids": list(run_ids), "time": time},
            )
        except RemoteNotFoundError as error:
            if error.error_code != "ENDPOINT_NOT_FOUND":
                raise
            self._heartbeats = False

    # Logged models.

    def create_logged_model(
        self,
        experiment_id: str,
        *,
        name: str,
        source_run_id: str | None = None,
        model_type: str | None = None,
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        artifact_location: str | None = None,
    ) -> LoggedModel:
        """Create a PENDING logged model; the server chooses where its files go.

        MLflow's REST API has no field for ``artifact_location``: it is ignored.
        """
        body = self._call(
            "POST",
            "/logged-models",
            {
                "experiment_id": experiment_id,
                "name": name,
                "source_run_id": source_run_id,
                "model_type": model_type,
                "params": params_to_json(params),
                "tags": tags_to_json(tags),
            },
            idempotent=False,
        )
        return logged_model_from_json(body["model"])

    def get_logged_model(
        self, model_id: str, *, allow_deleted: bool = False
    ) -> LoggedModel:
        """Return a logged model with its params, tags and metrics."""
        body = self._call(
            "GET",
            f"/logged-models/{model_id}",
            {"allow_deleted": True} if allow_deleted else None,
        )
        return logged_model_from_json(body["model"])

    def finalize_logged_model(
        self, model_id: str, status: str, *, status_message: str | None = None
    ) -> LoggedModel:
        """Set a logged model's status (READY or FAILED) and return it."""
        body = self._call(
            "PATCH",
            f"/logged-models/{model_id}",
            {"model_id": model_id, "status": model_status_to_json(status)},
        )
        return logged_model_from_json(body["model"])

    def set_logged_model_tags(self, model_id: str, tags: Sequence[RunTag]) -> None:
        """Set tags on a logged model."""
        self._call(
            "PATCH", f"/logged-models/{model_id}/tags", {"tags": tags_to_json(tags)}
        )

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Remove a tag from a logged model."""
        from urllib.parse import quote

        self._call("DELETE", f"/logged-models/{model_id}/tags/{quote(key, safe='')}")

    def log_logged_model_params(self, model_id: str, params: Sequence[Param]) -> None:
        """Add params to a logged model."""
        self._call(
            "POST",
            f"/logged-models/{model_id}/params",
            {"model_id": model_id, "params": params_to_json(params)},
        )

    def log_logged_model_metrics(
        self, model_id: str, metrics: Sequence[LoggedModelMetric]
    ) -> None:
        """Record metric points of a logged model, through its run's ``log-batch``."""
        by_run: dict[str, list[dict[str, Any]]] = {}
        for metric in metrics:
            if metric.run_id is None:
                raise NotFoundError(
                    "run of a model metric",
                    metric.key,
                    "Over the REST API, a model's metrics are logged by a run: set "
                    "LoggedModelMetric.run_id.",
                )
            by_run.setdefault(metric.run_id, []).append(
                model_metric_to_json(metric, model_id)
            )
        for run_id, items in by_run.items():
            self._call(
                "POST",
                "/runs/log-batch",
                {"run_id": run_id, "metrics": items},
                idempotent=False,
            )

    def delete_logged_model(self, model_id: str) -> None:
        """Move a logged model to the trash."""
        self._call("DELETE", f"/logged-models/{model_id}", {"model_id": model_id})

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str = "",
        datasets: Sequence[Mapping[str, str]] = (),
        max_results: int = 100,
        order_by: Sequence[Mapping[str, Any]] = (),
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        """Return active logged models of experiments that match a filter."""
        body = self._call(
            "POST",
            "/logged-models/search",
            {
                "experiment_ids": list(experiment_ids),
                "filter": filter_string or None,
                "datasets": [dict(d) for d in datasets],
                "max_results": max_results,
                "order_by": [dict(o) for o in order_by],
                "page_token": page_token,
            },
        )
        return PagedList(
            [logged_model_from_json(item) for item in body.get("models", ())],
            body.get("next_page_token") or None,
        )

    def log_model_outputs(
        self, run_id: str, outputs: Sequence[tuple[str, int]]
    ) -> None:
        """Record ``(model_id, step)`` pairs as outputs of a run."""
        self._call(
            "POST",
            "/runs/outputs",
            {
                "run_id": run_id,
                "models": [{"model_id": m, "step": step} for m, step in outputs],
            },
        )

    def log_model_inputs(self, run_id: str, model_ids: Sequence[str]) -> None:
        """Record logged models as inputs of a run."""
        self._call(
            "POST",
            "/runs/log-inputs",
            {"run_id": run_id, "models": [{"model_id": m} for m in model_ids]},
        )

    def get_run_models(self, run_id: str) -> tuple[list[str], list[tuple[str, int]]]:
        """Return a run's model inputs (ids) and outputs (id, step)."""
        body = self._call("GET", "/runs/get", {"run_id": run_id})["run"]
        inputs = [
            str(item["model_id"])
            for item in (body.get("inputs") or {}).get("model_inputs") or ()
        ]
        outputs = [
            (str(item["model_id"]), int(item.get("step") or 0))
            for item in (body.get("outputs") or {}).get("model_outputs") or ()
        ]
        return inputs, outputs

    def close(self) -> None:
        """Send what is queued and spooled if the server answers; keep the pool."""
        try:
            self._sender.drain()
        except MltrailError as error:
            warnings.warn(
                f"mltrail could not send a write to the tracking server: {error}",
                MltrailWarning,
                stacklevel=2,
            )
        if self._spooled:
            # What cannot be sent stays on disk for the next process or 'mltrail sync'.
            with contextlib.suppress(ServerUnavailableError):
                self._send_spool()
