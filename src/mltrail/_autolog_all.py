"""``mltrail.autolog``: MLflow's one switch for every integration, for scikit-learn.

mltrail's one integration is scikit-learn's API, which XGBoost's and LightGBM's
estimators share; ``mltrail.sklearn.autolog`` is the full form, with every option.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["autolog"]


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    log_traces: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    extra_tags: Mapping[str, str] | None = None,
    exclude_flavors: Iterable[str] | None = None,
) -> None:
    """Autolog scikit-learn's API, as MLflow's ``mlflow.autolog()`` call does.

    Parameters
    ----------
    log_input_examples : bool, default=False
        Save a few training rows with the model (MLflow's default here is off).
    log_model_signatures : bool, default=True
        Save the model's signature.
    log_models : bool, default=True
        Save the fitted model.
    log_datasets : bool, default=True
        Record the training and evaluation datasets as run inputs.
    log_traces : bool, default=True
        Accepted for MLflow; mltrail has no GenAI traces.
    disable : bool, default=False
        Turn autologging off.
    exclusive : bool, default=False
        Log into runs that autolog creates only, never into the user's run.
    disable_for_unsupported_versions : bool, default=False
        Accepted for MLflow; every installed scikit-learn version is supported.
    silent : bool, default=False
        Keep autolog's own warnings quiet.
    extra_tags : mapping of str to str or None, default=None
        Tags for every run autolog creates.
    exclude_flavors : iterable of str or None, default=None
        Integrations to leave alone; naming ``"sklearn"`` leaves everything off.

    Examples
    --------
    >>> import mltrail
    >>> from sklearn.linear_model import LinearRegression
    >>> mltrail.autolog()
    >>> with mltrail.start_run() as run:
    ...     _ = LinearRegression().fit([[0.0], [1.0], [2.0]], [0.0, 1.0, 2.0])
    >>> mltrail.autolog(disable=True)
    >>> mltrail.get_run(run.info.run_id).data.params["fit_intercept"]
    'True'
    """
    del log_traces, disable_for_unsupported_versions
    from mltrail import sklearn

    if "sklearn" in set(exclude_flavors or ()):
        return
    sklearn.autolog(
        log_input_examples=log_input_examples,
        log_model_signatures=log_model_signatures,
        log_models=log_models,
        log_datasets=log_datasets,
        disable=disable,
        exclusive=exclusive,
        silent=silent,
        extra_tags=extra_tags,
    )
