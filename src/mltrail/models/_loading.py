"""Loading a model directory: the estimator, or a pyfunc model that checks input."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mltrail._errors import InvalidValueError, NotFoundError
from mltrail.models._enforce import enforce_schema
from mltrail.models._model import ModelInfo, read_model_info, resolve_model_uri
from mltrail.models._serialization import load_model_file

__all__ = ["PyFuncModel", "load_estimator", "load_pyfunc"]

Trusted = bool | Iterable[str] | None


def _model_file(directory: Path, info: ModelInfo) -> Path:
    sklearn_flavor = info.flavors.get("sklearn")
    pyfunc_flavor = info.flavors.get("python_function", {})
    if sklearn_flavor is None:
        raise InvalidValueError(
            f"the flavors of model {info.model_uri!r}",
            sorted(info.flavors),
            "a set that includes 'sklearn'",
            "mltrail loads scikit-learn models only.",
        )
    name = sklearn_flavor.get("pickled_model") or pyfunc_flavor.get("model_path")
    if not isinstance(name, str) or not name:
        raise InvalidValueError(
            "the sklearn flavor's pickled_model", name, "the model file's name"
        )
    path = (directory / name).resolve()
    if directory.resolve() not in path.parents:
        raise InvalidValueError(
            "the sklearn flavor's pickled_model",
            name,
            "a file name inside the model directory",
        )
    if not path.is_file():
        raise NotFoundError("model file", str(path))
    return path


def _read(model_uri: str | os.PathLike[str]) -> tuple[Path, ModelInfo]:
    directory = resolve_model_uri(model_uri)
    return directory, read_model_info(directory, os.fspath(model_uri))


def load_estimator(model_uri: str | os.PathLike[str], trusted: Trusted = None) -> Any:
    """Load the estimator of a model directory or ``runs:/`` URI."""
    directory, info = _read(model_uri)
    return load_model_file(
        _model_file(directory, info), info.serialization_format, trusted
    )


class PyFuncModel:
    """A loaded model whose ``predict`` enforces the model's signature.

    Get one with ``mltrail.pyfunc.load_model``.

    Parameters
    ----------
    estimator : object
        The loaded scikit-learn estimator.
    metadata : ModelInfo
        What the model's ``MLmodel`` file says.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> from mltrail.models import ModelInfo
    >>> from mltrail.pyfunc import PyFuncModel
    >>> model = PyFuncModel(LinearRegression().fit([[0], [1]], [0, 1]),
    ...                     ModelInfo("memory", {}, "a" * 32, ""))
    >>> model.predict([[2.0]]).round(3).tolist()
    [2.0]
    """

    def __init__(self, estimator: Any, metadata: ModelInfo) -> None:
        self._estimator = estimator
        self._metadata = metadata
        pyfunc_flavor = metadata.flavors.get("python_function", {})
        self._predict_fn = str(pyfunc_flavor.get("predict_fn") or "predict")

    @property
    def metadata(self) -> ModelInfo:
        """What the model's ``MLmodel`` file says: flavors, signature, run id."""
        return self._metadata

    def get_raw_model(self) -> Any:
        """Return the scikit-learn estimator.

        Returns
        -------
        object
            The estimator, as loaded.

        Examples
        --------
        >>> from sklearn.dummy import DummyClassifier
        >>> from mltrail.models import ModelInfo
        >>> from mltrail.pyfunc import PyFuncModel
        >>> PyFuncModel(DummyClassifier(), ModelInfo("m", {}, "", "")).get_raw_model()
        DummyClassifier()
        """
        return self._estimator

    def predict(self, data: Any) -> Any:
        """Check ``data`` against the signature, convert it safely, and predict.

        Required columns must be present; extra columns are dropped with a
        ``MltrailWarning``; columns are put in the signature's order; lossless casts
        (any integer to ``double``, ``float32`` to ``double``, narrower to wider
        integers) are applied. Tensor signatures check the shape (-1 is any size)
        and cast safely; a DataFrame passed to one is converted to an array.

        Parameters
        ----------
        data : DataFrame, ndarray, sparse matrix, dict or list
            The model input.

        Returns
        -------
        ndarray or DataFrame
            What the estimator's predict function returns.

        Raises
        ------
        InvalidValueError
            If a required column is missing, a shape does not match, or a column
            would need a cast that loses information (the message names the
            column, the expected type and the actual dtype).

        Examples
        --------
        >>> import pandas as pd
        >>> from sklearn.linear_model import LinearRegression
        >>> from mltrail.models import ModelInfo, infer_signature
        >>> X = pd.DataFrame({"x": [0.0, 1.0]})
        >>> info = ModelInfo("m", {}, "", "", signature=infer_signature(X))
        >>> model = PyFuncModel(LinearRegression().fit(X, [0, 1]), info)
        >>> model.predict(pd.DataFrame({"x": [2]})).round(3).tolist()  # int64 is cast
        [2.0]
        """
        signature = self._metadata.signature
        if signature is not None and signature.inputs is not None:
            data = enforce_schema(data, signature.inputs)
        return getattr(self._estimator, self._predict_fn)(data)

    def __repr__(self) -> str:
        return (
            f"PyFuncModel(model_uri={self._metadata.model_uri!r}, "
            f"estimator={type(self._estimator).__name__})"
        )


def load_pyfunc(
    model_uri: str | os.PathLike[str], trusted: Trusted = None
) -> PyFuncModel:
    """Load a model directory or ``runs:/`` URI as a ``PyFuncModel``."""
    directory, info = _read(model_uri)
    pyfunc_flavor = info.flavors.get("python_function")
    if pyfunc_flavor is None or pyfunc_flavor.get("loader_module") != "mlflow.sklearn":
        raise InvalidValueError(
            f"the python_function flavor of model {info.model_uri!r}",
            pyfunc_flavor,
            "one with loader_module 'mlflow.sklearn'",
            "mltrail loads scikit-learn models only.",
        )
    estimator = load_model_file(
        _model_file(directory, info), info.serialization_format, trusted
    )
    return PyFuncModel(estimator, info)
