"""Standalone transformers: the preprocessing a model's input went through.

A top-level fit of a transformer (scaling, imputation, feature extraction and
selection, decomposition: anything with ``transform`` and no ``predict``) never takes
a run's model slot. With no active run it starts none: it waits for the model that
its output trains. Inside a run of the user's it is recorded there at once, and the
model that follows still gets that run.

Its outputs (``fit_transform``, ``transform``) are remembered by weak reference as
derived datasets (``_splits.derive``): ``scaler.transform(X_test)`` is recognised as
the test set, with its labels, and a model fitted on ``scaler.transform(X_train)``
records the chain of transformers in its run: params as ``<step>__<param>`` (the
names ``make_pipeline`` would give), the tag ``mlflow.mltrail.preprocessing``
(``StandardScaler → PCA``), ``preprocessing.json`` and each fitted transformer as a
model under ``preprocessing/<step>/``.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mltrail._system_tags import PREPROCESSING_TAG

if TYPE_CHECKING:
    from mltrail.sklearn.shared._events import (
        FitEnded,
        LoopEnded,
        Transformed,
        TransformerFitted,
    )
    from mltrail.sklearn.shared._state import AutologSettings

__all__ = [
    "PREPROCESSING_ARTIFACT",
    "fitted_step",
    "fitted_transformers",
    "is_standalone_transformer",
    "on_fit_ended",
    "on_loop_ended",
    "on_model_fit",
    "on_transformed",
    "on_transformer_fitted",
    "partial_fit_step",
    "record_chain",
    "remember_fit",
    "reset",
]

PREPROCESSING_ARTIFACT = "preprocessing.json"
PREPROCESSING_DIRECTORY = "preprocessing"
STEP_HISTORY = 256
RUN_HISTORY = 1024


@dataclass(slots=True)
class Step:
    """One top-level fit of a standalone transformer."""

    serial: int
    ref: Any
    estimator_name: str
    estimator_class: str
    params: dict[str, str]
    fitted_on: str | None
    summary: str
    structure: dict[str, object]
    example: Any
    duration: float | None
    # run id -> this step's name in that run
    runs: dict[str, str] = field(default_factory=dict)


_lock = threading.RLock()
_serials = itertools.count(1)
# id(transformer) -> its latest fit; serial -> fit (bounded, outlives the object).
# The patched ``transform`` looks here first: an empty dict costs it nothing.
_by_object: dict[int, Step] = {}
fitted_transformers = _by_object
_by_serial: OrderedDict[int, Step] = OrderedDict()
# run id -> the entries of its preprocessing.json, in the order recorded
_run_entries: OrderedDict[str, list[dict[str, object]]] = OrderedDict()


def reset() -> None:
    """Forget every transformer fit and what was recorded where (for ``disable``)."""
    with _lock:
        _by_object.clear()
        _by_serial.clear()
        _run_entries.clear()


def is_standalone_transformer(estimator: Any) -> bool:
    """Whether a fit of ``estimator`` is preprocessing rather than a model.

    It transforms and neither predicts nor is a classifier, regressor, clusterer,
    outlier detector or search: ``StandardScaler``, ``SimpleImputer``,
    ``TfidfVectorizer``, ``SelectKBest``, ``PCA``, a ``Pipeline`` of those.
    """
    from sklearn.base import (
        is_classifier,
        is_clusterer,
        is_outlier_detector,
        is_regressor,
    )

    from mltrail.sklearn.shared import _search

    if not hasattr(estimator, "transform") or hasattr(estimator, "predict"):
        return False
    if is_classifier(estimator) or is_regressor(estimator):
        return False
    if is_clusterer(estimator) or is_outlier_detector(estimator):
        return False
    return not _search.is_search(estimator)


def remember_fit(
    function: Callable[..., Any],
    estimator: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    result: Any,
    duration: float,
) -> Step:
    """Remember a transformer's finished top-level fit, and its output if any."""
    from mltrail.sklearn.shared import _fit, _splits

    X = _fit.fit_arguments(function, args, kwargs)[0]
    source = _recognise(X)
    step = _remember(estimator, X, source, duration)
    if result is not estimator and X is not None:
        _splits.derive(result, source, step.serial)  # fit_transform's output
    return step


def on_transformer_fitted(event: TransformerFitted) -> None:
    """Record a transformer fitted inside a user's run in that run, at once."""
    _record(event.run_id, event.step, event.config)


def _recognise(X: Any) -> Any:
    """Look X up among splits, named and derived datasets; hash it only if it fits."""
    from mltrail.sklearn.shared import _fit, _splits

    if X is None:
        return None
    try:
        n_rows = _fit.n_rows(X)
    except TypeError:
        return None
    return _splits.recognise(X, n_rows=n_rows)


def _remember(estimator: Any, X: Any, source: Any, duration: float | None) -> Step:
    from mltrail.capture._pipeline import pipeline_structure, pipeline_summary
    from mltrail.sklearn.shared import _fit

    cls = type(estimator)
    key = id(estimator)

    def forget(ref: Any) -> None:
        with _lock:
            step = _by_object.get(key)
            if step is not None and step.ref is ref:
                del _by_object[key]

    fitted_on = None
    if source is not None:
        fitted_on = source.part or source.name
    step = Step(
        serial=next(_serials),
        ref=weakref.ref(estimator, forget),
        estimator_name=cls.__name__,
        estimator_class=f"{cls.__module__}.{cls.__qualname__}",
        params=_fit.estimator_params(estimator),
        fitted_on=fitted_on,
        summary=pipeline_summary(estimator),
        structure=pipeline_structure(estimator),
        example=None if X is None else copy.deepcopy(_fit.head(X)),
        duration=duration,
    )
    with _lock:
        _by_object[key] = step
        _by_serial[step.serial] = step
        while len(_by_serial) > STEP_HISTORY:
            _by_serial.popitem(last=False)
    return step


def fitted_step(transformer: Any) -> Step | None:
    """Return the remembered top-level fit of this very transformer, if any."""
    step = _by_object.get(id(transformer))
    return None if step is None or step.ref() is not transformer else step


def on_transformed(event: Transformed) -> None:
    """Remember a remembered transformer's output as a dataset derived from X."""
    _on_transform(event.step, event.X, event.output)


def _on_transform(step: Step, X: Any, output: Any) -> None:
    from mltrail.sklearn.shared import _splits, _state

    if X is None or output is X:
        return
    with _state.quiet():
        source = _recognise(X)
    _splits.derive(output, source, step.serial)


def on_fit_ended(event: FitEnded) -> None:
    """Record in the fit's run the transformers that its X went through, if any."""
    on_model_fit(event.run_id, event.X, event.config)


def on_loop_ended(event: LoopEnded) -> None:
    """Record in a loop's run the transformers that its batches went through."""
    if event.has_record:
        loop = event.loop
        record_chain(loop.run_id, loop.chain, loop.config)


def on_model_fit(run_id: str, X: Any, config: AutologSettings) -> None:
    """Record in ``run_id`` the transformers that the model's X went through."""
    from mltrail.sklearn.shared import _splits

    if X is None:
        return
    found = _splits.derived_of(X)
    if found is not None:
        record_chain(run_id, found.chain, config)


def record_chain(run_id: str, chain: tuple[int, ...], config: AutologSettings) -> None:
    """Record in ``run_id`` the transformers ``chain`` names, those not there yet."""
    for serial in chain:
        with _lock:
            step = _by_serial.get(serial)
        if step is not None and run_id not in step.runs:
            _record(run_id, step, config)


def partial_fit_step(
    config: AutologSettings, function: Callable[..., Any]
) -> Callable[..., Any]:
    """Return a transformer's ``partial_fit`` that remembers it on its first call.

    A transformer updated batch by batch is the preprocessing of a loop, not a
    loop of its own: the loop records it, as it is when the loop ends.
    """
    from mltrail.sklearn.shared import _fit, _state

    def partial_fit(estimator: Any, *args: Any, **kwargs: Any) -> Any:
        result = function(estimator, *args, **kwargs)
        try:
            with _lock:
                step = _by_object.get(id(estimator))
            if step is None or step.ref() is not estimator:
                X = _fit.fit_arguments(function, args, kwargs)[0]
                _remember(estimator, X, _recognise(X), None)
        except Exception as exc:  # autolog must never break the user's call
            _state.warn_problems(
                [f"preprocessing: {type(exc).__name__}: {exc}"], config
            )
        return result

    return partial_fit


def _step_name(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in itertools.count(2) if f"{base}-{n}" not in taken)


def _record(run_id: str, step: Step, config: AutologSettings) -> None:
    """Write one transformer's params, tag, entry and fitted object to a run."""
    from mltrail._entities import RunTag
    from mltrail.sklearn.shared import _background, _runs

    with _lock:
        entries = _run_entries.setdefault(run_id, [])
        _run_entries.move_to_end(run_id)
        while len(_run_entries) > RUN_HISTORY:
            _run_entries.popitem(last=False)
        name = _step_name(
            step.estimator_name.lower(), {str(entry["name"]) for entry in entries}
        )
        step.runs[run_id] = name
        entries.append(
            {
                "name": name,
                "estimator_class": step.estimator_class,
                "params": step.params,
                "fitted_on": step.fitted_on,
                "fit_duration_seconds": step.duration,
                "summary": step.summary,
                "structure": step.structure,
            }
        )
        summary = " → ".join(str(entry["summary"]) for entry in entries)
        text = json.dumps(entries, indent=2, allow_nan=False, default=str)
    client = _background.client_of(run_id)
    client.log_batch(
        run_id,
        params=_runs.params_that_fit(
            run_id, {f"{name}__{key}": value for key, value in step.params.items()}
        ),
        tags=[RunTag(PREPROCESSING_TAG, summary)],
    )
    transformer = step.ref()
    model = None
    if config.log_models and transformer is not None:
        from mltrail.sklearn.shared import _snapshot

        model = _snapshot.snapshot(transformer)
    example = step.example

    def files() -> list[tuple[str, bytes]]:
        if model is not None:
            from mltrail.sklearn.shared import _model

            _model.log_model(
                run_id,
                config,
                model,
                example,
                artifact_path=f"{PREPROCESSING_DIRECTORY}/{name}",
            )
        return [(PREPROCESSING_ARTIFACT, text.encode("utf-8"))]

    _background.submit(run_id, files, name="preprocessing", reads=transformer)
