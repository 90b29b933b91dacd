"""Model URIs to local directories: paths, ``file://``, ``runs:/`` and ``models:/``.

``resolve_model_uri`` is the one place every model URI is turned into a directory
on this machine: a local path as it is, a run's artifacts in place when local and
downloaded otherwise, a registered version through the registry, and a logged
model (``models:/<model_id>``) through its files.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from mltrail._errors import InvalidValueError, NotFoundError

if TYPE_CHECKING:
    from mltrail.store._sqlite_lookup import SqliteLookup
    from mltrail.tracking import TrackingClient

__all__ = [
    "LOGGED_MODEL_ID",
    "local_artifact_directory",
    "local_path_of_uri",
    "looked_up_directory",
    "resolve_model_uri",
]

# MLflow 3's logged model ids: ``m-`` and 32 hex digits.
LOGGED_MODEL_ID = re.compile(r"m-[0-9a-f]{32}")


def local_artifact_directory(
    artifact_uri: str, artifact_path: str, *, root: str | None = None
) -> Path | None:
    """Return where a run-relative path is on disk, or None for remote artifacts.

    Local artifacts are written and read in place, without a copy; the path goes
    through the store's one resolver, which refuses to leave the run's root.
    ``root`` is the store's artifact root (None: the store at the tracking URI's).
    """
    from mltrail.store._artifacts import local_artifact_path

    scheme = urlparse(artifact_uri).scheme
    if scheme not in ("", "file") and len(scheme) != 1:  # one letter: a drive
        return None
    return local_artifact_path(artifact_uri, artifact_path, root=root)


def local_path_of_uri(uri: str) -> Path | None:
    """Return the local path of a URI (a path or ``file://``), or None when remote."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if not parsed.scheme or len(parsed.scheme) == 1:  # one letter is a Windows drive
        return Path(uri)
    return None


def _download_target(dst_path: str | os.PathLike[str] | None) -> Path:
    """Return where a remote model's files go: ``dst_path``, or a new temp folder."""
    if dst_path is None:
        return Path(tempfile.mkdtemp(prefix="mltrail-model-"))
    target = Path(dst_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


def _logged_model_directory(
    client: TrackingClient,
    model_id: str,
    uri: str,
    dst_path: str | os.PathLike[str] | None = None,
) -> Path:
    """Return the files of a logged model: in its run, or at its own location."""
    from mltrail._system_tags import MODEL_ARTIFACT_PATH_TAG
    from mltrail.store._artifacts import open_artifact_store

    store = client._store
    logged = store.get_logged_model(model_id)
    artifact_path = logged.tags.get(MODEL_ARTIFACT_PATH_TAG)
    if artifact_path and logged.source_run_id:
        # mltrail keeps a logged model's files in its run, where runs:/ finds them.
        return _run_directory(
            client, logged.source_run_id, artifact_path, uri, dst_path
        )
    location = logged.artifact_location
    local = local_path_of_uri(location)
    if local is not None:
        if not local.is_dir():
            raise NotFoundError("model", uri, "The logged model has no files yet.")
        return local
    artifacts = open_artifact_store(location, root=store.artifact_root)
    return artifacts.download(location, "", _download_target(dst_path))


def _run_directory(
    client: TrackingClient,
    run_id: str,
    artifact_path: str,
    uri: str,
    dst_path: str | os.PathLike[str] | None = None,
) -> Path:
    directory = local_artifact_directory(
        client.get_run(run_id).info.artifact_uri, artifact_path
    )
    if directory is None:
        return Path(
            client.download_artifacts(run_id, artifact_path, _download_target(dst_path))
        )
    if not directory.is_dir():
        raise NotFoundError("model", uri, "The run has no artifact there.")
    return directory


def _model_of_run(client: TrackingClient, run_id: str, name: str) -> str | None:
    """Return the id of the logged model named ``name`` that the run logged."""
    run = client.get_run(run_id)
    found = client._store.search_logged_models(
        [run.info.experiment_id],
        filter_string=f"source_run_id = '{run_id}' AND name = '{name}'",
        max_results=1,
    )
    return found[0].model_id if len(found) else None


def _looked_up(text: str) -> Path | None:
    """Find a registered or run model's local files without opening the store.

    A SQLite store at this code's revision is read with ``sqlite3`` alone
    (``store._sqlite_lookup``): no SQLAlchemy import in a process that only loads a
    model. None when that cannot answer; the store then does.
    """
    from mltrail import _config
    from mltrail.store._sqlite_lookup import SqliteLookup

    lookup = SqliteLookup.open(_config.get_tracking_uri())
    if lookup is None:
        return None
    try:
        return looked_up_directory(text, lookup)
    finally:
        lookup.close()


def looked_up_directory(text: str, lookup: SqliteLookup) -> Path | None:
    """Return the local directory of a ``models:/`` or ``runs:/`` URI, or None.

    ``lookup`` answers from the SQLite file; None means the store must answer.
    """
    if text.startswith("models:/") and not LOGGED_MODEL_ID.fullmatch(
        text[len("models:/") :].strip("/")
    ):
        found = lookup.version(text)
        if found is None:
            return None
        text = found.location
        if not text.startswith(("models:/", "runs:/")):
            local = local_path_of_uri(text)
            return local if local and (local / "MLmodel").is_file() else None
    if text.startswith("models:/"):
        files = lookup.logged_model_files(text)
        if files is None:
            return None
        text = files
    if not text.startswith("runs:/"):
        return None
    run_id, _, artifact_path = text[len("runs:/") :].lstrip("/").partition("/")
    artifact_uri = lookup.artifact_uri(run_id) if run_id and artifact_path else None
    if artifact_uri is None:
        return None
    directory = local_artifact_directory(
        artifact_uri, artifact_path, root=lookup.artifact_root
    )
    if directory is None or not (directory / "MLmodel").is_file():
        return None
    return directory


def resolve_model_uri(
    model_uri: str | os.PathLike[str],
    dst_path: str | os.PathLike[str] | None = None,
) -> Path:
    """Return a local directory for a model URI.

    Remote files are downloaded into ``dst_path`` (None: a new temporary
    directory); local ones are read in place, as MLflow does.

    A local path or ``file://`` URI is returned as it is. ``runs:/<run_id>/<path>``
    is read in the run's artifacts (in place when local, downloaded otherwise),
    or, when the run has no such folder, from the logged model of that name that
    the run logged (as MLflow 3 stores them). ``models:/<name>/<version>`` and
    ``models:/<name>@<alias>`` go through the registry to the source they were
    registered from; ``models:/<model_id>`` to the logged model's files.
    """
    text = os.fspath(model_uri) if isinstance(model_uri, str | os.PathLike) else None
    if not isinstance(text, str) or not text:
        raise InvalidValueError(
            "model_uri",
            model_uri,
            "a non-empty str or path",
            "For example 'runs:/<run_id>/model', 'models:/<name>@<alias>' or a folder.",
        )
    parsed = urlparse(text)
    if parsed.scheme in ("models", "runs"):
        found = _looked_up(text)
        if found is not None:
            return found
    if parsed.scheme == "models":
        body = text[len("models:/") :].strip("/")
        if LOGGED_MODEL_ID.fullmatch(body):
            from mltrail.tracking import TrackingClient

            return _logged_model_directory(TrackingClient(), body, text, dst_path)
        from mltrail.registry._uris import registered_model_source

        return resolve_model_uri(registered_model_source(text), dst_path)
    if parsed.scheme == "runs":
        run_id, _, artifact_path = text[len("runs:/") :].lstrip("/").partition("/")
        if not run_id or not artifact_path:
            raise InvalidValueError(
                "model_uri",
                text,
                "'runs:/<run_id>/<artifact_path>'",
                "For example 'runs:/0123456789abcdef0123456789abcdef/model'.",
            )
        from mltrail.tracking import TrackingClient

        client = TrackingClient()
        try:
            return _run_directory(client, run_id, artifact_path, text, dst_path)
        except NotFoundError:
            model_id = _model_of_run(client, run_id, artifact_path.strip("/"))
            if model_id is None:
                raise
            return _logged_model_directory(client, model_id, text, dst_path)
    local = local_path_of_uri(text)
    if local is None:
        raise InvalidValueError(
            "model_uri",
            text,
            "a local directory, a 'file://' URI, 'runs:/<run_id>/<artifact_path>', "
            "'models:/<name>/<version>' or 'models:/<model_id>'",
        )
    if not (local / "MLmodel").exists():
        from mltrail.tracking import _pending

        # A path from get_artifact_uri("model") right after an autologged fit: the
        # model is still being written on autolog's thread.
        _pending.wait()
    return local
