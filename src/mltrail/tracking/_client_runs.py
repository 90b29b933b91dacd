"""``TrackingClient`` methods for runs: create, get, end, delete and search."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mltrail._entities import (
    LifecycleStage,
    PagedList,
    Run,
    RunStatus,
    RunTag,
    ViewType,
)
from mltrail._system_tags import RUN_NAME_TAG, USER_TAG
from mltrail.tracking import _heartbeat, _pending
from mltrail.tracking._buffer import MetricBuffer, existing_buffer
from mltrail.tracking._client_base import (
    ClientBase,
    now_ms,
    to_mapping,
    to_names,
    to_status,
    to_view_type,
)
from mltrail.tracking._context import (
    generate_run_name,
    get_user,
)


class RunsMixin(ClientBase):
    """The run methods of ``TrackingClient``."""

    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: Mapping[str, object] | None = None,
        run_name: str | None = None,
    ) -> Run:
        """Create a RUNNING run; end it with ``set_terminated``.

        While the run is RUNNING, this process records its heartbeat, so the run
        reads KILLED if the process dies without ending it.

        Parameters
        ----------
        experiment_id : str
            The experiment to create the run in.
        start_time : int or None, default=None
            Milliseconds since the epoch; None for now.
        tags : mapping or None, default=None
            Run tags; values are converted with ``str``. ``mlflow.user`` sets the
            run's user.
        run_name : str or None, default=None
            The run's name; None for a random one such as ``brave-otter-417``.

        Returns
        -------
        Run
            The new run.

        Raises
        ------
        NotFoundError
            If the experiment does not exist.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> run = TrackingClient().create_run("0", run_name="baseline")
        >>> run.info.run_name, run.info.status
        ('baseline', 'RUNNING')
        """
        tag_values = {
            key: str(value)
            for key, value in to_mapping("tags", tags, "Pass {'team': 'risk'}.").items()
        }
        name = run_name or tag_values.get(RUN_NAME_TAG) or generate_run_name()
        tag_values[RUN_NAME_TAG] = name
        now = now_ms()
        run = self._store.create_run(
            str(experiment_id),
            user_id=tag_values.get(USER_TAG) or get_user(),
            start_time=now if start_time is None else start_time,
            run_name=name,
            tags=[RunTag(key, value) for key, value in tag_values.items()],
            # The first heartbeat, in the same write: a process killed before the
            # heartbeat thread's first beat still leaves a run that expires.
            heartbeat_time=now,
        )
        self._artifact_uris[run.info.run_id] = run.info.artifact_uri
        _heartbeat.register(self._store, run.info.run_id)
        buffer = existing_buffer(self._store)
        if buffer is not None:
            buffer.remember(run.info.run_id)
        return run

    def get_run(self, run_id: str) -> Run:
        """Return a run with its params, latest metrics, tags and inputs.

        Parameters
        ----------
        run_id : str
            The run's id.

        Returns
        -------
        Run
            The run as stored now.

        Raises
        ------
        NotFoundError
            If no run has this id.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.get_run(run_id).info.run_id == run_id
        True
        """
        self._flush_pending(run_id)
        return self._store.get_run(run_id)

    def set_terminated(
        self,
        run_id: str,
        status: RunStatus | str | None = None,
        end_time: int | None = None,
    ) -> None:
        """End a run: set its status and end time.

        Parameters
        ----------
        run_id : str
            The run's id.
        status : RunStatus or str or None, default=None
            ``"FINISHED"`` (the default), ``"FAILED"`` or ``"KILLED"``.
        end_time : int or None, default=None
            Milliseconds since the epoch; None for now.

        Raises
        ------
        InvalidValueError
            If ``status`` is not a run status.
        NotFoundError
            If no run has this id.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.set_terminated(run_id, "FAILED")
        >>> client.get_run(run_id).info.status
        'FAILED'
        """
        checked = to_status(status or RunStatus.FINISHED)
        _pending.wait(run_id, renderings=False)
        self._set_status(run_id, checked, end_time, existing_buffer(self._store))

    def _set_status(
        self,
        run_id: str,
        status: RunStatus,
        end_time: int | None,
        buffer: MetricBuffer | None,
    ) -> None:
        """Write ``buffer``'s points and the run's status in one transaction."""
        end_time = now_ms() if end_time is None else end_time
        if buffer is not None and len(buffer):
            buffer.end_run(run_id, status.value, end_time)
        else:
            self._store.update_run_info(run_id, status=status.value, end_time=end_time)
        if status.is_terminated:
            _heartbeat.unregister(self._store, run_id)
        else:
            # Written now, as create_run and a resume do: the heartbeat thread's
            # first beat may come a whole interval later, and a run ended on
            # purpose has none left to expire by.
            self._store.touch_heartbeat([run_id], now_ms())
            _heartbeat.register(self._store, run_id)

    def delete_run(self, run_id: str) -> None:
        """Move a run to the trash.

        Parameters
        ----------
        run_id : str
            The run's id.

        Raises
        ------
        NotFoundError
            If no run has this id.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.delete_run(run_id)
        >>> client.get_run(run_id).info.lifecycle_stage
        'deleted'
        """
        self._flush_pending()
        self._store.update_run_info(
            run_id, lifecycle_stage=LifecycleStage.DELETED.value
        )

    def restore_run(self, run_id: str) -> None:
        """Take a run out of the trash.

        Parameters
        ----------
        run_id : str
            The run's id.

        Raises
        ------
        NotFoundError
            If no run has this id.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.delete_run(run_id)
        >>> client.restore_run(run_id)
        >>> client.get_run(run_id).info.lifecycle_stage
        'active'
        """
        self._store.update_run_info(run_id, lifecycle_stage=LifecycleStage.ACTIVE.value)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType | str | int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """Return one page of the runs that match a filter.

        Parameters
        ----------
        experiment_ids : sequence of str
            The experiments to search.
        filter_string : str, default=""
            MLflow's filter grammar plus ``OR``, ``NOT`` and parentheses, such as
            ``"metrics.acc > 0.9 and params.model = 'rf'"``.
        run_view_type : ViewType or str or int, default=ViewType.ACTIVE_ONLY
            Which lifecycle stages to include.
        max_results : int, default=1000
            The page size.
        order_by : sequence of str or None, default=None
            Such as ``["metrics.acc DESC"]``; missing values sort last.
        page_token : str or None, default=None
            The ``token`` of the previous page.

        Returns
        -------
        PagedList of Run
            The runs, with the token of the next page.

        Raises
        ------
        FilterSyntaxError
            If the filter or an order clause does not parse.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.log_metric(run_id, "acc", 0.95)
        >>> [r.info.run_id for r in client.search_runs(["0"], "metrics.acc > 0.9")] == [
        ...     run_id]
        True
        """
        self._flush_pending()
        return self._store.search_runs(
            to_names("experiment_ids", experiment_ids),
            filter_string=filter_string,
            view_type=to_view_type(run_view_type),
            max_results=max_results,
            order_by=to_names("order_by", order_by),
            page_token=page_token,
        )
