"""Custom Python models in MLflow's format: ``PythonModel``, saved with cloudpickle.

A ``PythonModel`` is the user's own code, pickled: ``save_python_model`` writes
``python_model.pkl`` and the artifacts the model needs in MLflow's layout (loader
module ``mlflow.pyfunc.model``), and loading it runs that code, so it loads only
with ``trusted=True``, like any pickle.
"""

from __future__ import annotations

import inspect
import os
import shutil
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mltrail._errors import InvalidValueError, MltrailWarning, NotFoundError

if TYPE_CHECKING:
    from mltrail.models._model import ModelInfo

__all__ = [
    "PYTHON_MODEL_FILE",
    "PYTHON_MODEL_LOADER",
    "PythonModel",
    "PythonModelContext",
    "load_python_model",
    "predict_with",
    "save_python_model",
]

PYTHON_MODEL_LOADER = "mlflow.pyfunc.model"
PYTHON_MODEL_FILE = "python_model.pkl"
ARTIFACTS_FOLDER = "artifacts"


class PythonModelContext:
    """What a ``PythonModel`` gets at load time: its artifacts and configuration.

    Parameters
    ----------
    artifacts : dict of str to str
        Each artifact's name and its local path inside the loaded model.
    model_config : dict
        The ``model_config`` given when the model was saved.

    Examples
    --------
    >>> from mltrail.pyfunc import PythonModelContext
    >>> PythonModelContext({"words": "/models/m/artifacts/words"}, {}).artifacts
    {'words': '/models/m/artifacts/words'}
    """

    def __init__(self, artifacts: dict[str, str], model_config: dict[str, Any]) -> None:
        self._artifacts = artifacts
        self._model_config = model_config

    @property
    def artifacts(self) -> dict[str, str]:
        """The artifacts by name, as local paths."""
        return self._artifacts

    @property
    def model_config(self) -> dict[str, Any]:
        """The configuration given when the model was saved."""
        return self._model_config


class PythonModel:
    """Base class of a custom model with MLflow's ``python_function`` interface.

    Subclass it and define ``predict(self, context, model_input, params=None)``
    (or ``predict(self, model_input, params=None)``, as MLflow 3 allows), and
    optionally ``load_context`` to read artifacts once at load time. Save it
    with ``mltrail.pyfunc.save_model`` or ``log_model``; load it back with
    ``mltrail.pyfunc.load_model(uri, trusted=True)``: it is code.

    Examples
    --------
    >>> import mltrail
    >>> class AddN(mltrail.pyfunc.PythonModel):
    ...     def __init__(self, n):
    ...         self.n = n
    ...     def predict(self, context, model_input, params=None):
    ...         return [value + self.n for value in model_input]
    >>> _ = mltrail.pyfunc.save_model("add-n", python_model=AddN(2))
    >>> mltrail.pyfunc.load_model("add-n", trusted=True).predict([1.0, 5.0])
    [3.0, 7.0]
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Read what predict needs from ``context.artifacts``; nothing by default.

        Parameters
        ----------
        context : PythonModelContext
            The artifacts and the model configuration.

        Examples
        --------
        >>> from mltrail.pyfunc import PythonModel, PythonModelContext
        >>> PythonModel().load_context(PythonModelContext({}, {}))
        """

    def predict(
        self,
        context: PythonModelContext,
        model_input: Any,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """Return predictions for ``model_input``: subclasses define it.

        Parameters
        ----------
        context : PythonModelContext
            The artifacts and the model configuration.
        model_input : DataFrame, ndarray or list
            The input, checked against the signature when there is one.
        params : dict or None, default=None
            Inference parameters.

        Returns
        -------
        object
            The predictions.

        Raises
        ------
        NotImplementedError
            Always: a subclass defines ``predict``.

        Examples
        --------
        >>> from mltrail.pyfunc import PythonModel, PythonModelContext
        >>> try:
        ...     PythonModel().predict(PythonModelContext({}, {}), [1])
        ... except NotImplementedError as error:
        ...     print(error)
        PythonModel subclasses define predict(self, context, model_input, params=None)
        """
        raise NotImplementedError(
            "PythonModel subclasses define predict(self, context, model_input, "
            "params=None)"
        )


class _FunctionModel(PythonModel):
    """A plain function saved as a model, as MLflow allows."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.function = function

    def predict(
        self,
        context: PythonModelContext,
        model_input: Any,
        params: dict[str, Any] | None = None,
    ) -> Any:
        return self.function(model_input)


def predict_with(
    python_model: Any, context: PythonModelContext, data: Any, params: Any
) -> Any:
    """Call ``predict`` with or without ``context``, as the method declares it."""
    parameters = inspect.signature(python_model.predict).parameters
    arguments: list[Any] = [data]
    if "context" in parameters:
        arguments.insert(0, context)
    if params is not None and "params" in parameters:
        return python_model.predict(*arguments, params=params)
    if params:
        raise InvalidValueError(
            "params",
            params,
            "empty: this model's predict takes no params",
            "Add a params argument to its predict method.",
        )
    return python_model.predict(*arguments)


def _copy_artifact(name: str, source: str, target: Path) -> str:
    """Copy an artifact (a local path, ``file://`` or ``runs:/`` URI) into the model."""
    from urllib.parse import unquote, urlparse

    if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
        raise InvalidValueError(
            "artifact name", name, "a non-empty name without '/'", "Use 'vocabulary'."
        )
    if not isinstance(source, str | os.PathLike):
        raise InvalidValueError(
            f"artifact {name!r}", source, "a local path or a file:// or runs:/ URI"
        )
    text = os.fspath(source)
    parsed = urlparse(text)
    if parsed.scheme == "runs":
        from mltrail.tracking import TrackingClient

        run_id, _, path = text[len("runs:/") :].lstrip("/").partition("/")
        local = Path(TrackingClient().download_artifacts(run_id, path))
    elif parsed.scheme == "file":
        local = Path(unquote(parsed.path))
    elif not parsed.scheme or len(parsed.scheme) == 1:
        local = Path(text)
    else:
        raise InvalidValueError(
            f"artifact {name!r}", text, "a local path or a file:// or runs:/ URI"
        )
    if not local.exists():
        raise NotFoundError(f"artifact {name!r}", str(local))
    destination = target / ARTIFACTS_FOLDER / name
    destination.parent.mkdir(exist_ok=True)
    if local.is_dir():
        shutil.copytree(local, destination)
    else:
        shutil.copy2(local, destination)
    return f"{ARTIFACTS_FOLDER}/{name}"


def save_python_model(
    python_model: Any,
    directory: Path,
    *,
    artifacts: Mapping[str, str] | None = None,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: Iterable[str] | None = None,
    extra_pip_requirements: Iterable[str] = (),
    metadata: Mapping[str, Any] | None = None,
    model_config: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    model_uri: str | None = None,
    model_id: str | None = None,
) -> ModelInfo:
    """Write a ``PythonModel`` (or a function) as a model directory, as MLflow does."""
    from mltrail.models._model import write_model_files

    if not isinstance(python_model, PythonModel):
        if not callable(python_model):
            raise InvalidValueError(
                "python_model",
                python_model,
                "a PythonModel subclass instance or a function",
                "Subclass mltrail.pyfunc.PythonModel and define predict.",
            )
        python_model = _FunctionModel(python_model)
    try:
        import cloudpickle
    except ImportError as error:  # pragma: no cover - cloudpickle is in the test env
        raise InvalidValueError(
            "cloudpickle", "missing", "installed", "pip install cloudpickle"
        ) from error

    def write(target: Path) -> dict[str, dict[str, Any]]:
        with open(target / PYTHON_MODEL_FILE, "wb") as file:
            cloudpickle.dump(python_model, file)
        saved = {
            name: {"path": _copy_artifact(name, uri, target), "uri": str(uri)}
            for name, uri in (artifacts or {}).items()
        }
        flavor: dict[str, Any] = {
            "cloudpickle_version": cloudpickle.__version__,
            "loader_module": PYTHON_MODEL_LOADER,
            "python_model": PYTHON_MODEL_FILE,
            "streamable": False,
        }
        if saved:
            flavor["artifacts"] = saved
        if model_config:
            flavor["config"] = dict(model_config)
        return {"python_function": flavor}

    return write_model_files(
        python_model,
        directory,
        write,
        model_file=PYTHON_MODEL_FILE,
        base_requirements=(),  # what the model's own objects need, and cloudpickle
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        run_id=run_id,
        artifact_path=artifact_path,
        model_uri=model_uri,
        model_id=model_id,
    )


def load_python_model(
    directory: Path,
    flavor: Mapping[str, Any],
    trusted: Any,
    model_uri: str,
    model_config: Mapping[str, Any] | None = None,
) -> tuple[Any, PythonModelContext]:
    """Unpickle a saved ``PythonModel`` (only when trusted) and run its load_context.

    ``model_config`` overrides the saved configuration's keys, as MLflow does;
    other keys are ignored with a warning.
    """
    from mltrail.models._loading import file_inside
    from mltrail.models._serialization import UntrustedModelError, load_model_file

    name = flavor.get("python_model")
    if not isinstance(name, str) or not name:
        raise InvalidValueError(
            f"the python_function flavor of model {model_uri!r}",
            dict(flavor),
            "one with a 'python_model' file name",
            "Models saved from code (model_code_path) are not supported by mltrail.",
        )
    path = file_inside(directory, name, "the python_function flavor's python_model")
    if trusted is not True:
        raise UntrustedModelError(str(path), [], "cloudpickle")
    if not path.is_file():
        raise NotFoundError("model file", str(path))
    python_model = load_model_file(path, "cloudpickle", trusted=True)
    saved = flavor.get("artifacts") or {}
    artifacts = {
        str(key): str((directory / str(value.get("path", ""))).resolve())
        for key, value in saved.items()
        if isinstance(value, Mapping)
    }
    config = dict(flavor.get("config") or flavor.get("model_config") or {})
    ignored = sorted(set(model_config or {}) - set(config))
    if ignored:
        warnings.warn(
            f"model_config keys {ignored} are ignored: the model was saved without "
            "them. Save the model with model_config holding every key to override.",
            MltrailWarning,
            stacklevel=4,
        )
    config.update((k, v) for k, v in (model_config or {}).items() if k in config)
    context = PythonModelContext(artifacts, config)
    if hasattr(python_model, "load_context"):
        python_model.load_context(context)
    return python_model, context
