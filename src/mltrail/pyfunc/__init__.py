"""Load a saved model as a ``PyFuncModel`` whose ``predict`` enforces the signature.

Named after ``mlflow.pyfunc``: ``mltrail.pyfunc.load_model(uri).predict(X)`` works on
models written by mltrail and by ``mlflow.sklearn``, and on custom ``PythonModel``
subclasses saved with ``save_model`` or ``log_model`` (which are code, so they
load only with ``trusted=True``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from mltrail._errors import InvalidValueError
from mltrail.models._loading import PyFuncModel, load_pyfunc
from mltrail.models._model import ModelInfo
from mltrail.models._signature import ModelSignature
from mltrail.pyfunc._python_model import PythonModel, PythonModelContext

__all__ = [
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "load_model",
    "log_model",
    "save_model",
]


def load_model(
    model_uri: str | os.PathLike[str],
    suppress_warnings: bool = False,
    dst_path: str | os.PathLike[str] | None = None,
    model_config: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    *,
    trusted: bool | Iterable[str] | None = None,
) -> PyFuncModel:
    """Load a scikit-learn model as a ``PyFuncModel`` that enforces its signature.

    A custom ``PythonModel`` is code (a cloudpickle file): it loads only with
    ``trusted=True``. skops files load without running code: trust is decided from
    the type names
    alone, never by importing them. The types skops trusts load by default, and so
    do scikit-learn's tree and nearest-neighbor models, whose indices are checked
    first; any other type must be listed in ``trusted``. Pickle and cloudpickle
    files load only with ``trusted=True``.

    Parameters
    ----------
    model_uri : str or path
        A model directory (written by mltrail or by ``mlflow.sklearn``), a
        ``file://`` URI, or ``runs:/<run_id>/<artifact_path>``.
    suppress_warnings : bool, default=False
        Accepted for MLflow; mltrail does not warn about requirement mismatches.
    dst_path : str or path or None, default=None
        Where the files of a remote model are downloaded; None for a new
        temporary directory. A local model is read in place, as in MLflow.
    model_config : dict or str or path or None, default=None
        For a custom ``PythonModel`` only: values (or a YAML file of them) that
        override the keys of the ``model_config`` it was saved with, in
        ``context.model_config``; other keys are ignored with a warning.
    trusted : bool or list of str or None, default=None
        ``True`` trusts the file entirely (needed for pickle formats); a list of
        fully qualified type names trusts those types in a skops file as well.

    Returns
    -------
    PyFuncModel
        The model; ``predict`` enforces the signature, ``metadata`` holds the
        ``MLmodel`` content.

    Raises
    ------
    NotFoundError
        If there is no model at ``model_uri``.
    UntrustedModelError
        If the file holds types, or is a pickle, that the caller has not trusted;
        the message lists the types.
    InvalidValueError
        If the file is not what ``MLmodel`` says, is corrupt, holds a tree
        whose indices point outside its arrays, or ``model_config`` is given for
        a scikit-learn model.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> import mltrail
    >>> X, y = load_iris(return_X_y=True, as_frame=True)
    >>> estimator = LogisticRegression(max_iter=500).fit(X, y)
    >>> _ = mltrail.sklearn.save_model(estimator, "iris-model", input_example=X)
    >>> model = mltrail.pyfunc.load_model("iris-model", suppress_warnings=True)
    >>> model.predict(X.iloc[:3]).tolist()
    [0, 0, 0]
    """
    del suppress_warnings  # nothing to suppress
    return load_pyfunc(model_uri, trusted, dst_path, _read_model_config(model_config))


def _read_model_config(
    model_config: Mapping[str, Any] | str | os.PathLike[str] | None,
) -> Mapping[str, Any] | None:
    """Return the configuration given, reading it from a YAML file if a path."""
    from mltrail.models._model_files import mapping_or_yaml_file

    if model_config is None:
        return None
    content = mapping_or_yaml_file(model_config, "model_config")
    if content is not None:
        return content
    raise InvalidValueError(
        "model_config",
        model_config,
        "a dict, or the path of a YAML file holding one",
        "For example model_config={'temperature': 0.5}.",
    )


def save_model(
    path: str | os.PathLike[str],
    python_model: Any = None,
    *,
    artifacts: Mapping[str, str] | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Iterable[str] | None = None,
    extra_pip_requirements: Iterable[str] = (),
    metadata: Mapping[str, Any] | None = None,
    model_config: Mapping[str, Any] | None = None,
) -> ModelInfo:
    """Save a custom ``PythonModel`` (or a function) as a model directory.

    The directory is MLflow's: ``python_model.pkl`` (cloudpickle), the artifacts
    under ``artifacts/``, ``MLmodel`` with loader module ``mlflow.pyfunc.model``,
    and the environment files. Loading it runs its code, so ``load_model`` needs
    ``trusted=True``.

    Parameters
    ----------
    path : str or path
        A directory that does not exist yet (or is empty).
    python_model : PythonModel or callable
        The model: a ``PythonModel`` subclass instance, or a function of the
        input.
    artifacts : mapping of str to str or None, default=None
        Files or folders the model needs, by name: local paths, ``file://`` or
        ``runs:/`` URIs. They are copied in; ``context.artifacts`` gives their
        paths at load time.
    signature : ModelSignature or bool or None, default=None
        None infers the input schema from ``input_example``; False writes none.
    input_example : DataFrame, ndarray or None, default=None
        Data like the model's input; its first 5 rows are saved.
    pip_requirements : iterable of str or None, default=None
        Replaces the inferred requirements.
    extra_pip_requirements : iterable of str, default=()
        Added to the requirements.
    metadata : mapping or None, default=None
        Free-form metadata written in ``MLmodel``.
    model_config : mapping or None, default=None
        Configuration given to the model as ``context.model_config``.

    Returns
    -------
    ModelInfo
        What the ``MLmodel`` file says.

    Raises
    ------
    InvalidValueError
        If ``python_model`` is neither a ``PythonModel`` nor a function, an
        artifact name or URI is malformed, or ``path`` holds files already.
    NotFoundError
        If an artifact does not exist.

    Examples
    --------
    >>> import mltrail
    >>> class Doubler(mltrail.pyfunc.PythonModel):
    ...     def predict(self, context, model_input, params=None):
    ...         return model_input * 2
    >>> info = mltrail.pyfunc.save_model("doubler", python_model=Doubler())
    >>> info.flavors["python_function"]["loader_module"]
    'mlflow.pyfunc.model'
    """
    from pathlib import Path

    from mltrail.pyfunc._python_model import save_python_model

    return save_python_model(
        python_model,
        Path(path),
        artifacts=artifacts,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        model_config=model_config,
    )


def log_model(
    artifact_path: str | None = None,
    python_model: Any = None,
    *,
    name: str | None = None,
    run_id: str | None = None,
    artifacts: Mapping[str, str] | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Iterable[str] | None = None,
    extra_pip_requirements: Iterable[str] = (),
    metadata: Mapping[str, Any] | None = None,
    model_config: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    registered_model_name: str | None = None,
) -> ModelInfo:
    """Log a custom ``PythonModel`` to a run as a logged model, as MLflow 3 does.

    Parameters
    ----------
    artifact_path : str or None, default=None
        MLflow 2's name for ``name``; either may be given.
    python_model : PythonModel or callable
        As in ``save_model``.
    name : str or None, default=None
        The model's name and the run-relative folder of its files; ``"model"``
        when neither this nor ``artifact_path`` is given.
    run_id : str or None, default=None
        The run to log to; None for the active run (one is started if needed).
    artifacts : mapping of str to str or None, default=None
        As in ``save_model``.
    signature : ModelSignature or bool or None, default=None
        As in ``save_model``.
    input_example : DataFrame, ndarray or None, default=None
        As in ``save_model``.
    pip_requirements : iterable of str or None, default=None
        As in ``save_model``.
    extra_pip_requirements : iterable of str, default=()
        As in ``save_model``.
    metadata : mapping or None, default=None
        As in ``save_model``.
    model_config : mapping or None, default=None
        As in ``save_model``.
    params : mapping or None, default=None
        Params of the logged model, added to its run's params.
    tags : mapping or None, default=None
        Tags of the logged model.
    model_type : str or None, default=None
        A free-form type of the logged model.
    step : int, default=0
        The step at which the run produced the model.
    registered_model_name : str or None, default=None
        Register the model as a new version of this registered model.

    Returns
    -------
    ModelInfo
        With ``model_id`` and ``model_uri`` ``models:/<model_id>``.

    Raises
    ------
    InvalidValueError
        As in ``save_model``, or if ``name`` and ``artifact_path`` differ.

    Examples
    --------
    >>> import mltrail
    >>> class Constant(mltrail.pyfunc.PythonModel):
    ...     def predict(self, context, model_input, params=None):
    ...         return [42] * len(model_input)
    >>> with mltrail.start_run():
    ...     info = mltrail.pyfunc.log_model(name="answer", python_model=Constant())
    >>> mltrail.pyfunc.load_model(info.model_uri, trusted=True).predict([[0], [1]])
    [42, 42]
    """
    from mltrail.models._log import check_model_name, log_model_directory
    from mltrail.pyfunc._python_model import save_python_model

    def write(directory: Any, logged: dict[str, Any]) -> ModelInfo:
        info: ModelInfo = save_python_model(
            python_model,
            directory,
            artifacts=artifacts,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            metadata=metadata,
            model_config=model_config,
            **logged,
        )
        return info

    return log_model_directory(
        write,
        name=check_model_name(name, artifact_path),
        run_id=run_id,
        params=params,
        tags=tags,
        model_type=model_type,
        step=step,
        registered_model_name=registered_model_name,
    )
