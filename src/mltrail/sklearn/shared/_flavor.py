"""The ``sklearn`` model flavor: save, log and load scikit-learn estimators.

The directory is MLflow's model format, so ``mlflow.pyfunc.load_model`` and
``mlflow.sklearn.load_model`` read it too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from mltrail.models._loading import load_estimator
from mltrail.models._model import (
    ModelInfo,
    save_model_directory,
)
from mltrail.models._signature import ModelSignature

__all__ = ["load_model", "log_model", "save_model"]


def save_model(
    sk_model: Any,
    path: str | os.PathLike[str],
    *,
    serialization_format: str = "skops",
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Iterable[str] | None = None,
    extra_pip_requirements: Iterable[str] = (),
    pyfunc_predict_fn: str = "predict",
    metadata: Mapping[str, Any] | None = None,
    skops_trusted_types: Iterable[str] | None = None,
    conda_env: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    code_paths: Iterable[str | os.PathLike[str]] | None = None,
    extra_files: Iterable[str | os.PathLike[str]] | None = None,
) -> ModelInfo:
    """Save a scikit-learn estimator as a model directory in MLflow's format.

    The directory holds ``MLmodel`` (flavors ``python_function`` and ``sklearn``,
    signature, input example info, mltrail's version), the serialized estimator,
    ``requirements.txt``, ``python_env.yaml``, ``conda.yaml`` and, with an input
    example, ``input_example.json`` and ``serving_input_example.json``. The
    requirements are found in-process from the classes inside the estimator.

    Parameters
    ----------
    sk_model : estimator
        The scikit-learn estimator, usually fitted.
    path : str or path
        A directory that does not exist yet (or is empty).
    serialization_format : {"skops", "cloudpickle", "pickle"}, default="skops"
        skops loads without running code; pickle formats need ``trusted=True`` to
        load.
    signature : ModelSignature or bool or None, default=None
        None infers it from ``input_example`` and the model's output on it; False
        saves no signature.
    input_example : DataFrame, ndarray, sparse matrix or None, default=None
        Data like ``X``; its first 5 rows are saved (nothing else is copied).
    pip_requirements : iterable of str or None, default=None
        Replaces the inferred requirements.
    extra_pip_requirements : iterable of str, default=()
        Added to the requirements.
    pyfunc_predict_fn : str, default="predict"
        The method that ``PyFuncModel.predict`` calls, such as ``"predict_proba"``.
    metadata : mapping or None, default=None
        Free-form metadata written in ``MLmodel``.
    skops_trusted_types : iterable of str or None, default=None
        Added to ``MLmodel``'s ``skops_trusted_types``, the list MLflow's loader
        trusts (the types skops does not trust are always listed). mltrail's
        loader never reads it: pass ``trusted=`` to ``load_model`` instead.
    conda_env : dict or str or path or None, default=None
        A conda environment (a dict, or a YAML file) written as ``conda.yaml``
        instead of the inferred one; its pip section becomes
        ``requirements.txt``. Not with ``pip_requirements`` or
        ``extra_pip_requirements``, as in MLflow.
    code_paths : list of str or path or None, default=None
        Files and directories copied into the model's ``code/`` folder, which
        ``load_model(..., trusted=True)`` puts on ``sys.path`` (only a trusted
        model's: a module there shadows any module imported later by its name).
    extra_files : list of str or path or None, default=None
        Files copied into the model's ``extra_files/`` folder and listed in the
        ``sklearn`` flavor.

    Returns
    -------
    ModelInfo
        What the ``MLmodel`` file says; ``model_uri`` is ``path``.

    Raises
    ------
    InvalidValueError
        If ``path`` holds files already, an argument is not one of its values, or
        ``conda_env`` comes with pip requirements.
    NotFoundError
        If a file of ``conda_env``, ``code_paths`` or ``extra_files`` is missing.

    Examples
    --------
    >>> from sklearn.datasets import load_wine
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> import mltrail
    >>> X, y = load_wine(return_X_y=True, as_frame=True)
    >>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    >>> info = mltrail.sklearn.save_model(forest, "wine-model", input_example=X)
    >>> info.flavors["sklearn"]["serialization_format"]
    'skops'
    >>> info.signature.inputs.inputs[0]
    ColSpec(type='double', name='alcohol', required=True)
    """
    return save_model_directory(
        sk_model,
        path,
        serialization_format=serialization_format,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        pyfunc_predict_fn=pyfunc_predict_fn,
        metadata=metadata,
        skops_trusted_types=skops_trusted_types,
        conda_env=conda_env,
        code_paths=code_paths,
        extra_files=extra_files,
    )


def log_model(
    sk_model: Any,
    artifact_path: str | None = None,
    *,
    name: str | None = None,
    run_id: str | None = None,
    serialization_format: str = "skops",
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Iterable[str] | None = None,
    extra_pip_requirements: Iterable[str] = (),
    pyfunc_predict_fn: str = "predict",
    metadata: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    registered_model_name: str | None = None,
    skops_trusted_types: Iterable[str] | None = None,
    await_registration_for: int = 300,
    conda_env: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    code_paths: Iterable[str | os.PathLike[str]] | None = None,
    extra_files: Iterable[str | os.PathLike[str]] | None = None,
) -> ModelInfo:
    """Log a scikit-learn estimator to a run as a logged model, as MLflow 3 does.

    The model gets an id (``m-<32 hex>``) and the URI ``models:/<model_id>``; its
    files go into the run's artifacts at ``name``, so ``runs:/<run_id>/<name>``
    loads it too. Without ``run_id``, the model goes to the active run; with no
    active run, a run is started and left active, as MLflow does.

    Parameters
    ----------
    sk_model : estimator
        The scikit-learn estimator, usually fitted.
    artifact_path : str or None, default=None
        MLflow 2's name for ``name``; either may be given.
    name : str or None, default=None
        The model's name and the run-relative folder of its files; ``"model"``
        when neither this nor ``artifact_path`` is given.
    run_id : str or None, default=None
        The run to log to; None for the active run.
    serialization_format : {"skops", "cloudpickle", "pickle"}, default="skops"
        As in ``save_model``.
    signature : ModelSignature or bool or None, default=None
        As in ``save_model``.
    input_example : DataFrame, ndarray, sparse matrix or None, default=None
        As in ``save_model``.
    pip_requirements : iterable of str or None, default=None
        As in ``save_model``.
    extra_pip_requirements : iterable of str, default=()
        As in ``save_model``.
    pyfunc_predict_fn : str, default="predict"
        As in ``save_model``.
    metadata : mapping or None, default=None
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
    skops_trusted_types : iterable of str or None, default=None
        As in ``save_model``.
    await_registration_for : int, default=300
        Accepted for MLflow's callers; registration is immediate.
    conda_env : dict or str or path or None, default=None
        As in ``save_model``.
    code_paths : list of str or path or None, default=None
        As in ``save_model``.
    extra_files : list of str or path or None, default=None
        As in ``save_model``.

    Returns
    -------
    ModelInfo
        With ``model_id``, ``model_uri`` ``models:/<model_id>``, ``run_id``,
        ``name`` and, when registered, ``registered_model_version``.

    Raises
    ------
    NotFoundError
        If ``run_id`` names no run.
    InvalidValueError
        If an argument is not one of its values, or ``name`` and
        ``artifact_path`` differ.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> import mltrail
    >>> X, y = load_iris(return_X_y=True)
    >>> with mltrail.start_run() as run:
    ...     info = mltrail.sklearn.log_model(
    ...         DecisionTreeClassifier().fit(X, y), name="model"
    ...     )
    >>> info.model_uri == f"models:/{info.model_id}"
    True
    >>> mltrail.sklearn.load_model(info.model_uri).predict(X[:2]).tolist()
    [0, 0]
    >>> mltrail.sklearn.load_model(f"runs:/{run.info.run_id}/model").predict(X[:1])
    array([0])
    """
    from mltrail.models._log import check_model_name, log_model_directory

    model_name = check_model_name(name, artifact_path)
    options: dict[str, Any] = {
        "serialization_format": serialization_format,
        "signature": signature,
        "input_example": input_example,
        "pip_requirements": pip_requirements,
        "extra_pip_requirements": extra_pip_requirements,
        "pyfunc_predict_fn": pyfunc_predict_fn,
        "metadata": metadata,
        "skops_trusted_types": skops_trusted_types,
        "conda_env": conda_env,
        "code_paths": code_paths,
        "extra_files": extra_files,
    }
    del await_registration_for  # registration is synchronous
    return log_model_directory(
        lambda directory, logged: save_model_directory(
            sk_model, directory, **options, **logged
        ),
        name=model_name,
        run_id=run_id,
        params=params,
        tags=tags,
        model_type=model_type,
        step=step,
        registered_model_name=registered_model_name,
    )


def load_model(
    model_uri: str | os.PathLike[str],
    dst_path: str | os.PathLike[str] | None = None,
    *,
    trusted: bool | Iterable[str] | None = None,
) -> Any:
    """Load a scikit-learn estimator saved by mltrail or by ``mlflow.sklearn``.

    skops files load without running code: trust is decided from the type names
    alone, never by importing them. The types skops trusts load by default, and so
    do scikit-learn's tree and nearest-neighbor models, whose indices are checked
    first; any other type must be listed in ``trusted``. The list stored in the
    model's ``MLmodel`` is never used. Pickle and cloudpickle files load only with
    ``trusted=True``.

    Parameters
    ----------
    model_uri : str or path
        A model directory, a ``file://`` URI, or ``runs:/<run_id>/<artifact_path>``.
    dst_path : str or path or None, default=None
        Where the files of a remote model are downloaded; None for a new
        temporary directory. A local model is read in place, as in MLflow.
    trusted : bool or list of str or None, default=None
        ``True`` trusts the file entirely (needed for pickle formats); a list of
        fully qualified type names trusts those types in a skops file as well.

    Returns
    -------
    estimator
        The estimator, as it was saved.

    Raises
    ------
    NotFoundError
        If there is no model at ``model_uri``.
    UntrustedModelError
        If the file holds types, or is a pickle, that the caller has not trusted;
        the message lists the types.
    InvalidValueError
        If the file is not what ``MLmodel`` says, is corrupt, or holds a tree
        whose indices point outside its arrays.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> import mltrail
    >>> X, y = load_iris(return_X_y=True)
    >>> estimator = LogisticRegression(max_iter=500).fit(X, y)
    >>> _ = mltrail.sklearn.save_model(
    ...     estimator, "pickled", serialization_format="pickle"
    ... )
    >>> mltrail.sklearn.load_model("pickled", trusted=True).predict(X[:1]).tolist()
    [0]
    """
    return load_estimator(model_uri, trusted, dst_path)
