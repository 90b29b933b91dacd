"""Requests for models trained on narrow or typed columns, taken as MLflow takes them.

JSON and CSV carry numbers without a width and dates as text. A model trained on
int32, float32 and datetime columns, or on an array with missing values, must take
the requests MLflow's server takes (exact values, ISO dates, ``null``), and still
refuse what a column cannot hold. Found by scoring the same models with both
servers side by side.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

from mltrail.models import ColSpec, Model, Schema, infer_signature
from mltrail.models._enforce import enforce_schema
from mltrail.models._loading import PyFuncModel
from mltrail.serving._batch import predict_file
from mltrail.serving._model import ServedModel
from mltrail.serving._parsing import ScoringError, parse_request
from tests.serving.conftest import scoring_client

JSON = "application/json"


def _day_of_year(frame: pd.DataFrame) -> Any:
    return frame.iloc[:, 0].dt.day_of_year.to_numpy().reshape(-1, 1)


def _typed_frame(rows: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "count": rng.integers(0, 50, rows).astype("int32"),
            "ratio": rng.random(rows).astype("float32"),
            "when": pd.to_datetime("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 365, rows), unit="D"),
            "city": rng.choice(["paris", "lyon"], rows),
        }
    )
    y = ((X["count"] > 25) ^ (X["city"] == "lyon")).astype(int).to_numpy()
    return X, y


@pytest.fixture(scope="module")
def typed() -> tuple[ServedModel, Any, pd.DataFrame]:
    X, y = _typed_frame(200)
    estimator = make_pipeline(
        ColumnTransformer(
            [
                ("numbers", "passthrough", ["count", "ratio"]),
                ("day", FunctionTransformer(_day_of_year), ["when"]),
                ("words", OneHotEncoder(handle_unknown="ignore"), ["city"]),
            ]
        ),
        LogisticRegression(max_iter=1000),
    ).fit(X, y)
    signature = infer_signature(X)
    assert signature.inputs is not None
    types = {spec.name: getattr(spec, "type", None) for spec in signature.inputs.inputs}
    assert types == {
        "count": "integer",
        "ratio": "float",
        "when": "datetime",
        "city": "string",
    }
    model = PyFuncModel(estimator, Model(signature=signature))
    served = ServedModel("typed", model, signature.inputs, None, None)
    return served, estimator, X


def _row(**values: Any) -> dict[str, Any]:
    row = {"count": 7, "ratio": 0.5, "when": "2024-03-01", "city": "paris"}
    row.update(values)
    return row


def _as_trained(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as a frame of the training dtypes, for the estimator's own predict."""
    return pd.DataFrame(rows).astype(
        {"count": "int32", "ratio": "float32", "when": "datetime64[ns]"}
    )


def test_exact_values_reach_int32_float32_and_datetime_columns(
    typed: tuple[ServedModel, Any, pd.DataFrame],
) -> None:
    served, estimator, _ = typed
    rows = [_row(), _row(count=2, ratio=1, when="2024-12-31T08:30:00", city="lyon")]
    expected = estimator.predict(_as_trained(rows)).tolist()
    split = {"columns": list(rows[0]), "data": [list(row.values()) for row in rows]}
    csv = pd.DataFrame(rows).to_csv(index=False)
    with scoring_client(served) as client:
        answers = [
            client.post("/invocations", json={"dataframe_records": rows}),
            client.post("/invocations", json={"dataframe_split": split}),
            client.post(
                "/invocations", content=csv, headers={"content-type": "text/csv"}
            ),
        ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.json()["predictions"] == expected


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ({"count": 2**31}, "outside the range of 'integer'"),
        ({"count": 2.5}, "row 0 holds 2.5"),
        ({"ratio": 1e39}, "'ratio' is 'float' \\(32 bits\\).*1e\\+39"),
        ({"ratio": 2**24 + 1}, "16777217"),
        ({"when": "next tuesday"}, "'when'.*ISO 8601.*'next tuesday'"),
    ],
    ids=["int32-range", "fraction", "float32-range", "float32-integer", "not-a-date"],
)
def test_values_a_narrow_column_cannot_hold_are_refused(
    typed: tuple[ServedModel, Any, pd.DataFrame], value: dict[str, Any], match: str
) -> None:
    served, _, _ = typed
    with scoring_client(served) as client:
        answer = client.post(
            "/invocations", json={"dataframe_records": [_row(**value)]}
        )
    assert answer.status_code == 400, answer.text
    assert re.search(match, answer.json()["message"])


def test_a_missing_date_is_nat(typed: tuple[ServedModel, Any, pd.DataFrame]) -> None:
    served, _, _ = typed
    parsed = parse_request(
        json.dumps({"dataframe_records": [_row(when=None), _row()]}).encode(),
        JSON,
        served.schema,
    )
    assert served.schema is not None
    frame = enforce_schema(parsed.data, served.schema)
    assert str(frame["when"].dtype).startswith("datetime64")
    assert frame["when"].isna().tolist() == [True, False]


def test_parquet_floats_are_not_narrowed(
    typed: tuple[ServedModel, Any, pd.DataFrame],
) -> None:
    """A Parquet float64 is binary, not text: narrowing it could change it."""
    served, _, X = typed
    body = X.head(2).astype({"ratio": "float64"}).to_parquet()
    with scoring_client(served) as client:
        widened = client.post(
            "/invocations",
            content=body,
            headers={"content-type": "application/vnd.apache.parquet"},
        )
        exact = client.post(
            "/invocations",
            content=X.head(2).to_parquet(),
            headers={"content-type": "application/vnd.apache.parquet"},
        )
    assert widened.status_code == 400
    assert "'ratio'" in widened.json()["message"]
    assert exact.status_code == 200, exact.text


def test_null_in_a_tensor_request_is_a_missing_value() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    X[::7, 1] = np.nan
    y = (X[:, 0] > 0).astype(int)
    estimator = HistGradientBoostingClassifier(max_iter=10).fit(X, y)
    signature = infer_signature(X)
    served = ServedModel(
        "tensor",
        PyFuncModel(estimator, Model(signature=signature)),
        signature.inputs,
        None,
        None,
    )
    rows = [[0.5, None, -2.0], [1.5, 0.25, 3]]
    expected = estimator.predict(np.array([[0.5, np.nan, -2.0], [1.5, 0.25, 3.0]]))
    with scoring_client(served) as client:
        for body in (
            {"inputs": rows},
            {"instances": rows},
            {"dataframe_split": {"data": rows}},
        ):
            answer = client.post("/invocations", json=body)
            assert answer.status_code == 200, (body, answer.text)
            assert answer.json()["predictions"] == expected.tolist()
        text = client.post("/invocations", json={"inputs": [[0.5, "x", 1.0]]})
    assert text.status_code == 400


def test_a_float32_tensor_takes_json_numbers() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2)).astype("float32")
    estimator = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    signature = infer_signature(X)
    served = ServedModel(
        "f32",
        PyFuncModel(estimator, Model(signature=signature)),
        signature.inputs,
        None,
        None,
    )
    with scoring_client(served) as client:
        answer = client.post("/invocations", json={"inputs": [[0.5, -1]]})
        too_large = client.post("/invocations", json={"inputs": [[1e39, 0.0]]})
    assert answer.status_code == 200, answer.text
    assert (
        answer.json()["predictions"]
        == estimator.predict(np.array([[0.5, -1.0]], dtype="float32")).tolist()
    )
    assert too_large.status_code == 400
    assert "float32" in too_large.json()["message"]


def test_objects_of_single_values_and_of_columns(
    typed: tuple[ServedModel, Any, pd.DataFrame],
) -> None:
    served, estimator, _ = typed
    row = _row()
    columns = {name: [value] for name, value in row.items()}
    with scoring_client(served) as client:
        answers = [
            client.post("/invocations", json={"inputs": row}),
            client.post("/invocations", json={"instances": columns}),
            client.post("/invocations", json={"inputs": columns}),
        ]
    expected = estimator.predict(_as_trained([row])).tolist()
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.json()["predictions"] == expected


def test_a_utf8_byte_order_mark_is_skipped(
    typed: tuple[ServedModel, Any, pd.DataFrame],
) -> None:
    served, _, _ = typed
    body = b"\xef\xbb\xbf" + json.dumps({"dataframe_records": [_row()]}).encode()
    with scoring_client(served) as client:
        answer = client.post(
            "/invocations", content=body, headers={"content-type": JSON}
        )
    assert answer.status_code == 200, answer.text


def test_params_for_a_model_that_takes_none_are_ignored_with_a_warning(
    typed: tuple[ServedModel, Any, pd.DataFrame],
) -> None:
    served, _, _ = typed
    body = {"dataframe_records": [_row()], "params": {"threshold": 0.3}}
    with scoring_client(served) as client:
        answer = client.post("/invocations", json=body)
        metrics = client.get("/metrics").text
    with scoring_client(served, strict=True) as client:
        strict = client.post("/invocations", json=body)
    assert answer.status_code == 200, answer.text
    [warning] = answer.json()["warnings"]
    assert warning["kind"] == "ignored_params"
    assert "threshold" in warning["message"]
    assert 'column="params",kind="ignored_params"' in metrics
    assert strict.status_code == 400
    assert "threshold" in strict.json()["message"]


def test_a_chunked_body_over_the_limit_is_refused(
    typed: tuple[ServedModel, Any, pd.DataFrame],
) -> None:
    served, _, _ = typed
    body = json.dumps({"dataframe_records": [_row()] * 50}).encode()

    def chunks() -> Any:  # no Content-Length: the client sends it chunked
        for start in range(0, len(body), 100):
            yield body[start : start + 100]

    with scoring_client(served, max_body_bytes=len(body) - 1) as client:
        refused = client.post(
            "/invocations", content=chunks(), headers={"content-type": JSON}
        )
    with scoring_client(served, max_body_bytes=len(body)) as client:
        accepted = client.post(
            "/invocations", content=chunks(), headers={"content-type": JSON}
        )
    assert refused.status_code == 413
    assert "larger than" in refused.json()["message"]
    assert accepted.status_code == 200, accepted.text


def test_a_failed_batch_prediction_names_the_row_in_the_file_and_writes_nothing(
    typed: tuple[ServedModel, Any, pd.DataFrame],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served, _, X = typed
    from mltrail.serving import _model

    monkeypatch.setattr(_model, "load_served_model", lambda *a, **k: served)
    frame = pd.concat([X] * 2, ignore_index=True)  # 400 rows
    rows = frame.astype({"count": "float64"})
    rows.loc[330, "count"] = 2.5
    source = tmp_path / "rows.csv"
    rows.to_csv(source, index=False)
    output = tmp_path / "predictions.csv"
    output.write_text("older predictions\n")
    with pytest.raises(ScoringError, match=r"row 330 holds 2\.5"):
        predict_file("typed", source, output, chunk_rows=100)
    assert output.read_text() == "older predictions\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "predictions.csv",
        "rows.csv",
    ]
    rows.loc[330, "count"] = 2.0
    rows.to_csv(source, index=False)
    summary = predict_file("typed", source, output, chunk_rows=100)
    assert summary.rows == 400
    assert len(pd.read_csv(output)) == 400


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (
            {"dataframe_split": {"columns": ["count", "count"], "data": [[1, 2]]}},
            r"columns \['count'\] appear more than once",
        ),
        (
            {"dataframe_split": {"columns": ["count", "ratio"], "data": []}},
            "has no rows",
        ),
        ({"dataframe_records": []}, "has no rows"),
    ],
    ids=["duplicate-columns", "no-rows-split", "no-rows-records"],
)
def test_tables_a_model_cannot_take_are_named(
    typed: tuple[ServedModel, Any, pd.DataFrame], body: dict[str, Any], match: str
) -> None:
    served, _, _ = typed
    with scoring_client(served) as client:
        answer = client.post("/invocations", json=body)
    assert answer.status_code == 400
    assert re.search(match, answer.json()["message"])


def test_a_block_of_doubles_with_a_name_twice_is_refused() -> None:
    """The fast path for tables of doubles must not skip the check of names."""
    schema = Schema((ColSpec("double", "a"), ColSpec("double", "b")))
    body = b'{"dataframe_split": {"columns": ["a", "b", "a"], "data": [[1, 2, 3]]}}'
    with pytest.raises(ScoringError, match=r"columns \['a'\] appear more than once"):
        parse_request(body, JSON, schema)
