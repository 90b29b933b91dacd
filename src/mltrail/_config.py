"""Settings read from the environment: the tracking URI and the artifact root.

Only the standard library is imported here, so reading a setting costs nothing.
"""

from __future__ import annotations

import os
import threading

__all__ = [
    "DEFAULT_ARTIFACT_ROOT",
    "DEFAULT_TRACKING_URI",
    "get_artifact_root",
    "get_tracking_uri",
    "set_tracking_uri",
]

DEFAULT_TRACKING_URI = "sqlite:///mltrail.db"
DEFAULT_ARTIFACT_ROOT = "mltrail-artifacts"
TRACKING_URI_VARIABLES = ("MLTRAIL_TRACKING_URI", "MLFLOW_TRACKING_URI")

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


def get_artifact_root() -> str:
    """Return the default artifact root: ``MLTRAIL_ARTIFACT_ROOT``, else ``./mltrail-artifacts``."""
    value = os.environ.get("MLTRAIL_ARTIFACT_ROOT")
    return value if value else os.path.abspath(DEFAULT_ARTIFACT_ROOT)


def reset() -> None:
    """Forget the URI set by ``set_tracking_uri`` (for tests)."""
    global _tracking_uri
    with _lock:
        _tracking_uri = None
