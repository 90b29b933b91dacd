"""``TrackingClient`` methods that empty the trash: deleted runs and experiments.

The rows go first, in one transaction that refuses anything not deleted; then the
artifacts of the purged runs. A run restored while a purge runs is therefore never
left without its files; a file that cannot be removed is named in the error.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Sequence

from mltrail._entities import RunInfo
from mltrail._errors import InvalidValueError, MltrailError, StoreError
from mltrail.store._base import DeletableArtifactStore, PurgeableStore
from mltrail.tracking._client_base import ClientBase, now_ms

_NO_PURGE_HINT = (
    "Purge through the database itself: use its URI (sqlite:///..., "
    "postgresql://..., mysql://...) as the tracking URI."
)


class PurgeMixin(ClientBase):
    """The purge methods of ``TrackingClient``."""

    def _purgeable(self) -> PurgeableStore:
        store = self._store
        if not isinstance(store, PurgeableStore):
            raise StoreError(
                f"the store at {self._tracking_uri} cannot purge runs. {_NO_PURGE_HINT}"
            )
        return store

    def list_deleted_runs(
        self, older_than: datetime.timedelta | None = None
    ) -> list[RunInfo]:
        """Return the runs in the trash, those deleted long enough ago if asked.

        Parameters
        ----------
        older_than : datetime.timedelta or None, default=None
            Only runs deleted at least this long ago; None for every deleted run.

        Returns
        -------
        list of RunInfo
            The deleted runs, the longest deleted first.

        Raises
        ------
        InvalidValueError
            If ``older_than`` is not a non-negative timedelta.
        StoreError
            If the store cannot purge (see ``purge_runs``).

        Examples
        --------
        >>> import datetime
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.delete_run(run_id)
        >>> run_id in [info.run_id for info in client.list_deleted_runs()]
        True
        >>> client.list_deleted_runs(older_than=datetime.timedelta(days=30))
        []
        """
        deleted_before = None
        if older_than is not None:
            if not isinstance(older_than, datetime.timedelta) or older_than < (
                datetime.timedelta(0)
            ):
                raise InvalidValueError(
                    "older_than",
                    older_than,
                    "a datetime.timedelta of zero or more",
                    "Use for example datetime.timedelta(days=30).",
                )
            deleted_before = now_ms() - older_than // datetime.timedelta(milliseconds=1)
        self._flush_pending()
        return self._purgeable().list_deleted_runs(deleted_before=deleted_before)

    def purge_runs(self, run_ids: Sequence[str]) -> list[RunInfo]:
        """Remove deleted runs for good: their params, metrics, tags and artifacts.

        All the runs must be deleted (``delete_run``); if one is not, or does not
        exist, nothing is purged.

        Parameters
        ----------
        run_ids : sequence of str
            The runs to purge.

        Returns
        -------
        list of RunInfo
            The purged runs, as they were.

        Raises
        ------
        NotFoundError
            If a run does not exist.
        ConflictError
            If a run is not deleted.
        StoreError
            If the store cannot purge (a remote server: purge through its
            database), or some artifacts could not be removed (the runs are
            purged; the message names the files left).

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0", run_name="to-purge").info.run_id
        >>> client.delete_run(run_id)
        >>> [info.run_name for info in client.purge_runs([run_id])]
        ['to-purge']
        """
        ids = [run_ids] if isinstance(run_ids, str) else list(run_ids)
        self._flush_pending()
        purged = self._purgeable().purge_runs(ids)
        self._delete_artifacts(purged, [info.artifact_uri for info in purged])
        return purged

    def purge_experiments(self, experiment_ids: Sequence[str]) -> list[RunInfo]:
        """Remove deleted experiments for good, with all their runs and artifacts.

        All the experiments must be deleted (``delete_experiment``); if one is
        not, or does not exist, nothing is purged.

        Parameters
        ----------
        experiment_ids : sequence of str
            The experiments to purge.

        Returns
        -------
        list of RunInfo
            The runs purged with them, as they were.

        Raises
        ------
        NotFoundError
            If an experiment does not exist.
        ConflictError
            If an experiment is not deleted.
        StoreError
            If the store cannot purge, or some artifacts could not be removed.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> experiment_id = client.create_experiment("to-purge")
        >>> _ = client.create_run(experiment_id, run_name="inside")
        >>> client.delete_experiment(experiment_id)
        >>> [info.run_name for info in client.purge_experiments([experiment_id])]
        ['inside']
        """
        ids = [experiment_ids] if isinstance(experiment_ids, str) else experiment_ids
        self._flush_pending()
        purged = self._purgeable().purge_experiments([str(i) for i in ids])
        uris = [info.artifact_uri for info in purged.runs]
        self._delete_artifacts(purged.runs, [*uris, *purged.model_artifact_uris])
        return purged.runs

    def _delete_artifacts(
        self, purged: Sequence[RunInfo], artifact_uris: Sequence[str]
    ) -> None:
        """Remove the files of purged runs and models; name those that remain."""
        from mltrail.store._artifacts import open_artifact_store

        for info in purged:
            self._artifact_uris.pop(info.run_id, None)
        left: list[str] = []
        root = self._store.artifact_root
        for uri in artifact_uris:
            # Deleting is optional for artifact stores; see DeletableArtifactStore.
            store: object = None
            with contextlib.suppress(InvalidValueError):  # a scheme not served here
                store = open_artifact_store(uri, root=root)
            if not isinstance(store, DeletableArtifactStore):
                left.append(f"{uri}: the artifact store cannot delete")
                continue
            try:
                store.delete_run_artifacts(uri)
            except MltrailError as exc:  # the rows are gone: report, go on
                left.append(exc.message)
        if left:
            runs = "run was" if len(purged) == 1 else "runs were"
            folders = "folder" if len(left) == 1 else "folders"
            raise StoreError(
                f"{len(purged)} {runs} purged, but {len(left)} artifact {folders} "
                f"could not be removed. {' '.join(left)} Remove them by hand."
            )
