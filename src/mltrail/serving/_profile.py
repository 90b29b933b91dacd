"""Inference validation: compare a request with the training data's profile.

Autolog records a profile of the training set on the run (per column: missing
values, range, category levels). ``TrainingProfile.check`` reports what a request
has that training never had: missing values where training had none, numbers out
of the training range, unseen category levels. The checks work on numpy arrays of
each column, so a one-row request costs microseconds.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mltrail._system_tags import DATASET_CONTEXT_TAG

if TYPE_CHECKING:
    from mltrail._entities import Run

__all__ = ["Finding", "TrainingProfile", "profile_of_inputs", "profile_of_run"]

MISSING = "missing_values"
OUT_OF_RANGE = "out_of_range"
UNSEEN = "unseen_levels"
KINDS = (MISSING, OUT_OF_RANGE, UNSEEN)
MAX_EXAMPLES = 3


@dataclass(frozen=True, slots=True)
class Finding:
    """One column of a request that training never saw the like of."""

    column: str
    kind: str
    count: int
    message: str

    def to_dict(self) -> dict[str, object]:
        """Return the finding as the ``warnings`` entries of a response."""
        return {
            "column": self.column,
            "kind": self.kind,
            "count": self.count,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class _Column:
    name: str
    had_missing: bool
    low: float | None
    high: float | None
    levels: frozenset[Any] | None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _column(entry: Mapping[str, Any]) -> _Column:
    levels = entry.get("levels")
    complete = isinstance(levels, list) and entry.get("n_levels") == len(levels)
    return _Column(
        name=str(entry.get("name")),
        had_missing=bool(entry.get("null_count")),
        low=_number(entry.get("min")),
        high=_number(entry.get("max")),
        levels=frozenset(levels) if complete and levels is not None else None,
    )


class TrainingProfile:
    """The training set's per-column profile, ready to check requests against.

    Parameters
    ----------
    columns : sequence of mapping
        The ``columns`` entries of a dataset profile, as autolog records them.
    dataset : str, default="train"
        The name of the profiled dataset, for messages.
    """

    def __init__(
        self, columns: Sequence[Mapping[str, Any]], dataset: str = "train"
    ) -> None:
        self.dataset = dataset
        self.columns = {c.name: c for c in (_column(entry) for entry in columns)}

    def check(self, data: Any) -> list[Finding]:
        """Return the findings of one request's input (a DataFrame or an array)."""
        import numpy as np
        import pandas as pd

        findings: list[Finding] = []
        items: list[tuple[str, Any]]
        if isinstance(data, pd.DataFrame):
            items = [(str(name), data[name]) for name in data.columns]
        elif isinstance(data, np.ndarray) and data.ndim in (1, 2):
            matrix = data.reshape(-1, 1) if data.ndim == 1 else data
            items = [(str(i), matrix[:, i]) for i in range(matrix.shape[1])]
        else:
            return findings
        for name, values in items:
            column = self.columns.get(name)
            if column is not None:
                self._check_column(column, values, findings)
        return findings

    def _check_column(
        self, column: _Column, values: Any, findings: list[Finding]
    ) -> None:
        import numpy as np
        import pandas as pd

        array = values.to_numpy() if isinstance(values, pd.Series) else values
        missing = pd.isna(array)
        missing_count = int(missing.sum())
        if missing_count and not column.had_missing:
            findings.append(
                Finding(
                    column.name,
                    MISSING,
                    missing_count,
                    f"{missing_count} missing value(s) in {column.name!r}; the "
                    f"{self.dataset} data had none.",
                )
            )
        present = array[~missing] if missing_count else array
        if not len(present):
            return
        if column.levels is not None and array.dtype.kind in "OUSb":
            unseen = [v for v in present.tolist() if v not in column.levels]
            if unseen:
                examples = sorted({str(v) for v in unseen})[:MAX_EXAMPLES]
                findings.append(
                    Finding(
                        column.name,
                        UNSEEN,
                        len(unseen),
                        f"{len(unseen)} value(s) of {column.name!r} never seen in the "
                        f"{self.dataset} data, such as {examples}.",
                    )
                )
            return
        if array.dtype.kind not in "iuf" or (
            column.low is None and column.high is None
        ):
            return
        numbers = present.astype(np.float64, copy=False)
        low = column.low if column.low is not None else -np.inf
        high = column.high if column.high is not None else np.inf
        outside = numbers[(numbers < low) | (numbers > high)]
        if len(outside):
            findings.append(
                Finding(
                    column.name,
                    OUT_OF_RANGE,
                    len(outside),
                    f"{len(outside)} value(s) of {column.name!r} outside the "
                    f"{self.dataset} range [{column.low:g}, {column.high:g}], such "
                    f"as {float(outside[0]):g}."
                    if column.low is not None and column.high is not None
                    else f"{len(outside)} value(s) of {column.name!r} outside the "
                    f"{self.dataset} range.",
                )
            )


def profile_of_run(run: Run) -> TrainingProfile | None:
    """Return the profile of a run's training dataset, or None if it has none."""
    return profile_of_inputs(
        (
            item.dataset.name,
            item.dataset.profile,
            {tag.value for tag in item.tags if tag.key == DATASET_CONTEXT_TAG},
        )
        for item in run.inputs.dataset_inputs
    )


def profile_of_inputs(
    inputs: Iterable[tuple[str, str | None, Collection[str]]],
) -> TrainingProfile | None:
    """Return the profile of the training dataset among a run's inputs.

    Parameters
    ----------
    inputs : iterable of (str, str or None, collection of str)
        Each dataset input's name, profile JSON and contexts, in the run's order.

    Returns
    -------
    TrainingProfile or None
        The first training dataset's profile; None if there is none.
    """
    for name, text, contexts in inputs:
        if "train" not in contexts or not text:
            continue
        try:
            profile = json.loads(text)
        except ValueError:
            return None
        columns = profile.get("columns") if isinstance(profile, Mapping) else None
        if isinstance(columns, list) and columns:
            return TrainingProfile([c for c in columns if isinstance(c, Mapping)], name)
    return None
