"""The typed events the session hands to the recorders.

The patches report what the user's code did; the session decides which run it
belongs to and dispatches an event to the recorders registered for its type
(``session/_registry.py``), in the order registered. A recorder is a function
that takes the event and returns the problems it met (one line each), or None;
one that raises costs one line of the user's warning and nothing else.

Most events are frozen. ``FitEnded`` is the one record that its recorders fill
in turn: training metrics and predictions first, then the one batch of params,
metrics and tags, then what reads them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any

from mltrail._system_tags import AUTOLOGGING_TAG

if TYPE_CHECKING:
    from mltrail.sklearn.shared._fit_outputs import FitOutputs
    from mltrail.sklearn.shared._state import AutologSettings

__all__ = [
    "CrossValidated",
    "EstimatorUsed",
    "FitCall",
    "FitEnded",
    "LoopEnded",
    "MetricComputed",
    "PartialFitLoop",
    "PartialFitStep",
    "Predicted",
    "RunStarted",
    "Scored",
    "SplitMade",
    "Transformed",
    "TransformerFitted",
]


@dataclass(frozen=True, slots=True)
class RunStarted:
    """Autolog is about to write to ``run_id``: its own new run, or a user's."""

    run_id: str
    config: AutologSettings


@dataclass(frozen=True, slots=True)
class FitCall:
    """The arguments and outcome of one fit call."""

    function: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    result: Any
    duration: float
    # What the fit left of its own predictions on X (see _fit_outputs), if watched.
    outputs: FitOutputs | None = None


class FitEnded:
    """A top-level fit ended well; what its run gets, filled in by the recorders.

    ``problems`` is the session's list: a failing recorder adds one line to it.
    """

    __slots__ = (
        "X",
        "call",
        "config",
        "estimator",
        "is_search",
        "metrics",
        "model",
        "params",
        "predictions",
        "problems",
        "run_id",
        "sample_weight",
        "tags",
        "y",
    )

    def __init__(
        self,
        run_id: str,
        config: AutologSettings,
        estimator: Any,
        call: FitCall,
        params: dict[str, str],
        problems: list[str],
    ) -> None:
        from mltrail.sklearn.shared import _fit, _model, _search, _state

        self.run_id = run_id
        self.config = config
        self.estimator = estimator
        self.call = call
        self.problems = problems
        self.X, self.y, self.sample_weight = _fit.fit_arguments(
            call.function, call.args, call.kwargs
        )
        self.params = dict(params)
        self.metrics: dict[str, float] = {_state.DURATION_METRIC: call.duration}
        self.tags = {
            AUTOLOGGING_TAG: "sklearn",
            **_fit.estimator_tags(estimator),
            **_model.version_tags(),
        }
        # Training predictions, made once by the training metrics: y_pred, y_score.
        self.predictions: dict[str, Any] = {}
        self.is_search = _search.is_search(estimator)
        self.model = (
            getattr(estimator, "best_estimator_", None) if self.is_search else estimator
        )


@dataclass(frozen=True, slots=True)
class EstimatorUsed:
    """A run holds an estimator it did not fit (``cross_validate`` and its kin)."""

    run_id: str
    config: AutologSettings
    estimator: Any
    params: dict[str, str]
    X: Any
    y: Any
    tags: dict[str, str]


@dataclass(frozen=True, slots=True)
class CrossValidated:
    """``cross_validate``, ``cross_val_score`` or ``cross_val_predict`` returned."""

    name: str
    arguments: dict[str, Any]
    result: Any
    # What the cross_validate inside a cross_val_score returned, if anything.
    captured: list[Any]
    run_id: str


@dataclass(frozen=True, slots=True)
class TransformerFitted:
    """A standalone transformer's top-level fit ended inside a user's run."""

    run_id: str
    config: AutologSettings
    # What the preprocessing recorder remembered of the fit (``_preprocessing.Step``).
    step: Any


@dataclass(slots=True)
class PartialFitLoop:
    """One ``partial_fit`` loop: its estimator, run and progress.

    The session owns it; the ``partial_fit`` recorder counts its steps and keeps
    what the loop's end logs of its data.
    """

    estimator: Any
    run_id: str
    is_owned: bool
    config: Any
    step: int = 0
    example: Any = None
    # The training data: the first batch's description, every batch's digest.
    description: Any = None
    digest: Any = field(default_factory=lambda: hashlib.sha1(usedforsecurity=False))
    n_rows: int = 0
    chain: tuple[int, ...] = ()
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PartialFitStep:
    """One top-level ``partial_fit`` call of a loop returned."""

    loop: PartialFitLoop
    function: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LoopEnded:
    """A ``partial_fit`` loop ended; ``is_complete`` is False if its last call raised.

    Only a complete loop of at least one call gets its record (data, pipeline,
    plots, preprocessing, model); every loop gets its number of calls.
    """

    loop: PartialFitLoop
    is_complete: bool

    @property
    def has_record(self) -> bool:
        """Whether the loop's record is to be logged."""
        return self.is_complete and self.loop.step > 0


@dataclass(frozen=True, slots=True)
class Predicted:
    """A logged model's prediction method returned ``output`` for X alone.

    ``extra`` holds the outputs of other methods the call computed on the same X;
    ``frame`` is the caller's frame (MLflow's dataset names come from it).
    """

    estimator: Any
    method: str
    X: Any
    output: Any
    extra: dict[str, Any]
    frame: FrameType | None


@dataclass(frozen=True, slots=True)
class Scored:
    """A logged model's ``score`` returned ``result``; the call as it was made."""

    estimator: Any
    X: Any
    y: Any
    result: Any
    extra: dict[str, Any]
    function: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    frame: FrameType | None


@dataclass(frozen=True, slots=True)
class MetricComputed:
    """``sklearn.metrics.<name>(*args, **kwargs)`` returned ``result``."""

    name: str
    function: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    result: Any
    frame: FrameType | None


@dataclass(frozen=True, slots=True)
class SplitMade:
    """``train_test_split(*arrays, **options)`` returned ``result``."""

    arrays: tuple[Any, ...]
    options: dict[str, Any]
    result: Any


@dataclass(frozen=True, slots=True)
class Transformed:
    """A remembered transformer's ``transform`` turned X into ``output``."""

    # What the preprocessing recorder remembered of its fit (``_preprocessing.Step``).
    step: Any
    X: Any
    output: Any
