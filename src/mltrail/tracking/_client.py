"""``TrackingClient``: experiments, runs and artifacts addressed by explicit ids.

The client writes synchronously: every method returns once the store has the data,
and errors raise immediately. The fluent API (``start_run``, ``log_metric``, ...) is
built on it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from mltrail import _config
from mltrail.tracking._client_artifacts import ArtifactsMixin
from mltrail.tracking._client_experiments import ExperimentsMixin
from mltrail.tracking._client_logging import LoggingMixin
from mltrail.tracking._client_media import MediaMixin
from mltrail.tracking._client_purge import PurgeMixin
from mltrail.tracking._client_registry import RegistryMixin
from mltrail.tracking._client_resolve import ResolveMixin
from mltrail.tracking._client_runs import RunsMixin

if TYPE_CHECKING:
    from mltrail.store._base import Store

__all__ = ["TrackingClient"]


class TrackingClient(
    ExperimentsMixin,
    RunsMixin,
    LoggingMixin,
    ArtifactsMixin,
    MediaMixin,
    RegistryMixin,
    ResolveMixin,
    PurgeMixin,
):
    """A client of one tracking store: runs by their ids, and the model registry.

    Parameters
    ----------
    tracking_uri : str or os.PathLike or None, default=None
        Where runs are stored, such as ``"sqlite:///mltrail.db"`` or
        ``"postgresql://user@host/db"``. None uses ``mltrail.get_tracking_uri()``.

    Examples
    --------
    >>> from mltrail import TrackingClient
    >>> client = TrackingClient()
    >>> run = client.create_run("0")
    >>> client.log_metric(run.info.run_id, "loss", 0.25, step=1)
    >>> client.set_terminated(run.info.run_id)
    >>> client.get_run(run.info.run_id).data.metrics
    {'loss': 0.25}
    """

    def __init__(self, tracking_uri: str | os.PathLike[str] | None = None) -> None:
        self._tracking_uri = (
            _config.get_tracking_uri()
            if tracking_uri is None
            else os.fspath(tracking_uri)
        )
        self._opened_store: Store | None = None
        self._artifact_uris: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"TrackingClient(tracking_uri={self._tracking_uri!r})"

    @property
    def tracking_uri(self) -> str:
        """The URI of the store this client writes to."""
        return self._tracking_uri
