"""Settings read from the environment: tracking URI, artifact root and timings.

Only the standard library is imported here, so reading a setting costs nothing.
"""

from __future__ import annotations

import os
import threading

__all__ = [
    "DEFAULT_ARTIFACT_ROOT",
    "DEFAULT_TRACKING_URI",
    "get_artifact_root",
    "get_experiment_from_environment",
    "get_float_setting",
    "get_tracking_uri",
    "set_tracking_uri",
]

DEFAULT_TRACKING_URI = "sqlite:///mltrail.db"
DEFAULT_ARTIFACT_ROOT = "mltrail-artifacts"
TRACKING_URI_VARIABLES = ("MLTRAIL_TRACKING_URI", "MLFLOW_TRACKING_URI")
EXPERIMENT_NAME_VARIABLES = ("MLTRAIL_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_NAME")
EXPERIMENT_ID_VARIABLES = ("MLTRAIL_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID")
# Positive numbers of seconds (or points, for the flush size), with their defaults.
FLOAT_SETTINGS = {
    "MLTRAIL_HEARTBEAT_INTERVAL": 5.0,
    "MLTRAIL_HEARTBEAT_TIMEOUT": 30.0,
    "MLTRAIL_FLUSH_INTERVAL": 0.5,
    "MLTRAIL_FLUSH_SIZE": 20000.0,
}

_lock = threading.Lock()
_tracking_uri: str | None = None


def set_tracking_uri(uri: str | os.PathLike[str]) -> None:
    """Set the tracking URI for this process; ``None`` was not accepted on purpose."""
    global _tracking_uri
    with _lock:
        _tracking_uri = os.fspath(uri)


def get_tracking_uri() -> str:
    """Return the URI set in this process, else the environment's, else the default."""
    if _tracking_uri is not None:
        return _tracking_uri
    for variable in TRACKING_URI_VARIABLES:
        value = os.environ.get(variable)
        if value:
            return value
    return DEFAULT_TRACKING_URI


def get_artifact_root() -> str | None:
    """Return ``MLTRAIL_ARTIFACT_ROOT`` if it is set, else None.

    None leaves the choice to the store: ``mltrail-artifacts`` beside a SQLite file,
    or the root recorded in a PostgreSQL or MySQL database when it was created; so
    the place never depends on the directory a process happens to run in.
    """
    return os.environ.get("MLTRAIL_ARTIFACT_ROOT") or None


def get_float_setting(variable: str) -> float:
    """Return a positive number from the environment, else its default.

    ``variable`` is a key of ``FLOAT_SETTINGS``. A value that is not a positive number
    raises ``InvalidValueError`` naming the variable.
    """
    value = os.environ.get(variable)
    if not value:
        return FLOAT_SETTINGS[variable]
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not number > 0 or number == float("inf"):
        from mltrail._errors import InvalidValueError

        raise InvalidValueError(
            f"environment variable {variable}",
            value,
            "a positive number",
            f"Unset it to use the default, {FLOAT_SETTINGS[variable]:g}.",
        )
    return number


def get_experiment_from_environment() -> tuple[str | None, str | None]:
    """Return the experiment ``(name, id)`` chosen by environment variables, if any."""
    name = next(
        (os.environ[v] for v in EXPERIMENT_NAME_VARIABLES if os.environ.get(v)), None
    )
    experiment_id = next(
        (os.environ[v] for v in EXPERIMENT_ID_VARIABLES if os.environ.get(v)), None
    )
    return name, experiment_id


def reset() -> None:
    """Forget the URI set by ``set_tracking_uri`` (for tests)."""
    global _tracking_uri
    with _lock:
        _tracking_uri = None
