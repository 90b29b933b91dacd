"""``models:/`` URIs: which registered version they name, and where its files are.

``models:/<name>/<version>``, ``models:/<name>/latest``, ``models:/<name>/<stage>``
and ``models:/<name>@<alias>``, as in MLflow. The model loader
(``mltrail.models._model.resolve_model_uri``) calls ``registered_model_source`` and
loads what it returns, so there is one loader for every kind of URI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mltrail._errors import InvalidValueError

if TYPE_CHECKING:
    from mltrail._registry_entities import ModelVersion
    from mltrail.tracking import TrackingClient

__all__ = ["MODELS_SCHEME", "registered_model_source", "registered_version"]

MODELS_SCHEME = "models:/"
# A version copied from a version copied from ... : more links than this is a loop.
MAX_LINKS = 10


def _is_logged_model(uri: str) -> bool:
    from mltrail.models._uris import LOGGED_MODEL_ID

    return LOGGED_MODEL_ID.fullmatch(uri[len(MODELS_SCHEME) :].strip("/")) is not None


def registered_version(
    model_uri: str, client: TrackingClient | None = None
) -> ModelVersion:
    """Return the registered version a ``models:/`` URI names."""
    from mltrail.tracking import TrackingClient

    return (client or TrackingClient())._version_of_models_uri(model_uri)


def registered_model_source(
    model_uri: str, client: TrackingClient | None = None
) -> str:
    """Return the URI of the files of the version a ``models:/`` URI names.

    A version registered from another ``models:/`` URI (``copy_model_version``)
    is followed to the files it points at.
    """
    from mltrail.tracking import TrackingClient

    client = client or TrackingClient()
    uri = model_uri
    for _ in range(MAX_LINKS):
        version = registered_version(uri, client)
        if _is_logged_model(version.source):
            # The server may point at the logged model's files (mlflow-artifacts:/),
            # which only MLflow's client reads; the loader finds them by id.
            return version.source
        uri = client.get_model_version_download_uri(version.name, version.version)
        if not uri.startswith(MODELS_SCHEME) or _is_logged_model(uri):
            return uri  # files, or a logged model (models:/<model_id>)
    raise InvalidValueError(
        "model URI",
        model_uri,
        f"a models:/ URI that leads to files within {MAX_LINKS} links",
        "Registered versions point at each other in a loop; register the model "
        "again from its run.",
    )
