"""``register_model``: make a logged model the next version of a registered model.

Unlike ``TrackingClient.create_model_version`` (which records what it is given),
this checks that a model is at the URI, links the version to its run and copies
the model's signature into the registry.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from mltrail._errors import ConflictError, InvalidValueError, NotFoundError

if TYPE_CHECKING:
    from mltrail._registry_entities import ModelVersion
    from mltrail.tracking import TrackingClient

__all__ = [
    "ModelSource",
    "describe_source",
    "load_yaml",
    "register_model",
    "register_with_client",
    "signature_of_mlmodel",
]

MLMODEL = "MLmodel"
# Schemes whose files mltrail cannot read here: registered as given, unchecked.
REMOTE_SCHEMES = frozenset({"s3", "gs", "wasbs", "hdfs", "http", "https", "dbfs"})


class ModelSource:
    """What registering a URI records: the source, its run, its signature."""

    __slots__ = ("model_id", "run_id", "signature", "source", "storage_location")

    def __init__(
        self,
        source: str,
        *,
        run_id: str | None = None,
        signature: dict[str, str] | None = None,
        storage_location: str | None = None,
        model_id: str | None = None,
    ) -> None:
        self.source = source
        self.run_id = run_id
        self.signature = signature
        self.storage_location = storage_location
        self.model_id = model_id


def signature_of_mlmodel(content: object) -> dict[str, str] | None:
    """Return the ``signature`` mapping of an ``MLmodel`` document, if any."""
    if not isinstance(content, Mapping):
        return None
    signature = content.get("signature")
    if not isinstance(signature, Mapping):
        return None
    return {str(k): str(v) for k, v in signature.items() if v is not None}


def load_yaml(data: bytes | str) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(data, Loader=loader)  # noqa: S506 - a safe loader


def _from_run(client: TrackingClient, model_uri: str) -> ModelSource:
    run_id, _, path = model_uri[len("runs:/") :].lstrip("/").partition("/")
    path = path.strip("/")
    if not run_id or not path:
        raise InvalidValueError(
            "model_uri",
            model_uri,
            "'runs:/<run_id>/<artifact_path>'",
            "For example 'runs:/0123456789abcdef0123456789abcdef/model'.",
        )
    store, artifact_uri = client._artifacts(run_id)
    try:
        data = store.read_bytes(artifact_uri, f"{path}/{MLMODEL}")
    except NotFoundError:
        raise NotFoundError(
            "model",
            model_uri,
            f"Run {run_id} has no {MLMODEL} file at {path!r}; log one with "
            "mltrail.sklearn.log_model(), or check the artifact path.",
        ) from None
    return ModelSource(
        f"runs:/{run_id}/{path}",
        run_id=run_id,
        signature=signature_of_mlmodel(load_yaml(data)),
    )


def _from_logged_model(
    client: TrackingClient, model_uri: str, model_id: str
) -> ModelSource:
    """Describe ``models:/<model_id>``: a logged model, as ``log_model`` returns."""
    from mltrail.models._uris import resolve_model_uri

    logged = client._store.get_logged_model(model_id)
    path = resolve_model_uri(model_uri) / MLMODEL
    if not path.is_file():
        raise NotFoundError(
            "model", model_uri, f"The logged model has no {MLMODEL} file."
        )
    return ModelSource(
        model_uri,
        run_id=logged.source_run_id,
        signature=signature_of_mlmodel(load_yaml(path.read_bytes())),
        model_id=model_id,
    )


def _from_registry(client: TrackingClient, model_uri: str) -> ModelSource:
    from mltrail.registry._uris import registered_model_source, registered_version

    version = registered_version(model_uri, client)
    return ModelSource(
        f"models:/{version.name}/{version.version}",
        run_id=version.run_id or None,
        signature=version.signature,
        storage_location=registered_model_source(model_uri, client),
    )


def _from_directory(client: TrackingClient, directory: Path) -> ModelSource:
    directory = directory.expanduser().resolve()
    path = directory / MLMODEL
    if not path.is_file():
        raise NotFoundError(
            "model",
            str(directory),
            f"No {MLMODEL} file there. Pass a directory written by "
            "mltrail.sklearn.save_model(), or a runs:/ URI.",
        )
    content = load_yaml(path.read_bytes())
    run_id = content.get("run_id") if isinstance(content, Mapping) else None
    if isinstance(run_id, str) and run_id:
        try:
            client.get_run(run_id)
        except NotFoundError:
            run_id = None  # saved in a run of another store
    else:
        run_id = None
    return ModelSource(
        str(directory), run_id=run_id, signature=signature_of_mlmodel(content)
    )


def describe_source(client: TrackingClient, model_uri: str) -> ModelSource:
    """Check that a model is at ``model_uri`` and return what registering records.

    ``runs:/`` URIs and local directories must hold an ``MLmodel`` file; a
    ``models:/`` URI must name an existing version. URIs of remote stores (``s3://``
    and the like) are recorded as given.
    """
    if not isinstance(model_uri, str | os.PathLike) or not os.fspath(model_uri):
        raise InvalidValueError(
            "model_uri",
            model_uri,
            "a non-empty model URI",
            "Use for example 'runs:/<run_id>/model' or 'models:/wine/3'.",
        )
    text = os.fspath(model_uri)
    parsed = urlparse(text)
    scheme = parsed.scheme.lower()
    if scheme == "runs":
        return _from_run(client, text)
    if scheme == "models":
        from mltrail.models._uris import LOGGED_MODEL_ID

        body = text[len("models:/") :].strip("/")
        if LOGGED_MODEL_ID.fullmatch(body):
            return _from_logged_model(client, f"models:/{body}", body)
        return _from_registry(client, text)
    if scheme == "file":
        return _from_directory(client, Path(unquote(parsed.path)))
    if not scheme or len(scheme) == 1:  # one letter is a Windows drive
        return _from_directory(client, Path(text))
    if scheme in REMOTE_SCHEMES or scheme.startswith("mlflow-artifacts"):
        return ModelSource(text)
    raise InvalidValueError(
        "model_uri",
        text,
        "a runs:/, models:/, file:// or remote store URI, or a local directory",
        "Use for example 'runs:/<run_id>/model'.",
    )


def register_model(
    model_uri: str | os.PathLike[str],
    name: str,
    await_registration_for: int = 300,
    *,
    tags: Mapping[str, object] | None = None,
) -> ModelVersion:
    """Register a logged model as the next version of ``name``, creating it if needed.

    The version keeps the model's URI, its run and a copy of its signature. Aliases
    (``client.set_registered_model_alias(name, "champion", version)``) then give it
    a stable address: ``models:/<name>@champion``.

    Parameters
    ----------
    model_uri : str or path
        ``runs:/<run_id>/<artifact_path>``, ``models:/<name>/<version>``, a model
        directory, or a remote store URI (recorded unchecked).
    name : str
        The registered model; it is created when it does not exist.
    await_registration_for : int, default=300
        Accepted for MLflow's signature; mltrail registers synchronously.
    tags : mapping or None, default=None
        Tags of the new version; values are converted with ``str``.

    Returns
    -------
    ModelVersion
        The new version, ``READY``.

    Raises
    ------
    NotFoundError
        If there is no model at ``model_uri``, or its run does not exist.
    InvalidValueError
        If the name, a tag or the URI is malformed.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> import mltrail
    >>> X, y = load_iris(return_X_y=True, as_frame=True)
    >>> with mltrail.start_run() as run:
    ...     info = mltrail.sklearn.log_model(
    ...         LogisticRegression(max_iter=500).fit(X, y), input_example=X
    ...     )
    >>> version = mltrail.register_model(info.model_uri, "iris")
    >>> version.version, version.run_id == run.info.run_id
    (1, True)
    >>> sorted(version.signature)
    ['inputs', 'outputs']
    >>> mltrail.pyfunc.load_model("models:/iris/1").predict(X.iloc[:2]).tolist()
    [0, 0]
    """
    from mltrail.tracking import TrackingClient

    del await_registration_for  # registration is synchronous
    return register_with_client(TrackingClient(), model_uri, name, tags=tags)


def register_with_client(
    client: TrackingClient,
    model_uri: str | os.PathLike[str],
    name: str,
    *,
    tags: Mapping[str, object] | None = None,
) -> ModelVersion:
    """Register ``model_uri`` as the next version of ``name`` through ``client``."""
    from mltrail.tracking._context import get_user

    source = describe_source(client, os.fspath(model_uri))
    registry = client._registry
    with contextlib.suppress(ConflictError):  # registering a next version
        registry.create_registered_model(name)
    return registry.create_model_version(
        name,
        source.source,
        run_id=source.run_id,
        tags={str(k): str(v) for k, v in (tags or {}).items()},
        user_id=get_user(),
        signature=source.signature,
        storage_location=source.storage_location,
        model_id=source.model_id,
    )
