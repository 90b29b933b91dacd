"""Which model version sources the server accepts, and what it records from them.

MLflow's rules (``mlflow/server/handlers.py``), so a client cannot point a version
at files the server should not serve: no ``..``; a ``runs:/`` URI names the run it
says; a proxied (``mlflow-artifacts:``) or local source lies inside the artifacts of
the run given with it; object-store URIs are taken as they are. The signature is
copied from the model's ``MLmodel`` file when the server can read it.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, cast
from urllib.parse import unquote, urlparse

from mltrail._errors import InvalidValueError, NotFoundError
from mltrail.registry._register import (
    MLMODEL,
    REMOTE_SCHEMES,
    ModelSource,
    signature_of_mlmodel,
)

if TYPE_CHECKING:
    from mltrail.server._context import ServerContext
    from mltrail.store._registry_base import RegistryStore

__all__ = ["check_source"]

_RUN_HINT = "The run_id request parameter must identify the run that holds the source."
_MAX_DECODE_ROUNDS = 5


def _has_parent_segment(source: str) -> bool:
    text = source
    for _ in range(_MAX_DECODE_ROUNDS):
        if ".." in text.replace("\\", "/").split("/"):
            return True
        decoded = unquote(text)
        if decoded == text:
            return False
        text = decoded
    return True


def _invalid(source: str, expected: str, hint: str = _RUN_HINT) -> InvalidValueError:
    return InvalidValueError("model version source", source, expected, hint)


def _read_signature(
    services: ServerContext, artifact_uri: str, path: str, source: str
) -> dict[str, str] | None:
    """Read the signature of the model at ``path`` in a run's artifacts."""
    from mltrail.registry._register import load_yaml
    from mltrail.server._artifacts import run_artifacts

    store, base, prefix = run_artifacts(services, artifact_uri)
    location = posixpath.join(prefix + path, MLMODEL) if path else prefix + MLMODEL
    try:
        data = store.read_bytes(base, location)
    except NotFoundError:
        raise NotFoundError(
            "model",
            source,
            f"There is no {MLMODEL} file there; log the model first.",
        ) from None
    return signature_of_mlmodel(load_yaml(data))


def _relative_to_run(source: str, artifact_uri: str) -> str | None:
    """Return ``source``'s path inside a run's artifact URI, or None if outside."""
    from mltrail.store._paths import artifact_root_path

    parsed, root = urlparse(source), urlparse(artifact_uri)
    if parsed.scheme in ("", "file") and root.scheme in ("", "file"):
        inside = artifact_root_path(source)
        base = artifact_root_path(artifact_uri)
        if inside == base or base in inside.parents:
            return inside.relative_to(base).as_posix().strip(".")
        return None
    if parsed.scheme != root.scheme or parsed.netloc != root.netloc:
        return None
    base_path = root.path.rstrip("/")
    if parsed.path.rstrip("/") == base_path:
        return ""
    if parsed.path.startswith(base_path + "/"):
        return parsed.path[len(base_path) + 1 :].strip("/")
    return None


def _from_run_uri(
    services: ServerContext, source: str, run_id: str | None
) -> ModelSource:
    body = source[len("runs:/") :].lstrip("/")
    source_run, _, path = body.partition("/")
    if not source_run:
        raise _invalid(source, "'runs:/<run_id>/<artifact_path>'", "")
    if run_id and run_id != source_run:
        raise _invalid(source, f"a runs:/ URI of run {run_id!r}")
    run = services.store.get_run(source_run)
    signature = _read_signature(
        services, run.info.artifact_uri, path.strip("/"), source
    )
    return ModelSource(source, run_id=source_run, signature=signature)


def _from_registry_uri(services: ServerContext, source: str) -> ModelSource:
    from mltrail.models._uris import LOGGED_MODEL_ID
    from mltrail.registry._uris import MODELS_SCHEME

    registry = cast("RegistryStore", services.store)
    body = source[len(MODELS_SCHEME) :]
    if LOGGED_MODEL_ID.fullmatch(body.strip("/")):
        return _from_logged_model(services, source, body.strip("/"))
    name, at, alias = body.partition("@")
    if at:
        version = registry.get_model_version_by_alias(name, alias)
    else:
        name, _, number = body.partition("/")
        if not number or "/" in number:
            raise _invalid(
                source,
                "'models:/<name>/<version>' or 'models:/<name>@<alias>'",
                "Register the version's own source, or name a version.",
            )
        version = registry.get_model_version(name, number)
    location = registry.get_model_version_download_uri(version.name, version.version)
    return ModelSource(
        f"models:/{version.name}/{version.version}",
        run_id=version.run_id or None,
        signature=version.signature,
        storage_location=location,
    )


def _from_logged_model(
    services: ServerContext, source: str, model_id: str
) -> ModelSource:
    """Describe ``models:/<model_id>`` (MLflow 3's logged model) as MLflow does."""
    logged = services.store.get_logged_model(model_id)
    location = logged.artifact_location
    try:
        signature = _read_signature(services, location, "", source)
    except (NotFoundError, InvalidValueError):
        signature = (
            None  # files elsewhere, or not uploaded: the version still points there
        )
    return ModelSource(
        source,
        run_id=logged.source_run_id or None,
        signature=signature,
        storage_location=location,
    )


def _inside_logged_model(
    services: ServerContext, source: str, run_id: str | None, model_id: str
) -> ModelSource:
    """Check a source given with a ``model_id``: it lies inside that model's files.

    MLflow 3 keeps a logged model's files outside its run's artifacts, at the
    model's ``artifact_location``; MLflow's server accepts that location (or a
    path inside it) as a version's source when the version names the model.
    """
    logged = services.store.get_logged_model(model_id)
    relative = _relative_to_run(source, logged.artifact_location)
    if relative is None:
        raise _invalid(
            source,
            f"a location inside the files of logged model {model_id!r}",
            "Pass the model's artifact_location, or 'models:/<model_id>'.",
        )
    signature = _read_signature(services, logged.artifact_location, relative, source)
    return ModelSource(
        source,
        run_id=run_id or logged.source_run_id or None,
        signature=signature,
        storage_location=source,
    )


def check_source(
    services: ServerContext,
    source: str,
    run_id: str | None,
    model_id: str | None = None,
) -> ModelSource:
    """Return what to record for a version registered from ``source``, or raise.

    ``model_id`` names the logged model the version comes from (MLflow 3): a
    proxied or local source must then lie inside that model's files instead of
    the run's. Raises InvalidValueError for a source the server must not accept,
    and NotFoundError when the run, the registered version or the model is
    missing.
    """
    if _has_parent_segment(source):
        raise _invalid(
            source,
            "a URI without relative path references ('..')",
            "Use the model's full path.",
        )
    scheme = urlparse(source).scheme.lower()
    if scheme == "runs":
        return _from_run_uri(services, source, run_id)
    if scheme == "models":
        return _from_registry_uri(services, source)
    if scheme in REMOTE_SCHEMES:
        return ModelSource(source, run_id=run_id)
    if scheme not in ("", "file", "mlflow-artifacts") and len(scheme) != 1:
        raise _invalid(
            source,
            "a runs:/, models:/, mlflow-artifacts:/ or object store URI",
            "Use for example 'runs:/<run_id>/model'.",
        )
    if model_id:
        return _inside_logged_model(services, source, run_id, model_id)
    if not run_id:
        raise _invalid(
            source,
            "a source that comes with the run_id of the run that holds it",
            "To register a model on the server's disk, pass its run_id, or "
            "register 'runs:/<run_id>/<path>'.",
        )
    run = services.store.get_run(run_id)
    relative = _relative_to_run(source, run.info.artifact_uri)
    if relative is None:
        raise _invalid(source, f"a location inside the artifacts of run {run_id!r}")
    signature = _read_signature(services, run.info.artifact_uri, relative, source)
    return ModelSource(source, run_id=run_id, signature=signature)
