"""``TrackingClient`` methods that log params, metrics, tags and inputs to a run."""

from __future__ import annotations

from collections.abc import Sequence

from mltrail._entities import (
    DatasetInput,
    Metric,
    Param,
    RunTag,
)
from mltrail.tracking._buffer import check_metric
from mltrail.tracking._client_base import ClientBase, to_items


class LoggingMixin(ClientBase):
    """The logging methods of ``TrackingClient``."""

    def log_param(self, run_id: str, key: str, value: object) -> object:
        """Log a param; the value is converted with ``str``, as MLflow does.

        Parameters
        ----------
        run_id : str
            The run's id.
        key : str
            The param's name.
        value : object
            The param's value.

        Returns
        -------
        object
            ``value``, unchanged.

        Raises
        ------
        ConflictError
            If the run already has this param with another value.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.log_param(run_id, "C", 1.0)
        1.0
        >>> client.get_run(run_id).data.params
        {'C': '1.0'}
        """
        self._store.log_batch(run_id, params=[Param(key, str(value))])
        return value

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
    ) -> None:
        """Log one metric point, synchronously.

        Parameters
        ----------
        run_id : str
            The run's id.
        key : str
            The metric's name: any non-empty text up to 1,000 characters.
        value : float
            A real number; NaN and infinities are kept.
        timestamp : int or None, default=None
            Milliseconds since the epoch; None for now.
        step : int or None, default=None
            The step, such as the epoch; None for 0.

        Raises
        ------
        InvalidValueError
            If the key, value, timestamp or step is invalid.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.log_metric(run_id, "loss", float("nan"), step=2)
        >>> client.get_metric_history(run_id, "loss")[0].step
        2
        """
        metric = check_metric(key, value, step, timestamp)
        self._store.log_batch(run_id, metrics=[metric])

    def set_tag(self, run_id: str, key: str, value: object) -> None:
        """Set a tag on a run; the value is converted with ``str``.

        Parameters
        ----------
        run_id : str
            The run's id.
        key : str
            The tag's name.
        value : object
            The tag's value.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.set_tag(run_id, "team", "risk")
        >>> client.get_run(run_id).data.tags["team"]
        'risk'
        """
        self._store.log_batch(run_id, tags=[RunTag(key, str(value))])

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag from a run.

        Parameters
        ----------
        run_id : str
            The run's id.
        key : str
            The tag's name.

        Raises
        ------
        NotFoundError
            If the run has no such tag.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.set_tag(run_id, "team", "risk")
        >>> client.delete_tag(run_id, "team")
        >>> "team" in client.get_run(run_id).data.tags
        False
        """
        self._store.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
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

        Raises
        ------
        InvalidValueError
            If any item is invalid; nothing is written.
        ConflictError
            If a param already has another value; nothing is written.

        Examples
        --------
        >>> from mltrail import Metric, Param, TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.log_batch(run_id, metrics=[Metric("acc", 0.9, 1700000000000, 0)],
        ...                  params=[Param("C", "1.0")])
        >>> client.get_run(run_id).data.metrics
        {'acc': 0.9}
        """
        self._store.log_batch(
            run_id,
            metrics=to_items("metrics", metrics, "Metric"),
            params=to_items("params", params, "Param"),
            tags=to_items("tags", tags, "RunTag"),
        )

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Return every point of one metric, ordered by step, then timestamp.

        Parameters
        ----------
        run_id : str
            The run's id.
        key : str
            The metric's name.

        Returns
        -------
        list of Metric
            The points; empty if the run has no such metric.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> for step in range(3):
        ...     client.log_metric(run_id, "loss", 1 / (step + 1), step=step)
        >>> [m.value for m in client.get_metric_history(run_id, "loss")]
        [1.0, 0.5, 0.3333333333333333]
        """
        self._flush_pending(run_id)
        return self._store.get_metric_history(run_id, key)

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        """Record datasets as inputs of a run; repeats are ignored.

        Parameters
        ----------
        run_id : str
            The run's id.
        datasets : sequence of DatasetInput
            The datasets and the tags of their use, such as their context.

        Examples
        --------
        >>> from mltrail import Dataset, DatasetInput, InputTag, TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> dataset = Dataset("train", "ab12", "code", "{}")
        >>> context = InputTag("mlflow.data.context", "train")
        >>> client.log_inputs(run_id, [DatasetInput(dataset, [context])])
        >>> client.get_run(run_id).inputs.dataset_inputs[0].dataset.name
        'train'
        """
        self._store.log_inputs(run_id, to_items("datasets", datasets, "DatasetInput"))
