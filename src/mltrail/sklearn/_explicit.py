"""``mltrail.evaluate(model, X, y)``: held-out evaluation the user asks for by name.

It computes the suite of ``_evaluate`` and logs it to the run of the user's choice
(explicit, active, the model's own autologged run, or a new one), then tells the
held-out recorder (``_heldout``) that this model was evaluated on X under that name.
"""

from __future__ import annotations

import json
from typing import Any

from mltrail._errors import InvalidValueError
from mltrail._system_tags import EVALUATION_TAG
from mltrail.sklearn.shared._evaluate import TEST_NAME

__all__ = ["evaluate"]


def _target_run(model: Any, run_id: str | None) -> tuple[Any, str, bool]:
    """Return ``(client, run_id, is_new)``: explicit, active, the model's, or new."""
    from mltrail import tracking
    from mltrail.sklearn.shared import _fit, _models
    from mltrail.tracking._runs import current_client

    if run_id is not None:
        return current_client(), run_id, False
    active = tracking.active_run()
    if active is not None:
        return current_client(), str(active.info.run_id), False
    logged = _models.model_run(model)
    if logged is not None:
        return logged[1], logged[0], False
    run = tracking.start_run(tags=_fit.estimator_tags(model))
    return current_client(), str(run.info.run_id), True


def evaluate(
    model: Any,
    X: Any,
    y: Any = None,
    *,
    name: str = TEST_NAME,
    run_id: str | None = None,
) -> dict[str, float]:
    """Log the held-out metric suite of a fitted estimator on a dataset.

    Predicts once per method the suite needs (``predict``, plus ``predict_proba`` or
    else ``decision_function`` for classifiers), then logs every metric as
    ``<name>_<metric>``, the dataset as a run input (context ``test`` for the name
    ``"test"``, else ``eval``, with its split lineage when ``X`` comes from a
    ``train_test_split`` seen by autolog), and the plots under ``plots/<name>_*``,
    rendered off the calling thread. Suites: classifiers get ``accuracy``,
    ``balanced_accuracy``, precision, recall and F1 (weighted and macro; binary too
    for two classes), ``matthews_corrcoef``, ``roc_auc``, ``average_precision``,
    ``log_loss`` and the confusion-matrix counts; regressors ``mse``, ``rmse``,
    ``mae``, ``r2``, ``mape``, ``max_error`` and ``explained_variance``; clusterers
    ``silhouette``, ``calinski_harabasz``, ``davies_bouldin``, and
    ``adjusted_rand`` when ``y`` is given. Works for any fitted estimator, autologged
    or not. Later ``sklearn.metrics`` calls on an autologged model's predictions of
    the same data are logged under ``name`` too.

    Parameters
    ----------
    model : estimator
        A fitted scikit-learn classifier, regressor or clusterer (with ``predict``).
    X : array-like, DataFrame or sparse matrix
        The features of the dataset.
    y : array-like, default=None
        Its labels. None takes them from the ``train_test_split`` that produced
        ``X`` when autolog recorded it; a clusterer needs none.
    name : str, default="test"
        The dataset's name: the metrics are ``<name>_<metric>``.
    run_id : str, default=None
        The run to log into. By default the active run, else the run the model was
        autologged into, else a new run (ended ``FINISHED`` before returning).

    Returns
    -------
    dict of str to float
        The metrics as logged, such as ``{"test_accuracy": 0.97, ...}``; metrics
        undefined for the data (one class present, no scores) are left out.

    Raises
    ------
    InvalidValueError
        If ``model`` is not a fitted classifier, regressor or clusterer with
        ``predict``, if ``name`` is malformed, or if a classifier or regressor gets
        no labels.

    Examples
    --------
    >>> import mltrail
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> model = LogisticRegression(max_iter=500).fit(X[::2], y[::2])
    >>> metrics = mltrail.evaluate(model, X[1::2], y[1::2], name="holdout")
    >>> round(metrics["holdout_accuracy"], 2)
    0.96
    >>> run = mltrail.last_active_run()
    >>> run.data.metrics["holdout_accuracy"] == metrics["holdout_accuracy"]
    True
    """
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    from mltrail.sklearn.recorders import _heldout
    from mltrail.sklearn.shared import _models, _splits, _state
    from mltrail.sklearn.shared._evaluate import (
        Outputs,
        complete_outputs,
        log_evaluation,
        model_kind,
        model_name,
        suite,
    )

    _splits.check_name(name)
    kind = model_kind(model)
    if kind is None or not hasattr(model, "predict"):
        raise InvalidValueError(
            "model",
            model,
            "a classifier, regressor or clusterer with a predict method",
            "Pass the fitted estimator (or Pipeline) that makes the predictions.",
        )
    try:
        check_is_fitted(model)
    except NotFittedError as exc:
        raise InvalidValueError(
            "model", model, "a fitted estimator", "Call model.fit(X, y) first."
        ) from exc
    found = _splits.recorded_labels(X)
    lineage = None if found is None else found[1]
    if y is None and found is not None:
        y = found[0]
    if y is None and kind != "clusterer":
        raise InvalidValueError(
            "y",
            None,
            "the labels of X",
            "Pass y, or split X with train_test_split after autolog().",
        )
    outputs = Outputs(kind, model=model_name(model))
    with _state.quiet():
        complete_outputs(model, X, outputs)
    pos_label = _models.pos_label()
    metrics = suite(outputs, X, y, pos_label=pos_label)
    client, target, is_new = _target_run(model, run_id)
    try:
        named = log_evaluation(
            client,
            target,
            name,
            metrics,
            outputs=outputs,
            X=X,
            y_true=y,
            lineage=lineage,
            pos_label=pos_label,
        )
        if is_new:
            client.set_tag(target, EVALUATION_TAG, json.dumps([name]))
    except BaseException:
        if is_new:
            from mltrail import tracking

            tracking.end_run("FAILED")
        raise
    if is_new:
        from mltrail import tracking

        tracking.end_run()
    _heldout.remember_evaluation(model, X, name, target, client)
    return named
