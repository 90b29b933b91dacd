"""The fluent API for artifacts: ``log_artifact``, ``log_text``, ... (active run)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mltrail.tracking._fluent import _target

if TYPE_CHECKING:
    import pandas

__all__ = [
    "load_table",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_table",
    "log_text",
]


def log_artifact(
    local_path: str | os.PathLike[str],
    artifact_path: str | None = None,
    *,
    run_id: str | None = None,
) -> None:
    """Copy a local file into the active run's artifacts.

    Parameters
    ----------
    local_path : str or os.PathLike
        The file to copy.
    artifact_path : str or None, default=None
        The run-relative directory to put it in; None for the root.
    run_id : str or None, default=None
        Log to this run instead of the active one.

    Raises
    ------
    NotFoundError
        If ``local_path`` is not an existing file.
    InvalidValueError
        If ``artifact_path`` would leave the run's artifact directory.

    Examples
    --------
    >>> from pathlib import Path
    >>> import mltrail
    >>> _ = Path("confusion_matrix.png").write_bytes(b"...")
    >>> with mltrail.start_run() as run:
    ...     mltrail.log_artifact("confusion_matrix.png")
    >>> [f.path for f in mltrail.TrackingClient().list_artifacts(run.info.run_id)]
    ['confusion_matrix.png']
    """
    client, target = _target(run_id)
    client.log_artifact(target, local_path, artifact_path)


def log_artifacts(
    local_dir: str | os.PathLike[str],
    artifact_path: str | None = None,
    *,
    run_id: str | None = None,
) -> None:
    """Copy a local directory's contents into the active run's artifacts.

    Parameters
    ----------
    local_dir : str or os.PathLike
        The directory whose contents are copied.
    artifact_path : str or None, default=None
        The run-relative directory to put them in; None for the root.
    run_id : str or None, default=None
        Log to this run instead of the active one.

    Raises
    ------
    NotFoundError
        If ``local_dir`` is not an existing directory.

    Examples
    --------
    >>> from pathlib import Path
    >>> import mltrail
    >>> Path("reports").mkdir()
    >>> _ = Path("reports/summary.md").write_text("# Summary")
    >>> with mltrail.start_run() as run:
    ...     mltrail.log_artifacts("reports", artifact_path="reports")
    >>> [f.path for f in mltrail.TrackingClient().list_artifacts(run.info.run_id,
    ...                                                          "reports")]
    ['reports/summary.md']
    """
    client, target = _target(run_id)
    client.log_artifacts(target, local_dir, artifact_path)


def log_text(text: str, artifact_file: str, *, run_id: str | None = None) -> None:
    """Write text to a file of the active run's artifacts.

    Parameters
    ----------
    text : str
        The content, stored UTF-8 encoded.
    artifact_file : str
        The run-relative file path, such as ``"notes/summary.txt"``.
    run_id : str or None, default=None
        Log to this run instead of the active one.

    Raises
    ------
    InvalidValueError
        If ``artifact_file`` is empty or would leave the run's artifact directory.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run() as run:
    ...     mltrail.log_text("looks good", "review.txt")
    >>> [f.path for f in mltrail.TrackingClient().list_artifacts(run.info.run_id)]
    ['review.txt']
    """
    client, target = _target(run_id)
    client.log_text(target, text, artifact_file)


def log_dict(
    dictionary: object, artifact_file: str, *, run_id: str | None = None
) -> None:
    """Write a dict to the active run's artifacts as YAML (``.yaml``, ``.yml``) or JSON.

    Parameters
    ----------
    dictionary : object
        A JSON-serializable value, usually a dict.
    artifact_file : str
        The run-relative file path; its suffix picks the format.
    run_id : str or None, default=None
        Log to this run instead of the active one.

    Raises
    ------
    InvalidValueError
        If ``dictionary`` cannot be serialized, or ``artifact_file`` is unsafe.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run() as run:
    ...     mltrail.log_dict({"features": ["age", "income"]}, "features.json")
    >>> [f.path for f in mltrail.TrackingClient().list_artifacts(run.info.run_id)]
    ['features.json']
    """
    client, target = _target(run_id)
    client.log_dict(target, dictionary, artifact_file)


def log_figure(
    figure: object, artifact_file: str, *, run_id: str | None = None
) -> None:
    """Save a matplotlib figure to the active run's artifacts.

    The figure is saved with its own ``savefig``, in the format of the file's suffix.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure.
    artifact_file : str
        The run-relative file path, such as ``"plots/roc.png"``.
    run_id : str or None, default=None
        Log to this run instead of the active one.

    Raises
    ------
    InvalidValueError
        If ``figure`` has no ``savefig``, or the suffix is not an image format.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> import mltrail
    >>> figure = Figure()
    >>> _ = figure.subplots().bar(["a", "b"], [3, 5])
    >>> with mltrail.start_run() as run:
    ...     mltrail.log_figure(figure, "plots/bars.svg")
    >>> [f.path for f in mltrail.TrackingClient().list_artifacts(run.info.run_id,
    ...                                                          "plots")]
    ['plots/bars.svg']
    """
    client, target = _target(run_id)
    client.log_figure(target, figure, artifact_file)


def log_table(
    data: Mapping[str, Any] | pandas.DataFrame,
    artifact_file: str,
    run_id: str | None = None,
) -> None:
    """Log a table to the active run as a JSON artifact, as MLflow's ``log_table``.

    Logging again to the same file appends the rows. The file is pandas'
    ``split`` orientation without the index, and the run's
    ``mlflow.loggedArtifacts`` tag lists it, so MLflow's ``load_table`` reads it.

    Parameters
    ----------
    data : dict or pandas.DataFrame
        The table: a DataFrame, or a dict of columns.
    artifact_file : str
        The run-relative file path, ending in ``.json``.
    run_id : str or None, default=None
        Log to this run instead of the active one.

    Raises
    ------
    InvalidValueError
        If ``data`` is not a dict or DataFrame, or ``artifact_file`` does not end
        in ``.json`` or holds one of ``"',:[]{}``.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run():
    ...     mltrail.log_table({"inputs": ["a", "b"], "outputs": [1, 2]}, "eval.json")
    >>> mltrail.load_table("eval.json")["outputs"].tolist()
    [1, 2]
    """
    client, target = _target(run_id)
    client.log_table(target, data, artifact_file)


def load_table(
    artifact_file: str,
    run_ids: Sequence[str] | None = None,
    extra_columns: Sequence[str] | None = None,
) -> pandas.DataFrame:
    """Load a table logged with ``log_table`` from runs of the active experiment.

    Parameters
    ----------
    artifact_file : str
        The run-relative file path given to ``log_table``.
    run_ids : sequence of str or None, default=None
        Read only these runs; None for every run that logged the table.
    extra_columns : sequence of str or None, default=None
        Columns of ``search_runs``'s DataFrame, such as ``"run_id"``, added to
        each run's rows.

    Returns
    -------
    pandas.DataFrame
        The rows of every run's table, one run after the other.

    Raises
    ------
    NotFoundError
        If no run of the experiment (among ``run_ids``) logged the table.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run() as run:
    ...     mltrail.log_table({"score": [0.5, 0.75]}, "scores.json")
    >>> table = mltrail.load_table("scores.json", extra_columns=["run_id"])
    >>> table["score"].tolist(), set(table["run_id"]) == {run.info.run_id}
    ([0.5, 0.75], True)
    """
    from mltrail.tracking._runs import active_experiment_id, current_client

    client = current_client()
    return client.load_table(
        active_experiment_id(client), artifact_file, run_ids, extra_columns
    )


def log_image(
    image: Any,
    artifact_file: str | None = None,
    key: str | None = None,
    step: int | None = None,
    timestamp: int | None = None,
    synchronous: bool | None = None,
) -> None:
    """Log an image to the active run as a PNG file, at a path or under a key.

    With ``artifact_file`` the image is written there; with ``key`` (and
    ``step``) it is written under ``images/`` with MLflow 3's file names, and the
    run gets the ``mlflow.loggedImages`` tag.

    Parameters
    ----------
    image : numpy.ndarray or PIL.Image.Image
        An array of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4): integers in
        [0, 255], floats in [0, 1] or booleans; or a PIL image.
    artifact_file : str or None, default=None
        The run-relative file path, such as ``"samples/digit.png"``.
    key : str or None, default=None
        The name of an image series, instead of ``artifact_file``.
    step : int or None, default=None
        The step of a keyed image; None for 0.
    timestamp : int or None, default=None
        The time of a keyed image, in milliseconds since the epoch; None for now.
    synchronous : bool or None, default=None
        Accepted for MLflow; the image is always written before returning.

    Raises
    ------
    InvalidValueError
        If the image is not an array or PIL image, has another shape or type,
        has integers outside [0, 255], or the arguments do not name exactly one
        of ``artifact_file`` and ``key``.

    Examples
    --------
    >>> import numpy as np
    >>> import mltrail
    >>> with mltrail.start_run() as run:
    ...     mltrail.log_image(np.zeros((8, 8, 3), dtype=np.uint8), "images/black.png")
    >>> [f.path for f in mltrail.TrackingClient().list_artifacts(run.info.run_id,
    ...                                                          "images")]
    ['images/black.png']
    """
    del synchronous  # written before returning
    client, target = _target(None)
    client.log_image(
        target, image, artifact_file, key=key, step=step, timestamp=timestamp
    )
