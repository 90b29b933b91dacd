"""``MlflowClient``: ``TrackingClient`` with MLflow's client names and signatures.

Scripts written for MLflow reach it as ``mlflow.MlflowClient``,
``mlflow.tracking.MlflowClient`` or ``mlflow.client.MlflowClient``. Where MLflow
and mltrail name a method alike, it is ``TrackingClient``'s; this class adds the
arguments that only MLflow has (``synchronous``, a metric's ``model_id`` and
dataset) and the methods of MLflow 3's logged models.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mltrail._entities import (
    DatasetInput,
    LoggedModel,
    LoggedModelMetric,
    LoggedModelStatus,
    Metric,
    PagedList,
    Param,
    Run,
    RunTag,
)
from mltrail._errors import InvalidValueError
from mltrail._system_tags import PARENT_RUN_ID_TAG
from mltrail.tracking._buffer import check_metric
from mltrail.tracking._client import TrackingClient
from mltrail.tracking._client_base import to_items, to_mapping, to_names, to_status

if TYPE_CHECKING:
    from mltrail._registry_entities import ModelVersion, RegisteredModel
    from mltrail.entities import LoggedModelInput, LoggedModelOutput

__all__ = ["MlflowClient"]


class MlflowClient(TrackingClient):
    """MLflow's ``MlflowClient`` on an mltrail store: ``TrackingClient`` plus MLflow.

    Every ``TrackingClient`` method works; the methods below take MLflow's extra
    arguments too. ``synchronous`` is accepted and has no effect: the client
    always writes before it returns.

    Parameters
    ----------
    tracking_uri : str or os.PathLike or None, default=None
        Where runs are stored; None uses ``mltrail.get_tracking_uri()``.
    registry_uri : str or None, default=None
        Where registered models are stored: the tracking store or None, since
        mltrail keeps its registry in the tracking store.

    Raises
    ------
    InvalidValueError
        If ``registry_uri`` names another store than ``tracking_uri``.

    Examples
    --------
    >>> import mltrail
    >>> client = mltrail.MlflowClient()
    >>> experiment_id = client.create_experiment("client-demo")
    >>> run = client.create_run(experiment_id)
    >>> client.log_metric(run.info.run_id, "rmse", 0.5, synchronous=True)
    >>> client.set_terminated(run.info.run_id)
    >>> client.get_run(run.info.run_id).data.metrics
    {'rmse': 0.5}
    """

    def __init__(
        self,
        tracking_uri: str | os.PathLike[str] | None = None,
        registry_uri: str | None = None,
    ) -> None:
        super().__init__(tracking_uri)
        if registry_uri is not None and registry_uri != self._tracking_uri:
            raise InvalidValueError(
                "registry_uri",
                registry_uri,
                f"None or the tracking URI {self._tracking_uri!r}",
                "mltrail keeps registered models in the tracking store; "
                "omit registry_uri.",
            )

    def __repr__(self) -> str:
        return f"MlflowClient(tracking_uri={self._tracking_uri!r})"

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
        synchronous: bool | None = None,
        dataset_name: str | None = None,
        dataset_digest: str | None = None,
        model_id: str | None = None,
    ) -> None:
        """Log one metric point to a run, and to a logged model if one is named.

        Parameters
        ----------
        run_id : str
            The run's id.
        key : str
            The metric's name.
        value : float
            A real number; NaN and infinities are kept.
        timestamp : int or None, default=None
            Milliseconds since the epoch; None for now.
        step : int or None, default=None
            The step; None for 0.
        synchronous : bool or None, default=None
            Accepted for MLflow; the point is always written before returning.
        dataset_name : str or None, default=None
            The dataset the metric was computed on, recorded with the model's point.
        dataset_digest : str or None, default=None
            That dataset's digest.
        model_id : str or None, default=None
            A logged model (``m-...``) to link the point to, as MLflow 3 does.

        Raises
        ------
        InvalidValueError
            If the key, value, timestamp or step is invalid.
        NotFoundError
            If the run or the logged model does not exist.

        Examples
        --------
        >>> import mltrail
        >>> client = mltrail.MlflowClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> model = client.create_logged_model("0", name="model", source_run_id=run_id)
        >>> client.log_metric(run_id, "acc", 0.9, model_id=model.model_id,
        ...                   dataset_name="test")
        >>> [(m.key, m.dataset_name) for m in client.get_logged_model(
        ...     model.model_id).metrics]
        [('acc', 'test')]
        """
        del synchronous  # the client always writes synchronously
        metric = check_metric(key, value, step, timestamp)
        self._store.log_batch(run_id, metrics=[metric])
        if model_id is not None:
            self._link_metrics(model_id, run_id, [metric], dataset_name, dataset_digest)

    def _link_metrics(
        self,
        model_id: str,
        run_id: str,
        metrics: Iterable[Metric],
        dataset_name: str | None,
        dataset_digest: str | None,
    ) -> None:
        """Record metric points of a run as the logged model's, with their dataset."""
        self._store.log_logged_model_metrics(
            model_id,
            [
                LoggedModelMetric(
                    metric.key,
                    metric.value,
                    metric.timestamp,
                    metric.step,
                    run_id=run_id,
                    dataset_name=dataset_name,
                    dataset_digest=dataset_digest,
                )
                for metric in metrics
            ],
        )

    def log_param(
        self, run_id: str, key: str, value: object, synchronous: bool | None = None
    ) -> object:
        """Log a param; the value is converted with ``str``, as MLflow does.

        Parameters
        ----------
        run_id : str
            The run's id.
        key : str
            The param's name.
        value : object
            The param's value.
        synchronous : bool or None, default=None
            Accepted for MLflow; the param is always written before returning.

        Returns
        -------
        object
            ``value``, unchanged.

        Examples
        --------
        >>> import mltrail
        >>> client = mltrail.MlflowClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.log_param(run_id, "alpha", 0.5, synchronous=False)
        0.5
        """
        del synchronous
        return super().log_param(run_id, key, value)

    def set_tag(
        self, run_id: str, key: str, value: object, synchronous: bool | None = None
    ) -> None:
        """Set a tag on a run; the value is converted with ``str``.

        Parameters
        ----------
        run_id : str
            The run's id.
        key : str
            The tag's name.
        value : object
            The tag's value.
        synchronous : bool or None, default=None
            Accepted for MLflow; the tag is always written before returning.

        Examples
        --------
        >>> import mltrail
        >>> client = mltrail.MlflowClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.set_tag(run_id, "team", "risk", synchronous=True)
        >>> client.get_run(run_id).data.tags["team"]
        'risk'
        """
        del synchronous
        super().set_tag(run_id, key, value)

    def log_image(
        self,
        run_id: str,
        image: Any,
        artifact_file: str | None = None,
        key: str | None = None,
        step: int | None = None,
        timestamp: int | None = None,
        synchronous: bool | None = None,
    ) -> None:
        """Log an image as a PNG file, at a path or under a key and step.

        Parameters
        ----------
        run_id : str
            The run's id.
        image : numpy.ndarray or PIL.Image.Image
            As in ``TrackingClient.log_image``.
        artifact_file : str or None, default=None
            The run-relative file path, such as ``"plots/sample.png"``.
        key : str or None, default=None
            The name of an image series, instead of ``artifact_file``.
        step : int or None, default=None
            The step of a keyed image; None for 0.
        timestamp : int or None, default=None
            The time of a keyed image, in milliseconds since the epoch.
        synchronous : bool or None, default=None
            Accepted for MLflow; the image is always written before returning.

        Raises
        ------
        InvalidValueError
            As in ``TrackingClient.log_image``.

        Examples
        --------
        >>> import numpy as np
        >>> import mltrail
        >>> client = mltrail.MlflowClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.log_image(run_id, np.ones((4, 4)), key="masks", step=2)
        >>> client.get_run(run_id).data.tags["mlflow.loggedImages"]
        'True'
        """
        del synchronous
        super().log_image(
            run_id, image, artifact_file, key=key, step=step, timestamp=timestamp
        )

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        synchronous: bool | None = None,
    ) -> None:
        """Log metrics, params and tags at once: all of them or, on error, none.

        Parameters
        ----------
        run_id : str
            The run's id.
        metrics : sequence of Metric, default=()
            Metric points.
        params : sequence of Param, default=()
            Params.
        tags : sequence of RunTag, default=()
            Tags.
        synchronous : bool or None, default=None
            Accepted for MLflow; the batch is always written before returning.

        Examples
        --------
        >>> import mltrail
        >>> from mltrail.entities import Param
        >>> client = mltrail.MlflowClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.log_batch(run_id, params=[Param("C", "1")], synchronous=True)
        >>> client.get_run(run_id).data.params
        {'C': '1'}
        """
        del synchronous
        super().log_batch(run_id, metrics, params, tags)

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] | None = None,
        models: Sequence[LoggedModelInput] | None = None,
    ) -> None:
        """Record datasets, and logged models, as inputs of a run.

        Parameters
        ----------
        run_id : str
            The run's id.
        datasets : sequence of DatasetInput or None, default=None
            The datasets and the tags of their use, such as their context.
        models : sequence of LoggedModelInput or None, default=None
            Logged models the run read, such as the model it evaluates.

        Examples
        --------
        >>> import mltrail
        >>> from mltrail.entities import LoggedModelInput
        >>> client = mltrail.MlflowClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> model = client.create_logged_model("0", name="model")
        >>> client.log_inputs(run_id, models=[LoggedModelInput(model.model_id)])
        """
        if datasets is not None:
            super().log_inputs(run_id, datasets)
        if models is not None:
            model_ids = [model.model_id for model in to_items("models", models, "")]
            self._store.log_model_inputs(run_id, model_ids)

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        """Record logged models as outputs of a run, each with its step.

        Parameters
        ----------
        run_id : str
            The run's id.
        models : sequence of LoggedModelOutput
            The logged models the run produced.

        Examples
        --------
        >>> import mltrail
        >>> from mltrail.entities import LoggedModelOutput
        >>> client = mltrail.MlflowClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> model = client.create_logged_model("0", name="model")
        >>> client.log_outputs(run_id, [LoggedModelOutput(model.model_id, step=1)])
        """
        items = to_items("models", models, "LoggedModelOutput")
        self._store.log_model_outputs(
            run_id, [(model.model_id, model.step) for model in items]
        )

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove a tag from an experiment.

        Parameters
        ----------
        experiment_id : str
            The experiment's id.
        key : str
            The tag's name.

        Examples
        --------
        >>> import mltrail
        >>> client = mltrail.MlflowClient()
        >>> client.set_experiment_tag("0", "team", "risk")
        >>> client.delete_experiment_tag("0", "team")
        >>> "team" in client.get_experiment("0").tags
        False
        """
        self._store.delete_experiment_tag(str(experiment_id), key)

    def get_parent_run(self, run_id: str) -> Run | None:
        """Return the parent of a nested run, or None for a top-level run.

        Parameters
        ----------
        run_id : str
            The child run's id.

        Returns
        -------
        Run or None
            The run named by the child's ``mlflow.parentRunId`` tag.

        Examples
        --------
        >>> import mltrail
        >>> with mltrail.start_run() as parent:
        ...     with mltrail.start_run(nested=True) as child:
        ...         pass
        >>> client = mltrail.MlflowClient()
        >>> client.get_parent_run(child.info.run_id).info.run_id == parent.info.run_id
        True
        """
        parent_id = self.get_run(run_id).data.tags.get(PARENT_RUN_ID_TAG)
        return None if parent_id is None else self.get_run(parent_id)

    def update_run(
        self, run_id: str, status: str | None = None, name: str | None = None
    ) -> None:
        """Change a run's status or name.

        Parameters
        ----------
        run_id : str
            The run's id.
        status : str or None, default=None
            A ``RunStatus`` name, such as ``"FINISHED"``; None keeps it.
        name : str or None, default=None
            The new run name; None keeps it.

        Examples
        --------
        >>> import mltrail
        >>> client = mltrail.MlflowClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.update_run(run_id, name="baseline")
        >>> client.get_run(run_id).info.run_name
        'baseline'
        """
        if status is not None:
            checked = to_status(status)
            if checked.is_terminated:
                self.set_terminated(run_id, checked)
            else:
                self._store.update_run_info(run_id, status=checked.value)
        if name is not None:
            self.set_tag(run_id, "mlflow.runName", name)  # the store renames the run

    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, object] | None = None,
        description: str | None = None,
        deployment_job_id: str | None = None,
    ) -> RegisteredModel:
        """Create a registered model with no versions.

        Parameters
        ----------
        name : str
            The model's name, unique in the registry.
        tags : mapping or None, default=None
            Its tags.
        description : str or None, default=None
            Its description.
        deployment_job_id : str or None, default=None
            Databricks' deployment job; mltrail has none, so it must be None.

        Returns
        -------
        RegisteredModel
            The new model.

        Examples
        --------
        >>> import mltrail
        >>> mltrail.MlflowClient().create_registered_model("mlflow-churn").name
        'mlflow-churn'
        """
        _refuse_deployment_job(deployment_job_id)
        return super().create_registered_model(name, tags, description)

    def update_registered_model(
        self,
        name: str,
        description: str | None = None,
        deployment_job_id: str | None = None,
    ) -> RegisteredModel:
        """Change a registered model's description.

        Parameters
        ----------
        name : str
            The model's name.
        description : str or None, default=None
            The new description.
        deployment_job_id : str or None, default=None
            Databricks' deployment job; mltrail has none, so it must be None.

        Returns
        -------
        RegisteredModel
            The model as updated.

        Examples
        --------
        >>> import mltrail
        >>> client = mltrail.MlflowClient()
        >>> _ = client.create_registered_model("mlflow-fraud")
        >>> client.update_registered_model("mlflow-fraud", "v2 features").description
        'v2 features'
        """
        _refuse_deployment_job(deployment_job_id)
        return super().update_registered_model(name, description)

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, object] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        await_creation_for: int = 300,
        model_id: str | None = None,
    ) -> ModelVersion:
        """Register a version of a model from its files.

        Parameters
        ----------
        name : str
            The registered model's name.
        source : str
            Where the files are, such as ``runs:/<run_id>/model``.
        run_id : str or None, default=None
            The run that produced them.
        tags : mapping or None, default=None
            The version's tags.
        run_link : str or None, default=None
            A link to the run.
        description : str or None, default=None
            The version's description.
        await_creation_for : int, default=300
            Accepted for MLflow; versions are READY as soon as they are created.
        model_id : str or None, default=None
            The logged model (``m-...``) the version comes from; its URI is the
            source when ``source`` is empty.

        Returns
        -------
        ModelVersion
            The new version.

        Examples
        --------
        >>> import mltrail
        >>> client = mltrail.MlflowClient()
        >>> _ = client.create_registered_model("mlflow-ranker")
        >>> run_id = client.create_run("0").info.run_id
        >>> client.create_model_version("mlflow-ranker", f"runs:/{run_id}/model",
        ...                             run_id).version
        1
        """
        del await_creation_for  # versions are READY at once
        if not source and model_id is not None:
            source = f"models:/{model_id}"
        return super().create_model_version(
            name, source, run_id, tags, run_link, description
        )

    def set_model_version_tag(
        self,
        name: str,
        version: int | str | None = None,
        key: str | None = None,
        value: object = None,
        stage: str | None = None,
    ) -> None:
        """Set a tag on a model version, named by its number or (MLflow 2) its stage.

        Parameters
        ----------
        name : str
            The registered model's name.
        version : int or str or None, default=None
            The version; None takes the latest version in ``stage``.
        key : str or None, default=None
            The tag's name (required).
        value : object, default=None
            The tag's value, converted with ``str``.
        stage : str or None, default=None
            A stage such as ``"Production"``, used when ``version`` is None.

        Examples
        --------
        >>> import mltrail
        >>> client = mltrail.MlflowClient()
        >>> _ = client.create_registered_model("mlflow-scorer")
        >>> run_id = client.create_run("0").info.run_id
        >>> source = f"runs:/{run_id}/model"
        >>> _ = client.create_model_version("mlflow-scorer", source, run_id)
        >>> client.set_model_version_tag("mlflow-scorer", "1", "validated", "yes")
        >>> client.get_model_version("mlflow-scorer", "1").tags
        {'validated': 'yes'}
        """
        super().set_model_version_tag(
            name, self._version_of(name, version, stage), _key(key), value
        )

    def delete_model_version_tag(
        self,
        name: str,
        version: int | str | None = None,
        key: str | None = None,
        stage: str | None = None,
    ) -> None:
        """Remove a tag from a model version, named by its number or its stage.

        Parameters
        ----------
        name : str
            The registered model's name.
        version : int or str or None, default=None
            The version; None takes the latest version in ``stage``.
        key : str or None, default=None
            The tag's name (required).
        stage : str or None, default=None
            A stage such as ``"Production"``, used when ``version`` is None.

        Examples
        --------
        >>> import mltrail
        >>> client = mltrail.MlflowClient()
        >>> _ = client.create_registered_model("mlflow-tagged")
        >>> run_id = client.create_run("0").info.run_id
        >>> source = f"runs:/{run_id}/model"
        >>> _ = client.create_model_version("mlflow-tagged", source, run_id)
        >>> client.set_model_version_tag("mlflow-tagged", "1", "k", "v")
        >>> client.delete_model_version_tag("mlflow-tagged", "1", "k")
        >>> client.get_model_version("mlflow-tagged", "1").tags
        {}
        """
        super().delete_model_version_tag(
            name, self._version_of(name, version, stage), _key(key)
        )

    def _version_of(
        self, name: str, version: int | str | None, stage: str | None
    ) -> int | str:
        """Return ``version``, or the latest version of ``name`` in ``stage``."""
        if version is not None:
            return version
        if stage is None:
            raise InvalidValueError(
                "version", None, "a version number", "Pass version='1' or a stage."
            )
        latest = self.get_latest_versions(name, [stage])
        if not latest:
            raise InvalidValueError(
                "stage",
                stage,
                f"a stage that holds a version of {name!r}",
                "Pass the version number instead.",
            )
        return latest[0].version

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Mapping[str, object] | None = None,
        params: Mapping[str, object] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """Create a PENDING logged model (MLflow 3) in an experiment.

        Parameters
        ----------
        experiment_id : str
            The experiment it belongs to.
        name : str or None, default=None
            Its name; None for ``"model"``.
        source_run_id : str or None, default=None
            The run that produced it.
        tags : mapping or None, default=None
            Its tags; values are converted with ``str``.
        params : mapping or None, default=None
            Its params; values are converted with ``str``.
        model_type : str or None, default=None
            A free-form type, such as ``"classifier"``.

        Returns
        -------
        LoggedModel
            The new logged model, ``PENDING`` until ``finalize_logged_model``.

        Examples
        --------
        >>> import mltrail
        >>> client = mltrail.MlflowClient()
        >>> model = client.create_logged_model("0", name="ranked", params={"k": 5})
        >>> model.status, model.params
        ('PENDING', {'k': '5'})
        """
        tag_values = to_mapping("tags", tags, "Pass {'team': 'risk'}.")
        param_values = to_mapping("params", params, "Pass {'alpha': 0.5}.")
        return self._store.create_logged_model(
            str(experiment_id),
            name=name or "model",
            source_run_id=source_run_id,
            model_type=model_type,
            params=[Param(str(k), str(v)) for k, v in param_values.items()],
            tags=[RunTag(str(k), str(v)) for k, v in tag_values.items()],
        )

    def get_logged_model(self, model_id: str) -> LoggedModel:
        """Return a logged model with its params, tags and metrics.

        Parameters
        ----------
        model_id : str
            Its id, ``"m-"`` and 32 hexadecimal characters.

        Returns
        -------
        LoggedModel
            The logged model as stored now.

        Raises
        ------
        NotFoundError
            If no logged model has this id.

        Examples
        --------
        >>> import mltrail
        >>> client = mltrail.MlflowClient()
        >>> model_id = client.create_logged_model("0", name="m").model_id
        >>> client.get_logged_model(model_id).name
        'm'
        """
        self._flush_pending()
        return self._store.get_logged_model(model_id)

    def finalize_logged_model(
        self, model_id: str, status: LoggedModelStatus | str
    ) -> LoggedModel:
        """Mark a logged model's files complete (``READY``) or failed (``FAILED``).

        Parameters
        ----------
        model_id : str
            The logged model's id.
        status : LoggedModelStatus or str
            ``"READY"`` or ``"FAILED"``.

        Returns
        -------
        LoggedModel
            The logged model with its new status.

        Examples
        --------
        >>> import mltrail
        >>> client = mltrail.MlflowClient()
        >>> model_id = client.create_logged_model("0").model_id
        >>> client.finalize_logged_model(model_id, "READY").status
        'READY'
        """
        checked = str(status.value if isinstance(status, LoggedModelStatus) else status)
        if checked not in ("READY", "FAILED"):
            raise InvalidValueError(
                "logged model status",
                status,
                "'READY' or 'FAILED'",
                "Pass 'READY' once the model's files are written.",
            )
        return self._store.finalize_logged_model(model_id, checked)

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, object]) -> None:
        """Set tags on a logged model.

        Parameters
        ----------
        model_id : str
            The logged model's id.
        tags : mapping
            Tag names to values; values are converted with ``str``.

        Examples
        --------
        >>> import mltrail
        >>> client = mltrail.MlflowClient()
        >>> model_id = client.create_logged_model("0").model_id
        >>> client.set_logged_model_tags(model_id, {"stage": "candidate"})
        >>> client.get_logged_model(model_id).tags["stage"]
        'candidate'
        """
        values = to_mapping(
            "tags", tags, "Pass {'stage': 'candidate'}.", optional=False
        )
        self._store.set_logged_model_tags(
            model_id, [RunTag(str(k), str(v)) for k, v in values.items()]
        )

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Remove a tag from a logged model.

        Parameters
        ----------
        model_id : str
            The logged model's id.
        key : str
            The tag's name.

        Examples
        --------
        >>> import mltrail
        >>> client = mltrail.MlflowClient()
        >>> model_id = client.create_logged_model("0", tags={"k": "v"}).model_id
        >>> client.delete_logged_model_tag(model_id, "k")
        >>> "k" in client.get_logged_model(model_id).tags
        False
        """
        self._store.delete_logged_model_tag(model_id, key)

    def delete_logged_model(self, model_id: str) -> None:
        """Move a logged model to the trash.

        Parameters
        ----------
        model_id : str
            The logged model's id.

        Examples
        --------
        >>> import mltrail
        >>> client = mltrail.MlflowClient()
        >>> model_id = client.create_logged_model("0").model_id
        >>> client.delete_logged_model(model_id)
        >>> [m.model_id for m in client.search_logged_models(["0"])].count(model_id)
        0
        """
        self._store.delete_logged_model(model_id)

    def log_model_params(self, model_id: str, params: Mapping[str, object]) -> None:
        """Add params to a logged model.

        Parameters
        ----------
        model_id : str
            The logged model's id.
        params : mapping
            Param names to values; values are converted with ``str``.

        Examples
        --------
        >>> import mltrail
        >>> client = mltrail.MlflowClient()
        >>> model_id = client.create_logged_model("0").model_id
        >>> client.log_model_params(model_id, {"alpha": 0.5})
        >>> client.get_logged_model(model_id).params
        {'alpha': '0.5'}
        """
        values = to_mapping("params", params, "Pass {'alpha': 0.5}.", optional=False)
        self._store.log_logged_model_params(
            model_id, [Param(str(k), str(v)) for k, v in values.items()]
        )

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int | None = None,
        order_by: Sequence[Mapping[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        """Return one page of the logged models of experiments that match a filter.

        Parameters
        ----------
        experiment_ids : sequence of str
            The experiments to search.
        filter_string : str or None, default=None
            Such as ``"metrics.rmse < 0.5 AND params.alpha = '0.5'"``.
        datasets : sequence of mapping or None, default=None
            Restrict metric filters and orders to these datasets:
            ``{"dataset_name": ..., "dataset_digest": ...}``.
        max_results : int or None, default=None
            The page size; None for 100.
        order_by : sequence of mapping or None, default=None
            Such as ``[{"field_name": "metrics.rmse", "ascending": True}]``.
        page_token : str or None, default=None
            The ``token`` of the previous page.

        Returns
        -------
        PagedList of LoggedModel
            The logged models, with the token of the next page.

        Examples
        --------
        >>> import mltrail
        >>> client = mltrail.MlflowClient()
        >>> experiment_id = client.create_experiment("logged-models-demo")
        >>> _ = client.create_logged_model(experiment_id, name="a")
        >>> [m.name for m in client.search_logged_models([experiment_id])]
        ['a']
        """
        self._flush_pending()
        return self._store.search_logged_models(
            to_names("experiment_ids", experiment_ids),
            filter_string=filter_string or "",
            datasets=list(datasets or ()),
            max_results=100 if max_results is None else max_results,
            order_by=list(order_by or ()),
            page_token=page_token,
        )


def _refuse_deployment_job(deployment_job_id: str | None) -> None:
    if deployment_job_id is not None:
        raise InvalidValueError(
            "deployment_job_id",
            deployment_job_id,
            "None",
            "Deployment jobs are Databricks'; mltrail has none.",
        )


def _key(key: str | None) -> str:
    if key is None:
        raise InvalidValueError("key", None, "a tag name", "Pass key='validated'.")
    return key
