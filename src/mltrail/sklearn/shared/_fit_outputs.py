"""Training predictions that a fit computed anyway, so that metrics need no new pass.

scikit-learn's ``HistGradientBoostingRegressor`` and ``...Classifier`` keep the raw
predictions of every training row up to date while they fit (they need them for the
gradients), and hand them to ``_check_early_stopping_loss`` after each iteration,
with those of the validation rows they split off. Predicting the training set again
for the training metrics is the largest cost of tracking a large fit (about a third
of the plain script at a million rows), so ``watch`` listens to that call on the
fitted instance, and ``predictions`` turns the last raw values into what
``predict``/``predict_proba`` return, through the model's own ``predict`` code
(``_raw_predict`` answers with them for the length of two calls).

Nothing here trusts scikit-learn's internals blindly: the result is compared, value
for value, with a real ``predict`` (and ``predict_proba``) on ``VERIFY_ROWS`` rows
spread over the data, and any difference, missing piece or error means None, and the
caller predicts the whole set as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from mltrail.sklearn.shared import _fit

__all__ = ["VERIFY_ROWS", "FitOutputs", "Watch", "watch"]

VERIFY_ROWS = 1_000
_HOOK = "_check_early_stopping_loss"
_logger = logging.getLogger(__name__)


class FitOutputs:
    """The raw training predictions that one ``fit`` of a watched model left."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.raw_train: Any = None
        self.raw_val: Any = None

    def listen(self, original: Callable[..., Any]) -> Callable[..., Any]:
        """Return the hook that keeps the arrays ``original`` is called with."""

        def hook(*args: Any, **kwargs: Any) -> Any:
            self.raw_train = kwargs.get("raw_predictions")
            self.raw_val = kwargs.get("raw_predictions_val")
            return original(*args, **kwargs)

        return hook

    def predictions(self, estimator: Any, X: Any, y: Any) -> dict[str, Any] | None:
        """Return ``{"y_pred": ..., "y_score": ...}`` of estimator on X, or None.

        ``estimator`` is the watched model or the pipeline it ends; X and y are
        what that was fitted on. ``y_score`` (``predict_proba``) is there for
        classifiers only.
        """
        try:
            return self._predictions(estimator, X, y)
        except Exception as exc:  # any surprise: the caller predicts as before
            _logger.debug("mltrail predicts the training set again: %s", exc)
            return None

    def _predictions(self, estimator: Any, X: Any, y: Any) -> dict[str, Any] | None:
        import numpy as np
        from sklearn.base import is_classifier

        n = _fit.n_rows(X)
        raw = self._raw_in_row_order(n, y)
        if raw is None:
            return None
        classifier = is_classifier(self.model)
        self.model.__dict__["_raw_predict"] = lambda *args, **kwargs: raw
        try:
            found = {"y_pred": estimator.predict(X)}
            if classifier:
                found["y_score"] = estimator.predict_proba(X)
        finally:
            del self.model.__dict__["_raw_predict"]
        rows = np.linspace(0, n - 1, min(n, VERIFY_ROWS)).astype(np.intp)
        sample = _fit.take_rows(X, rows)
        expected = {"y_pred": estimator.predict(sample)}
        if classifier:
            expected["y_score"] = estimator.predict_proba(sample)
        for key, values in expected.items():
            if not np.array_equal(found[key][rows], values):
                _logger.debug("mltrail's fit outputs differ from predict: %s", key)
                return None
        return found

    def _raw_in_row_order(self, n: int, y: Any) -> Any:
        """Return the raw predictions of all n rows, in X's order, or None."""
        import numpy as np
        from sklearn.base import is_classifier
        from sklearn.model_selection import train_test_split

        train, val = self.raw_train, self.raw_val
        if train is None or getattr(train, "ndim", 0) != 2:
            return None
        if train.shape[0] == n:  # no rows held out (or a validation set given)
            return train
        if val is None or train.shape[0] + val.shape[0] != n:
            return None
        model = self.model
        # The split fit made: the same call on row numbers gives the same rows.
        train_rows, val_rows = train_test_split(
            np.arange(n),
            test_size=model.validation_fraction,
            stratify=y if is_classifier(model) else None,
            random_state=model._random_seed,
        )
        raw = np.empty((n, train.shape[1]), dtype=train.dtype, order="F")
        raw[train_rows] = train
        raw[val_rows] = val
        return raw


class Watch:
    """A hook on one model instance for the length of one fit."""

    def __init__(self, model: Any) -> None:
        self.outputs = FitOutputs(model)
        self.model = model
        setattr(model, _HOOK, self.outputs.listen(getattr(model, _HOOK)))

    def release(self) -> None:
        """Remove the hook: the fitted model is exactly as scikit-learn left it."""
        self.model.__dict__.pop(_HOOK, None)


def watch(estimator: Any, X: Any) -> Watch | None:
    """Watch the fit of ``estimator`` (or of its final step) if its outputs serve.

    Only scikit-learn's histogram gradient boosting, fitted on more rows than a
    verification predicts, is watched; anything else returns None.
    """
    if X is None or _fit.n_rows(X) <= VERIFY_ROWS:
        return None
    model = getattr(estimator, "_final_estimator", estimator)
    if not type(model).__module__.startswith("sklearn.ensemble._hist_gradient"):
        return None
    from sklearn.ensemble._hist_gradient_boosting.gradient_boosting import (
        BaseHistGradientBoosting,
    )

    if not isinstance(model, BaseHistGradientBoosting) or _HOOK in vars(model):
        return None
    return Watch(model)
