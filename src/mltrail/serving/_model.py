"""The model a scoring server serves: loaded once, with its schema and its profile.

``load_served_model`` resolves any model URI (``models:/name@alias`` included)
through the one model loader, loads the estimator without running code unless the
operator trusts the file, and finds the profile of the run's training data for
inference validation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mltrail._errors import MltrailError

if TYPE_CHECKING:
    from mltrail.models._loading import PyFuncModel
    from mltrail.models._signature import Schema
    from mltrail.serving._profile import Finding, TrainingProfile
    from mltrail.tracking import TrackingClient

__all__ = ["ServedModel", "load_served_model"]


@dataclass(slots=True)
class ServedModel:
    """A loaded model, what it expects, and the training profile to check against."""

    uri: str
    model: PyFuncModel
    schema: Schema | None
    profile: TrainingProfile | None
    run_id: str | None
    version: str | None = None

    def align(self, data: Any) -> tuple[Any, list[Finding]]:
        """Drop columns the signature does not know, reporting them as a finding."""
        import pandas as pd

        from mltrail.serving._profile import Finding

        schema = self.schema
        if (
            schema is None
            or schema.is_tensor_spec
            or not schema.has_names
            or not isinstance(data, pd.DataFrame)
        ):
            return data, []
        known = set(schema.names())
        extra = [str(c) for c in data.columns if str(c) not in known]
        if not extra:
            return data, []
        finding = Finding(
            ",".join(extra),
            "extra_columns",
            len(extra),
            f"columns {extra} are not in the model signature; they were ignored.",
        )
        return data[[c for c in data.columns if str(c) in known]], [finding]

    def usable_params(
        self, params: dict[str, Any] | None
    ) -> tuple[dict[str, Any] | None, list[Finding]]:
        """Return the params the model takes, and a finding for params it ignores.

        A scikit-learn model takes no inference params. MLflow's server ignores
        them then and says so in its log; here the caller reads it in the answer's
        ``warnings``, and ``--strict`` refuses the request.
        """
        from mltrail.serving._profile import Finding

        if not params or self.model.takes_params:
            return params, []
        names = sorted(map(str, params))
        return None, [
            Finding(
                "params",
                "ignored_params",
                len(names),
                f"params {names} were ignored: this model takes no inference "
                "parameters.",
            )
        ]

    def validate(self, data: Any) -> list[Finding]:
        """Return what the request has that the training data never had."""
        return [] if self.profile is None else self.profile.check(data)

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predict with the signature enforced (a cast that loses data raises)."""
        return self.model.predict(data, params)


def _run_of(uri: str, client: TrackingClient) -> tuple[str | None, str | None]:
    """Return the run id (and registered version) a model URI comes from."""
    if uri.startswith("models:/"):
        from mltrail.registry._uris import registered_version

        version = registered_version(uri, client)
        return version.run_id or None, f"{version.name}/{version.version}"
    if uri.startswith("runs:/"):
        return uri[len("runs:/") :].lstrip("/").partition("/")[0] or None, None
    return None, None


def _local_uri(uri: str, client: TrackingClient | None) -> str:
    """Resolve registry and run URIs through ``client`` (its store, not the default)."""
    if client is None:
        return uri
    if uri.startswith("models:/"):
        from mltrail.registry._uris import registered_model_source

        uri = registered_model_source(uri, client)
    if uri.startswith("runs:/"):
        from mltrail.models._model import local_artifact_directory

        run_id, _, path = uri[len("runs:/") :].lstrip("/").partition("/")
        directory = local_artifact_directory(
            client.get_run(run_id).info.artifact_uri, path.strip("/")
        )
        return str(directory) if directory is not None else uri
    return uri


def _served_from_lookup(
    uri: str, tracking_uri: str | None, trusted: bool
) -> ServedModel | None:
    """Load a model whose store is a SQLite file without opening the store.

    The version, the files and the training profile are a few rows, read with
    ``sqlite3`` (``store._sqlite_lookup``): serving never imports SQLAlchemy for
    them. None when that cannot answer; the store then does.
    """
    from mltrail import _config
    from mltrail._system_tags import DATASET_CONTEXT_TAG
    from mltrail.models._loading import load_pyfunc
    from mltrail.models._uris import LOGGED_MODEL_ID, looked_up_directory
    from mltrail.serving._profile import profile_of_inputs
    from mltrail.store._sqlite_lookup import SqliteLookup

    if uri.startswith("models:/") and LOGGED_MODEL_ID.fullmatch(
        uri[len("models:/") :].strip("/")
    ):
        return None
    lookup = SqliteLookup.open(tracking_uri or _config.get_tracking_uri())
    if lookup is None:
        return None
    try:
        run_id: str | None = None
        version: str | None = None
        location: str | None = uri
        if uri.startswith("models:/"):
            found = lookup.version(uri)
            if found is None:
                return None
            run_id, version = found.run_id or None, f"{found.name}/{found.version}"
        if uri.startswith(("models:/", "runs:/")):
            directory = looked_up_directory(uri, lookup)
            location = None if directory is None else str(directory)
        if uri.startswith("runs:/"):
            run_id = uri[len("runs:/") :].lstrip("/").partition("/")[0] or None
        if location is None:
            return None
        model = load_pyfunc(location, True if trusted else None)
        run_id = run_id or model.metadata.run_id
        inputs = lookup.training_inputs(run_id) if run_id else []
        if inputs is None:
            return None
    finally:
        lookup.close()
    signature = model.metadata.signature
    return ServedModel(
        uri=uri,
        model=model,
        schema=None if signature is None else signature.inputs,
        profile=profile_of_inputs(
            (
                item.name,
                item.profile,
                {value for key, value in item.tags if key == DATASET_CONTEXT_TAG},
            )
            for item in inputs
        ),
        run_id=run_id,
        version=version,
    )


def load_served_model(
    model_uri: str | os.PathLike[str],
    *,
    trusted: bool = False,
    tracking_uri: str | None = None,
) -> ServedModel:
    """Load the model at ``model_uri`` for serving, with its training profile."""
    from mltrail.models._loading import load_pyfunc

    uri = os.fspath(model_uri)
    # A local model is checked against its run only when a store is named: opening
    # the default store would create a database file where the server starts.
    named = tracking_uri or os.environ.get("MLTRAIL_TRACKING_URI")
    needs_store = uri.startswith(("models:/", "runs:/"))
    if needs_store or named:
        served = _served_from_lookup(uri, tracking_uri, trusted)
        if served is not None:
            return served
    from mltrail.serving._profile import profile_of_run
    from mltrail.tracking import TrackingClient

    client = TrackingClient(tracking_uri) if needs_store or named else None
    model = load_pyfunc(_local_uri(uri, client), True if trusted else None)
    signature = model.metadata.signature
    run_id, version = (None, None) if client is None else _run_of(uri, client)
    run_id = run_id or model.metadata.run_id
    profile = None
    if run_id and client is not None:
        try:
            profile = profile_of_run(client.get_run(run_id))
        except MltrailError:
            profile = None  # the run lives in another store: no profile to check
    return ServedModel(
        uri=uri,
        model=model,
        schema=None if signature is None else signature.inputs,
        profile=profile,
        run_id=run_id,
        version=version,
    )
