"""Loading a model directory: the estimator, or a pyfunc model that checks input.

Two steps, each usable alone: ``resolve_model_uri`` (``_model``) turns any model
URI into a local directory, and ``load_pyfunc_directory`` or
``load_estimator_directory`` load that directory.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mltrail._errors import InvalidValueError, NotFoundError
from mltrail.models._enforce import enforce_schema
from mltrail.models._mlmodel import MLMODEL_FILE, Model, read_mlmodel
from mltrail.models._model import resolve_model_uri
from mltrail.models._serialization import load_model_file

__all__ = [
    "PyFuncModel",
    "file_inside",
    "load_estimator",
    "load_estimator_directory",
    "load_pyfunc",
    "load_pyfunc_directory",
    "read_model",
]

Trusted = bool | Iterable[str] | None


def read_model(directory: Path, model_uri: str = "") -> Model:
    """Read the ``MLmodel`` of a local model directory."""
    path = directory / MLMODEL_FILE
    if not path.is_file():
        raise NotFoundError(
            "model",
            model_uri or str(directory),
            f"No {MLMODEL_FILE} file there. Pass a directory written by save_model.",
        )
    return Model.from_dict(read_mlmodel(path, model_uri or str(directory)))


def _serialization_format(model: Model) -> str:
    return str(model.flavors.get("sklearn", {}).get("serialization_format", "pickle"))


def _model_file(directory: Path, model: Model, model_uri: str) -> Path:
    sklearn_flavor = model.flavors.get("sklearn")
    pyfunc_flavor = model.flavors.get("python_function", {})
    if sklearn_flavor is None:
        raise InvalidValueError(
            f"the flavors of model {model_uri!r}",
            sorted(model.flavors),
            "a set that includes 'sklearn'",
            "mltrail loads scikit-learn models only.",
        )
    name = sklearn_flavor.get("pickled_model") or pyfunc_flavor.get("model_path")
    if not isinstance(name, str) or not name:
        raise InvalidValueError(
            "the sklearn flavor's pickled_model", name, "the model file's name"
        )
    path = file_inside(directory, name, "the sklearn flavor's pickled_model")
    if not path.is_file():
        raise NotFoundError("model file", str(path))
    return path


def file_inside(directory: Path, name: str, what: str) -> Path:
    """Return the model file ``name`` names, refusing one outside ``directory``."""
    path = (directory / name).resolve()
    if directory.resolve() not in path.parents:
        raise InvalidValueError(what, name, "a file name inside the model directory")
    return path


def add_code_to_path(
    directory: Path, flavor: Mapping[str, Any] | None, trusted: Trusted
) -> None:
    """Put a trusted model's ``code/`` folder (``code_paths``) on ``sys.path``.

    MLflow does so for every model. Here only with ``trusted=True``: a module in
    that folder would shadow any module imported later under its name (the
    model's or the program's), which is running the file's code.
    """
    if trusted is not True:
        return
    code = (flavor or {}).get("code")
    if isinstance(code, str) and code:
        folder = str(file_inside(directory, code, "the flavor's code folder"))
        if folder not in sys.path:
            sys.path.insert(0, folder)


def load_estimator_directory(
    directory: Path, trusted: Trusted = None, model_uri: str = ""
) -> Any:
    """Load the estimator of a local model directory."""
    model = read_model(directory, model_uri)
    path = _model_file(directory, model, model_uri or str(directory))
    add_code_to_path(directory, model.flavors.get("sklearn"), trusted)
    return load_model_file(path, _serialization_format(model), trusted)


def load_estimator(
    model_uri: str | os.PathLike[str],
    trusted: Trusted = None,
    dst_path: str | os.PathLike[str] | None = None,
) -> Any:
    """Load the estimator of a model directory or URI."""
    directory = resolve_model_uri(model_uri, dst_path)
    return load_estimator_directory(directory, trusted, os.fspath(model_uri))


class PyFuncModel:
    """A loaded model whose ``predict`` enforces the model's signature.

    Get one with ``mltrail.pyfunc.load_model``.

    Parameters
    ----------
    estimator : object
        The loaded scikit-learn estimator.
    metadata : Model
        What the model's ``MLmodel`` file says.
    model_uri : str, default=""
        Where the model was loaded from, for messages.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> from mltrail.models import Model
    >>> from mltrail.pyfunc import PyFuncModel
    >>> model = PyFuncModel(LinearRegression().fit([[0], [1]], [0, 1]), Model())
    >>> model.predict([[2.0]]).round(3).tolist()
    [2.0]
    """

    def __init__(self, estimator: Any, metadata: Model, model_uri: str = "") -> None:
        self._estimator = estimator
        self._metadata = metadata
        self._model_uri = model_uri
        pyfunc_flavor = metadata.flavors.get("python_function", {})
        self._predict_fn = str(pyfunc_flavor.get("predict_fn") or "predict")
        self._context: Any = None  # a PythonModel's context, when it is one

    @classmethod
    def _of_python_model(
        cls, python_model: Any, context: Any, metadata: Model, model_uri: str
    ) -> PyFuncModel:
        model = cls(python_model, metadata, model_uri)
        model._context = context
        return model

    @property
    def metadata(self) -> Model:
        """What the model's ``MLmodel`` file says: flavors, signature, run id."""
        return self._metadata

    @property
    def model_uri(self) -> str:
        """Where the model was loaded from."""
        return self._model_uri

    def get_raw_model(self) -> Any:
        """Return the scikit-learn estimator.

        Returns
        -------
        object
            The estimator, as loaded.

        Examples
        --------
        >>> from sklearn.dummy import DummyClassifier
        >>> from mltrail.models import Model
        >>> from mltrail.pyfunc import PyFuncModel
        >>> PyFuncModel(DummyClassifier(), Model()).get_raw_model()
        DummyClassifier()
        """
        return self._estimator

    def unwrap_python_model(self) -> Any:
        """Return the ``PythonModel`` of a custom model, as MLflow does.

        Returns
        -------
        PythonModel
            The loaded custom model.

        Raises
        ------
        InvalidValueError
            If the model is a scikit-learn model: use ``get_raw_model``.

        Examples
        --------
        >>> import mltrail
        >>> class Echo(mltrail.pyfunc.PythonModel):
        ...     def predict(self, context, model_input, params=None):
        ...         return model_input
        >>> _ = mltrail.pyfunc.save_model("echo", python_model=Echo())
        >>> loaded = mltrail.pyfunc.load_model("echo", trusted=True)
        >>> type(loaded.unwrap_python_model()).__name__
        'Echo'
        """
        if self._context is None:
            raise InvalidValueError(
                "model",
                self._model_uri or type(self._estimator).__name__,
                "a custom PythonModel",
                "It is a scikit-learn model: use get_raw_model().",
            )
        return self._estimator

    @property
    def takes_params(self) -> bool:
        """Whether ``predict`` takes inference ``params``: a python model's may."""
        return self._context is not None

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Check ``data`` against the signature, convert it safely, and predict.

        ``data`` may be anything MLflow's pyfunc takes: a DataFrame, a Series, a
        dict of columns, a dict of scalars (one row), a list of records, a list
        of rows, a numpy array or a sparse matrix. Required columns must be
        present; extra columns are dropped with a ``MltrailWarning``; columns are
        put in the signature's order; lossless casts (any integer to ``double``,
        ``float32`` to ``double``, narrower to wider integers) are applied.
        Tensor signatures check the shape (-1 is any size) and cast safely. A
        model that takes one column as a 1-D input (a text pipeline starting
        with a vectorizer: it has no ``n_features_in_``) is given that column.

        Parameters
        ----------
        data : DataFrame, Series, ndarray, sparse matrix, dict or list
            The model input.
        params : dict or None, default=None
            Inference parameters, as in MLflow; scikit-learn models take none.

        Returns
        -------
        ndarray or DataFrame
            What the estimator's predict function returns, one row per input row.

        Raises
        ------
        InvalidValueError
            If a required column is missing, a shape does not match, a column
            would need a cast that loses information (the message names the
            column, the expected type and the actual dtype), ``params`` is not
            empty, or the model returns another number of rows than it was given.

        Examples
        --------
        >>> import pandas as pd
        >>> from sklearn.linear_model import LinearRegression
        >>> from mltrail.models import Model, infer_signature
        >>> X = pd.DataFrame({"x": [0.0, 1.0]})
        >>> metadata = Model(signature=infer_signature(X))
        >>> model = PyFuncModel(LinearRegression().fit(X, [0, 1]), metadata)
        >>> model.predict(pd.DataFrame({"x": [2]})).round(3).tolist()  # int64 is cast
        [2.0]
        >>> model.predict([{"x": 2.0}, {"x": 3.0}]).round(3).tolist()  # records
        [2.0, 3.0]
        """
        if params and self._context is None:
            raise InvalidValueError(
                "params",
                params,
                "empty: scikit-learn models take no inference parameters",
                "Pass the values as input columns, or leave params out.",
            )
        signature = self._metadata.signature
        if signature is not None and signature.inputs is not None:
            data = enforce_schema(data, signature.inputs)
        if self._context is not None:
            from mltrail.pyfunc._python_model import predict_with

            return predict_with(self._estimator, self._context, data, params)
        data = _one_column_as_1d(data, self._estimator)
        result = getattr(self._estimator, self._predict_fn)(data)
        _check_rows(data, result, self._model_uri)
        return result

    def __repr__(self) -> str:
        return (
            f"PyFuncModel(model_uri={self._model_uri!r}, "
            f"estimator={type(self._estimator).__name__})"
        )


def _one_column_as_1d(data: Any, estimator: Any) -> Any:
    """Give a one-column frame's column to a model that takes 1-D input.

    scikit-learn's estimators that take 2-D input record ``n_features_in_``; text
    vectorizers (and a pipeline or search starting with one) take an iterable of
    documents, and iterating a DataFrame yields its column names instead.
    """
    columns = getattr(data, "columns", None)
    if columns is None or len(columns) != 1 or hasattr(estimator, "n_features_in_"):
        return data
    return data.iloc[:, 0]


def _rows(value: Any) -> int | None:
    shape = getattr(value, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    if isinstance(value, list | tuple):
        return len(value)
    return None


def _check_rows(data: Any, result: Any, model_uri: str) -> None:
    """Refuse predictions whose row count differs from the input's."""
    given = _rows(data)
    if given is None:
        return
    # A multi-output predict_proba returns one array per output.
    outputs = (
        result
        if isinstance(result, list)
        and all(hasattr(item, "shape") for item in result)
        and result
        else [result]
    )
    for output in outputs:
        returned = _rows(output)
        if returned is not None and returned != given:
            raise InvalidValueError(
                f"the predictions of model {model_uri!r}",
                f"{returned} rows for {given} input rows",
                "one row per input row",
                "The model read its input in another shape than it was given; "
                "pass it the way it was trained (a text pipeline takes a list or a "
                "Series of documents).",
            )


def load_pyfunc_directory(
    directory: Path,
    trusted: Trusted = None,
    model_uri: str = "",
    model_config: Mapping[str, Any] | None = None,
) -> PyFuncModel:
    """Load a local model directory as a ``PyFuncModel``."""
    model_uri = model_uri or str(directory)
    model = read_model(directory, model_uri)
    pyfunc_flavor = model.flavors.get("python_function")
    loader = pyfunc_flavor.get("loader_module") if pyfunc_flavor else None
    if pyfunc_flavor is not None and loader == "mlflow.pyfunc.model":
        from mltrail.pyfunc._python_model import load_python_model

        add_code_to_path(directory, pyfunc_flavor, trusted)
        python_model, context = load_python_model(
            directory, pyfunc_flavor, trusted, model_uri, model_config
        )
        return PyFuncModel._of_python_model(python_model, context, model, model_uri)
    if loader != "mlflow.sklearn":
        raise InvalidValueError(
            f"the python_function flavor of model {model_uri!r}",
            pyfunc_flavor,
            "one with loader_module 'mlflow.sklearn' or 'mlflow.pyfunc.model'",
            "mltrail loads scikit-learn models and custom PythonModels.",
        )
    if model_config is not None:
        raise InvalidValueError(
            "model_config",
            model_config,
            "None for a scikit-learn model",
            "Only a PythonModel reads a configuration (context.model_config).",
        )
    add_code_to_path(directory, pyfunc_flavor, trusted)
    path = _model_file(directory, model, model_uri)
    estimator = load_model_file(path, _serialization_format(model), trusted)
    return PyFuncModel(estimator, model, model_uri)


def load_pyfunc(
    model_uri: str | os.PathLike[str],
    trusted: Trusted = None,
    dst_path: str | os.PathLike[str] | None = None,
    model_config: Mapping[str, Any] | None = None,
) -> PyFuncModel:
    """Load a model directory or URI as a ``PyFuncModel``."""
    directory = resolve_model_uri(model_uri, dst_path)
    return load_pyfunc_directory(directory, trusted, os.fspath(model_uri), model_config)
