"""The scoring app on real autologged models: MLflow's protocol, safer, validated."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mltrail.serving._model import ServedModel
from tests.serving.conftest import Trained, scoring_client

JSON = {"content-type": "application/json"}


def _split(frame: pd.DataFrame) -> dict[str, Any]:
    return {"dataframe_split": json.loads(frame.to_json(orient="split", index=False))}


def _records(frame: pd.DataFrame) -> dict[str, Any]:
    return {"dataframe_records": json.loads(frame.to_json(orient="records"))}


def test_health_routes_answer_as_mlflows(served_classifier: ServedModel) -> None:
    with scoring_client(served_classifier) as client:
        for path in ("/ping", "/health"):
            response = client.get(path)
            assert (response.status_code, response.text) == (200, "\n")
            assert response.headers["content-type"] == "application/json"
        assert re.fullmatch(r"\d+\.\d+\.\d+.*", client.get("/version").text)


@pytest.mark.parametrize("build", [_split, _records], ids=["split", "records"])
def test_predictions_match_the_estimator(
    served_classifier: ServedModel, classifier: Trained, build: Any
) -> None:
    X = classifier.X_test.iloc[:20]
    with scoring_client(served_classifier) as client:
        response = client.post("/invocations", json=build(X))
    assert response.status_code == 200, response.text
    assert response.json()["predictions"] == classifier.estimator.predict(X).tolist()


def test_instances_and_inputs_formats(
    served_regressor: ServedModel, regressor: Trained
) -> None:
    X = regressor.X_test.iloc[:3]
    expected = regressor.estimator.predict(X)
    bodies = [
        {"instances": json.loads(X.to_json(orient="records"))},
        {"instances": X.to_numpy().tolist()},
        {"inputs": {column: X[column].tolist() for column in X.columns}},
        {"inputs": X.to_numpy().tolist()},
    ]
    with scoring_client(served_regressor) as client:
        for body in bodies:
            response = client.post("/invocations", json=body)
            assert response.status_code == 200, (body, response.text)
            np.testing.assert_allclose(response.json()["predictions"], expected)


def test_csv_and_parquet_bodies(
    served_classifier: ServedModel, classifier: Trained
) -> None:
    X = classifier.X_test.iloc[:10]
    expected = classifier.estimator.predict(X).tolist()
    parquet = io.BytesIO()
    X.to_parquet(parquet)
    with scoring_client(served_classifier) as client:
        csv = client.post(
            "/invocations",
            content=X.to_csv(index=False),
            headers={"content-type": "text/csv"},
        )
        pq = client.post(
            "/invocations",
            content=parquet.getvalue(),
            headers={"content-type": "application/vnd.apache.parquet"},
        )
    assert csv.json()["predictions"] == expected
    assert pq.json()["predictions"] == expected


@pytest.mark.parametrize(
    ("headers", "body", "match"),
    [
        ({}, b"{}", "no Content-Type header"),
        ({"content-type": "text/plain"}, b"{}", "only supports the following"),
        (
            {"content-type": "application/json; format=pandas-split"},
            b"{}",
            "Unrecognized content type parameters: format",
        ),
        (
            {"content-type": "application/json; charset=latin-1"},
            b"{}",
            "only supports UTF-8",
        ),
    ],
    ids=["missing", "text", "old-format-parameter", "latin-1"],
)
def test_content_types_mlflow_refuses_are_415(
    served_classifier: ServedModel, headers: dict[str, str], body: bytes, match: str
) -> None:
    with scoring_client(served_classifier) as client:
        response = client.post("/invocations", content=body, headers=headers)
    assert response.status_code == 415
    assert match in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"not json", "valid JSON"),
        (b"[1, 2]", "Received a list"),
        (b'{"data": [[1]]}', "input fields: []"),
        (b'{"instances": [], "inputs": []}', "exactly one"),
        (b'{"dataframe_split": {"cols": [], "data": []}}', "unknown keys ['cols']"),
        (b'{"dataframe_records": {"a": 1}}', "list of objects"),
        (b'{"signature_name": "x", "inputs": []}', "signature_name"),
        (b'{"inputs": [], "params": [1]}', "'params' must be an object"),
        (b'{"instances": 3}', "'instances' must be a list"),
    ],
    ids=[
        "not-json",
        "list",
        "no-format",
        "two-formats",
        "split-keys",
        "records-object",
        "signature-name",
        "params-list",
        "instances-scalar",
    ],
)
def test_malformed_json_is_a_400_without_a_trace(
    served_classifier: ServedModel, body: bytes, match: str
) -> None:
    with scoring_client(served_classifier) as client:
        response = client.post("/invocations", content=body, headers=JSON)
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "BAD_REQUEST"
    assert match in response.json()["message"]
    assert "stack_trace" not in response.json()
    assert "Traceback" not in response.text


def test_a_fraction_in_an_integer_column_is_refused_not_truncated(
    served_classifier: ServedModel, classifier: Trained
) -> None:
    rows = json.loads(classifier.X_test.iloc[:2].to_json(orient="records"))
    rows[1]["age"] = 41.5
    with scoring_client(served_classifier) as client:
        refused = client.post("/invocations", json={"dataframe_records": rows})
        rows[1]["age"] = 41.0  # a whole number sent as a float is fine
        accepted = client.post("/invocations", json={"dataframe_records": rows})
    assert refused.status_code == 400
    body = refused.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "'age'" in body["message"]
    assert "41.5" in body["message"]
    assert accepted.status_code == 200


def test_a_missing_column_names_it(
    served_classifier: ServedModel, classifier: Trained
) -> None:
    X = classifier.X_test.iloc[:2].drop(columns=["city"])
    with scoring_client(served_classifier) as client:
        response = client.post("/invocations", json=_split(X))
    assert response.status_code == 400
    assert "'city'" in response.json()["message"]


def test_findings_come_back_as_warnings_and_metrics(
    served_classifier: ServedModel, classifier: Trained
) -> None:
    rows = json.loads(classifier.X_test.iloc[:2].to_json(orient="records"))
    rows[0]["city"] = "tokyo"
    rows[1]["income"] = 10_000_000.0
    rows[1]["extra"] = 1
    with scoring_client(served_classifier) as client:
        response = client.post("/invocations", json={"dataframe_records": rows})
        metrics = client.get("/metrics").text
    assert response.status_code == 200, response.text
    kinds = {(w["column"], w["kind"]) for w in response.json()["warnings"]}
    assert kinds == {
        ("city", "unseen_levels"),
        ("income", "out_of_range"),
        ("extra", "extra_columns"),
    }
    assert len(response.json()["predictions"]) == 2
    counted = 'findings_total{column="city",kind="unseen_levels"} 1.0'
    assert f"mltrail_serving_validation_{counted}" in metrics
    assert "mltrail_serving_rows_predicted_total 2.0" in metrics


def test_a_missing_value_where_training_had_none_is_a_finding(
    served_regressor: ServedModel, regressor: Trained
) -> None:
    rows = json.loads(regressor.X_test.iloc[:1].to_json(orient="records"))
    rows[0]["bmi"] = None
    with scoring_client(served_regressor, strict=True) as client:
        response = client.post("/invocations", json={"dataframe_records": rows})
    assert response.status_code == 400
    assert "missing value(s) in 'bmi'" in response.json()["message"]


def test_strict_mode_refuses_findings(
    served_classifier: ServedModel, classifier: Trained
) -> None:
    rows = json.loads(classifier.X_test.iloc[:1].to_json(orient="records"))
    rows[0]["city"] = "tokyo"
    with scoring_client(served_classifier, strict=True) as client:
        response = client.post("/invocations", json={"dataframe_records": rows})
        metrics = client.get("/metrics").text
    assert response.status_code == 400
    assert "never seen" in response.json()["message"]
    assert (
        'mltrail_serving_errors_total{error_code="INVALID_PARAMETER_VALUE"} 1.0'
        in metrics
    )


def test_model_errors_are_400s_naming_the_problem(
    served_regressor: ServedModel,
) -> None:
    with scoring_client(served_regressor) as client:
        response = client.post(
            "/invocations", json={"inputs": [[1.0, 2.0]]}, headers=JSON
        )
    assert response.status_code == 400
    assert "Traceback" not in response.text


def test_unknown_routes_and_methods_answer_json(served_classifier: ServedModel) -> None:
    with scoring_client(served_classifier) as client:
        missing = client.get("/nope")
        wrong = client.get("/invocations")
    assert (missing.status_code, missing.json()["error_code"]) == (
        404,
        "ENDPOINT_NOT_FOUND",
    )
    assert wrong.status_code == 405


def test_openapi_describes_the_real_columns(served_classifier: ServedModel) -> None:
    with scoring_client(served_classifier) as client:
        document = client.get("/openapi.json").json()
    record = document["components"]["schemas"]["dataframe_records"]["properties"][
        "dataframe_records"
    ]["items"]
    assert record["properties"]["age"] == {"type": "integer", "format": "int64"}
    assert record["properties"]["city"] == {"type": "string"}
    assert set(record["required"]) == {"age", "income", "city"}
    assert "/invocations" in document["paths"]


def test_an_oversized_body_is_refused(served_classifier: ServedModel) -> None:
    with scoring_client(served_classifier, max_body_bytes=10) as client:
        response = client.post("/invocations", json={"inputs": [1, 2, 3, 4, 5, 6]})
    assert response.status_code == 413


def test_micro_batching_answers_each_request_its_rows(
    served_classifier: ServedModel, classifier: Trained
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    X = classifier.X_test
    expected = classifier.estimator.predict(X).tolist()
    with scoring_client(
        served_classifier, max_batch_size=16, max_batch_delay_ms=20
    ) as client:

        def score(i: int) -> list[int]:
            response = client.post("/invocations", json=_records(X.iloc[i : i + 1]))
            assert response.status_code == 200, response.text
            prediction: list[int] = response.json()["predictions"]
            return prediction

        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(score, range(40)))
        metrics = client.get("/metrics").text
    assert [p[0] for p in got] == expected[:40]
    assert "mltrail_serving_batch_rows_count" in metrics


def test_a_bad_request_in_a_batch_fails_alone(
    served_classifier: ServedModel, classifier: Trained
) -> None:
    import asyncio

    from mltrail.serving._batching import MicroBatcher

    X = classifier.X_test.iloc[:3]

    async def run() -> list[object]:
        batcher = MicroBatcher(
            served_classifier.predict, max_batch_size=10, max_delay=0.05
        )
        batcher.start()
        batcher.reading = 2
        good = X.iloc[:2]
        bad = X.iloc[2:].assign(age=["x"])
        results = await asyncio.gather(
            batcher.submit(good, 2), batcher.submit(bad, 1), return_exceptions=True
        )
        await batcher.stop()
        return list(results)

    good, bad = asyncio.run(run())
    assert list(good) == classifier.estimator.predict(X.iloc[:2]).tolist()  # type: ignore[call-overload]
    assert isinstance(bad, Exception)
