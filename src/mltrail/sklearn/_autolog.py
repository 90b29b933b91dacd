"""``mltrail.sklearn.autolog()``: turn logging of scikit-learn fits on or off."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mltrail._errors import InvalidValueError, MltrailWarning
from mltrail._system_tags import AUTOLOGGING_TAG

__all__ = ["autolog"]

_FORMATS = ("skops", "cloudpickle", "pickle")


def autolog(
    log_input_examples: bool = True,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    max_tuning_runs: int | None = None,
    log_post_training_metrics: bool = True,
    serialization_format: str = "skops",
    registered_model_name: str | None = None,
    pos_label: int | str | None = None,
    extra_tags: Mapping[str, str] | None = None,
    *,
    log_evaluation: bool = True,
    eval_names: Mapping[str, Any] | None = None,
    log_plots: bool = True,
    log_dataset_files: bool = False,
    log_code: bool = True,
    log_tags: bool = True,
    log_pipeline: bool = True,
    log_iterations: bool = True,
    log_partial_fit: bool = True,
) -> None:
    """Log every scikit-learn ``fit`` to a run: params, metrics, tags and the model.

    Patches ``fit``, ``fit_transform`` and ``fit_predict`` of every scikit-learn
    estimator class, of third-party estimators built on ``BaseEstimator`` (such as
    XGBoost's and LightGBM's scikit-learn classes), and of classes defined or
    imported after this call. Each top-level fit logs:

    - params: every ``get_params(deep=True)`` entry, as ``str``, never truncated;
    - training metrics with MLflow's names (``training_accuracy_score``,
      ``training_f1_score``, ``training_r2_score``, ``training_score``, ... and
      ``training_silhouette_score`` and kin for clusterers on at most 2,000 rows),
      and ``training_duration_seconds``, the time ``fit`` took;
    - tags ``estimator_name``, ``estimator_class``, ``mlflow.autologging``,
      ``mlflow.mltrail.python_version``, ``mlflow.mltrail.sklearn_version`` and
      ``mlflow.mltrail.version``;
    - the model under ``model/``, with its signature and input example, the
      training data as a run input, and ``environment/packages.txt``.

    Runs. With no active run, the fit gets its own run, ended ``FINISHED``, or
    ``FAILED`` if ``fit`` raises (``KILLED`` for ``KeyboardInterrupt``): the
    exception propagates unchanged, and the tags ``mlflow.mltrail.error.type``,
    ``mlflow.mltrail.error.message`` and ``mlflow.mltrail.error.traceback`` record
    it. With an
    active run, the first fit logs into it and leaves it open; each later fit in
    the same run gets a *child run* of its own (tag ``mlflow.parentRunId``), so a
    second estimator never conflicts with the first one's params.

    Preprocessing. A standalone transformer (``StandardScaler``, ``SimpleImputer``,
    ``TfidfVectorizer``, ``SelectKBest``, ``PCA``: it transforms and does not
    predict) never takes a run's model slot. Its top-level fit starts no run; in
    a run of yours it is recorded there at once. A model fitted on its output
    records it as the preprocessing its input went through: params
    ``<step>__<param>`` (as ``make_pipeline`` names them), the tag
    ``mlflow.mltrail.preprocessing``, ``preprocessing.json`` and the fitted
    transformer under ``preprocessing/<step>/``. Its outputs on held-out data
    (``scaler.transform(X_test)``) are recognised as that data. Fits that
    scikit-learn's own code makes on your behalf (the ``LabelEncoder`` inside
    ``f1_score``, ``compute_class_weight``) are never runs.

    Nesting. Fits called inside a logged fit (pipeline steps, search folds, the
    refit, ``fit_transform`` calling ``fit``, ``cross_validate`` inside a custom
    ``fit``) log nothing of their own, in joblib's worker threads too. So do the
    folds of ``cross_validate``, ``cross_val_score``, ``cross_val_predict``,
    ``learning_curve``, ``validation_curve`` and ``permutation_test_score``, however
    they were imported. A fit in a thread of your own is a top-level fit and gets
    its own run.

    Searches. ``GridSearchCV``, ``RandomizedSearchCV`` and the halving searches log
    their own params (``get_params(deep=False)``), ``best_<param>`` params,
    ``best_cv_score``, training metrics of the refit estimator, ``cv_results.csv``,
    the search itself as the model (as MLflow: it loads with its ``cv_results_``
    and predicts with its best estimator) and ``best_estimator_`` beside it as the
    model ``best_estimator``, plus one child run per candidate, best
    first, tagged ``mlflow.mltrail.best_candidate=true`` for the best and linked
    from the parent by ``mlflow.mltrail.best_child_run_id``.

    Failures of autologging itself warn once per fit (``MltrailWarning``), never
    change what ``fit`` returns or raises, and never mark the run ``FAILED``. Where
    the warning filters turn warnings into errors (``python -W error``, pytest's
    ``filterwarnings = error``), the message goes to the ``mltrail`` logger instead.

    MLflow's keywords. Every keyword of ``mlflow.sklearn.autolog`` is taken, in
    MLflow's order, so ``import mltrail as mlflow`` runs MLflow scripts unchanged.
    Three defaults differ, because mltrail records more and loads safely:
    ``log_input_examples=True``, ``max_tuning_runs=None`` (every candidate) and
    ``serialization_format="skops"``.

    Parameters
    ----------
    log_input_examples : bool, default=True
        Save the first 5 rows of ``X`` with the model as its input example.
    log_model_signatures : bool, default=True
        Infer the model signature from ``X[:5]`` and ``predict`` (or ``transform``).
    log_models : bool, default=True
        Save the fitted estimator under the run's ``model/`` artifact directory.
    log_datasets : bool, default=True
        Record the training data as a run input with context ``train``.
    disable : bool, default=False
        If True, turn autologging off and restore every patched method exactly.
    exclusive : bool, default=False
        If True, fits inside a run you started log nothing.
    disable_for_unsupported_versions : bool, default=False
        Taken for MLflow's signature. mltrail supports every scikit-learn version
        it installs with, so nothing is ever disabled for its version.
    silent : bool, default=False
        If True, autologging's own failures do not warn.
    max_tuning_runs : int or None, default=None
        The most child runs a search logs, best first; None logs every candidate.
    log_post_training_metrics : bool, default=True
        Also log, under MLflow's names, the ``sklearn.metrics`` calls and
        ``score`` calls on an autologged model's predictions:
        ``<function>[-<call index>]_<dataset variable>`` (``accuracy_score_X_test``,
        ``LogisticRegression_score_X_test``), with ``metric_info.json`` saying which
        call gave each. They sit beside mltrail's own ``test_*`` metrics, which
        ``log_evaluation`` controls.
    serialization_format : {"skops", "cloudpickle", "pickle"}, default="skops"
        How the model is saved; skops loads without running code.
    registered_model_name : str or None, default=None
        If set, each autologged model is registered as the next version of this
        registered model (created if needed), once its files are written.
    pos_label : int, str or None, default=None
        If set, precision, recall and F1 are binary for this label, else weighted.
    extra_tags : mapping of str to str or None, default=None
        Tags added to the runs that autologging creates.
    log_evaluation : bool, default=True
        Log the full metric suite (``test_accuracy``, ``test_roc_auc``, ...) when a
        fitted model predicts on held-out data whose labels are known: from
        ``train_test_split``, from ``score(X, y)`` or from a ``sklearn.metrics``
        call on the predictions, which is itself logged as ``test_<function>``.
        ``cross_validate`` and its kin log ``cv_<metric>_mean`` and ``_std``, and
        each fold's value as the history ``cv_<metric>_fold``.
    eval_names : mapping of str to array-like or None, default=None
        Names for held-out datasets: metrics on ``eval_names["valid"]`` are
        logged as ``valid_<metric>`` instead of ``test_<metric>``.
    log_plots : bool, default=True
        Render confusion matrix, ROC, precision-recall, calibration, residual,
        feature-importance and iteration plots under ``plots/``, off the calling
        thread; the run's end waits for them.
    log_dataset_files : bool, default=False
        Also store the training data as ``datasets/train.parquet`` (size-capped).
    log_code : bool, default=True
        Record the script's source, the git commit, branch, remote and dirty flag,
        the uncommitted diff and the untracked source files.
    log_tags : bool, default=True
        Record author, project, host and Python version tags, and business tags
        from ``MLTRAIL_TAGS`` and ``[tool.mltrail.tags]`` in ``pyproject.toml``.
    log_pipeline : bool, default=True
        Record ``pipeline.json``, ``estimator.html`` and the
        ``mlflow.mltrail.pipeline`` tag.
    log_iterations : bool, default=True
        Log loss and score curves of iterative estimators as metric histories.
    log_partial_fit : bool, default=True
        Log a ``partial_fit`` loop as one run with a step per call.

    Raises
    ------
    InvalidValueError
        If ``max_tuning_runs`` is negative, ``serialization_format`` is unknown,
        ``registered_model_name`` is not a non-empty str, or
        a business tag in ``MLTRAIL_TAGS`` or ``pyproject.toml`` is malformed.

    Examples
    --------
    >>> import mltrail
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> mltrail.sklearn.autolog()
    >>> X, y = load_iris(return_X_y=True)
    >>> model = LogisticRegression(max_iter=500).fit(X, y)
    >>> run = mltrail.last_active_run()
    >>> run.data.params["max_iter"], run.info.status
    ('500', 'FINISHED')
    >>> mltrail.sklearn.autolog(disable=True)
    """
    from mltrail import _worker

    if not disable:
        _check_settings(max_tuning_runs, registered_model_name, serialization_format)
        # Before everything else, the imports below included: the helper imports
        # skops while this process imports scikit-learn, and the end of the first
        # run waits for it.
        _worker.start(
            _worker.modules_needed(
                log_models=log_models,
                serialization_format=serialization_format,
                log_plots=log_plots,
            )
        )
    from mltrail.sklearn.patches import _patch
    from mltrail.sklearn.recorders import (
        _code,
        _heldout,
        _post_training,
        _preprocessing,
    )
    from mltrail.sklearn.session import _loops
    from mltrail.sklearn.shared import _state

    if disable:
        _state.settings = None
        _loops.end_partial_loops()
        _patch.unpatch_all()
        _heldout.reset()
        _post_training.reset()
        _preprocessing.reset()
        return
    _worker.prepare_store()  # the helper opens the store; this process never does
    if log_tags:
        _code.validate_config_tags()
    _heldout.configure(log_evaluation=log_evaluation, eval_names=eval_names)
    tags = dict(extra_tags or {})
    if AUTOLOGGING_TAG in tags:
        del tags[AUTOLOGGING_TAG]
        if not silent:
            import warnings

            warnings.warn(
                "extra_tags may not set the reserved tag "
                f"{AUTOLOGGING_TAG!r}; it was dropped. Choose another key.",
                MltrailWarning,
                stacklevel=2,
            )
    del disable_for_unsupported_versions  # no version of scikit-learn is unsupported
    _state.settings = _state.AutologSettings(
        log_models=log_models,
        log_input_examples=log_input_examples,
        log_model_signatures=log_model_signatures,
        log_datasets=log_datasets,
        max_tuning_runs=max_tuning_runs,
        log_post_training_metrics=log_post_training_metrics,
        serialization_format=serialization_format,
        registered_model_name=registered_model_name,
        pos_label=pos_label,
        extra_tags={str(k): str(v) for k, v in tags.items()},
        exclusive=exclusive,
        silent=silent,
        log_evaluation=log_evaluation,
        log_plots=log_plots,
        log_dataset_files=log_dataset_files,
        log_code=log_code,
        log_tags=log_tags,
        log_pipeline=log_pipeline,
        log_iterations=log_iterations,
        log_partial_fit=log_partial_fit,
    )
    _patch.patch_all()


def _check_settings(
    max_tuning_runs: Any, registered_model_name: Any, serialization_format: Any
) -> None:
    if max_tuning_runs is not None and (
        isinstance(max_tuning_runs, bool) or max_tuning_runs < 0
    ):
        raise InvalidValueError(
            "max_tuning_runs",
            max_tuning_runs,
            "None or an int >= 0",
            "Use None to log every candidate of a search.",
        )
    if registered_model_name is not None and (
        not isinstance(registered_model_name, str) or not registered_model_name
    ):
        raise InvalidValueError(
            "registered_model_name",
            registered_model_name,
            "None or a non-empty str",
            "Pass the name of the registered model, such as 'wine-quality'.",
        )
    if serialization_format not in _FORMATS:
        raise InvalidValueError(
            "serialization_format",
            serialization_format,
            f"one of {', '.join(map(repr, _FORMATS))}",
            "Use 'skops' (the default): it loads without running code.",
        )
