"""The fluent API for artifacts: ``log_artifact``, ``log_text``, ... (active run)."""

from __future__ import annotations

import os

from mltrail.tracking._fluent import _target

__all__ = [
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
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
