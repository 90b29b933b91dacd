from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mltrail.models import infer_signature
from mltrail.sklearn.shared._model import _output_for_signature

X, Y = load_iris(return_X_y=True, as_frame=True)
LABELS = {
    "int": Y.to_numpy(),
    "str": np.array(["setosa", "versicolor", "virginica"])[Y],
    "bool": Y.to_numpy() == 1,
    "float": Y.to_numpy().astype(np.float64),
}


@pytest.mark.parametrize("labels", list(LABELS), ids=list(LABELS))
@pytest.mark.parametrize(
    "make",
    [
        lambda: RandomForestClassifier(n_estimators=3, random_state=0),
        lambda: make_pipeline(StandardScaler(), LogisticRegression()),
        lambda: KNeighborsClassifier(),
    ],
    ids=["forest", "pipeline", "neighbors"],
)
def test_classifier_output_signature_equals_the_predicted_one(
    make: Any, labels: str
) -> None:
    model = make().fit(X, LABELS[labels])
    example = X.head(5)

    derived = infer_signature(example, _output_for_signature(model, example))
    predicted = infer_signature(example, model.predict(example))

    assert derived.to_dict() == predicted.to_dict()


def test_regressor_output_comes_from_predict() -> None:
    model = LinearRegression().fit(X, Y)

    output = _output_for_signature(model, X.head(3))

    np.testing.assert_array_equal(output, model.predict(X.head(3)))


def test_transformer_output_comes_from_transform() -> None:
    model = StandardScaler().fit(X)

    output = _output_for_signature(model, X.head(3))

    np.testing.assert_array_equal(output, model.transform(X.head(3)))
