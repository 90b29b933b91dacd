"""Tests of split recognition: labels, lineage and leakage of recorded splits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split

from mltrail.sklearn.recorders import _heldout
from mltrail.sklearn.shared import _splits
from tests.sklearn._wiring import wire


@pytest.fixture
def heldout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from wire(monkeypatch)


@pytest.fixture
def wine() -> Any:
    return load_wine(return_X_y=True, as_frame=True)


def test_on_split_records_labels_of_the_test_rows(
    heldout: None, wine: tuple[Any, Any]
) -> None:
    X, y = wine
    parts = train_test_split(X, y, random_state=0)
    _heldout.on_split((X, y), {"random_state": 0, "test_size": 0.3}, parts)
    found = _splits.recorded_labels(parts[1])
    assert found is not None
    labels, lineage = found
    assert labels.tolist() == parts[3].tolist()
    assert lineage.random_state == 0
    assert lineage.test_size == 0.3


def test_on_split_ignores_arrays_without_rows_of_features(heldout: None) -> None:
    y = np.arange(20) % 2
    parts = train_test_split(y, random_state=0)
    assert _splits.recorded_labels(parts[1].reshape(-1, 1)) is None


def test_on_split_takes_the_first_1d_array_after_the_features_as_labels(
    heldout: None, wine: tuple[Any, Any]
) -> None:
    X, y = wine
    parts = train_test_split(X.to_numpy(), X.to_numpy() * 2, y, random_state=1)
    found = _splits.recorded_labels(parts[3])
    assert found is not None
    assert found[0].tolist() == parts[5].tolist()


def test_split_of_finds_the_part_and_counts_shared_rows(
    heldout: None, wine: tuple[Any, Any]
) -> None:
    X, y = wine
    doubled = pd.concat([X, X.iloc[:20]], ignore_index=True)
    labels = pd.concat([y, y.iloc[:20]], ignore_index=True)
    X_train, X_test, _, _ = train_test_split(doubled, labels, random_state=0)
    train = _splits.split_of(X_train.copy())
    test = _splits.split_of(X_test.to_numpy())
    assert train is not None
    assert test is not None
    assert (train.part, test.part) == ("train", "test")
    expected = int(X_test.apply(tuple, axis=1).isin(X_train.apply(tuple, axis=1)).sum())
    assert train.shared_rows == expected > 0
    assert _splits.split_of(X.iloc[:5]) is None


def test_split_of_without_splits_is_none(heldout: None, wine: tuple[Any, Any]) -> None:
    assert _splits.split_of(wine[0]) is None


def test_recorded_labels_of_unhashable_data_is_none(heldout: None) -> None:
    assert _splits.recorded_labels(object()) is None


def test_parts_a_split_returned_are_recognised_without_hashing_them_again(
    heldout: None, wine: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mltrail.capture import _datasets

    X, y = wine
    X_train, X_test, _, y_test = train_test_split(X, y, random_state=0)
    hashed: list[int] = []
    row_hashes = _datasets.row_hashes

    def counting(data: Any) -> Any:
        hashed.append(len(data))
        return row_hashes(data)

    monkeypatch.setattr(_datasets, "row_hashes", counting)
    train = _splits.split_of(X_train)
    test = _splits.recognise(X_test)
    assert hashed == []
    assert train is not None
    assert test is not None
    assert (train.part, test.part) == ("train", "test")
    assert test.labels.tolist() == y_test.tolist()
    subset = _splits.recognise(X_test.iloc[:10])
    assert hashed == [10]
    assert subset is not None
    assert subset.part is None
    assert subset.labels.tolist() == y_test.iloc[:10].tolist()


def test_a_part_that_is_gone_is_forgotten(heldout: None) -> None:
    X = np.arange(40.0).reshape(20, 2)
    parts = train_test_split(X, np.arange(20) % 2, random_state=0)
    assert len(_splits._parts) == 2
    del parts
    assert len(_splits._parts) == 0
