"""Load a saved model as a ``PyFuncModel`` whose ``predict`` enforces the signature.

Named after ``mlflow.pyfunc``: ``mltrail.pyfunc.load_model(uri).predict(X)`` works on
models written by mltrail and by ``mlflow.sklearn``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from mltrail.models._loading import PyFuncModel, load_pyfunc

__all__ = ["PyFuncModel", "load_model"]


def load_model(
    model_uri: str | os.PathLike[str], *, trusted: bool | Iterable[str] | None = None
) -> PyFuncModel:
    """Load a scikit-learn model as a ``PyFuncModel`` that enforces its signature.

    skops files load without running code: trust is decided from the type names
    alone, never by importing them. The types skops trusts load by default, and so
    do scikit-learn's tree models, whose node and feature indices are checked
    first; any other type must be listed in ``trusted``. Pickle and cloudpickle
    files load only with ``trusted=True``.

    Parameters
    ----------
    model_uri : str or path
        A model directory (written by mltrail or by ``mlflow.sklearn``), a
        ``file://`` URI, or ``runs:/<run_id>/<artifact_path>``.
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
        If the file is not what ``MLmodel`` says, is corrupt, or holds a tree
        whose indices point outside its arrays.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> import mltrail
    >>> X, y = load_iris(return_X_y=True, as_frame=True)
    >>> estimator = LogisticRegression(max_iter=500).fit(X, y)
    >>> _ = mltrail.sklearn.save_model(estimator, "iris-model", input_example=X)
    >>> model = mltrail.pyfunc.load_model("iris-model")
    >>> model.predict(X.iloc[:3]).tolist()
    [0, 0, 0]
    """
    return load_pyfunc(model_uri, trusted)
