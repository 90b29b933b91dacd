"""Validation and encoding of what callers pass to the store, before any write.

Every check raises ``InvalidValueError`` naming the value, what was expected and a
hint, so a batch is rejected whole before anything reaches the database.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

from mltrail._entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LifecycleStage,
    Metric,
    Param,
    RunTag,
    ViewType,
)
from mltrail._errors import InvalidValueError
from mltrail.store._limits import (
    KIND_FINITE,
    KIND_NAN,
    KIND_NEGATIVE_INFINITY,
    KIND_NEGATIVE_ZERO,
    KIND_POSITIVE_INFINITY,
    MAX_KEY_LENGTH,
    MAX_NAME_LENGTH,
    hash_key,
)

MAX_VALUE_LENGTH = 1024 * 1024
MAX_RUN_ID_LENGTH = 255
MAX_RESULTS_LIMIT = 50_000
MAX_INT64 = 2**63 - 1
MIN_INT64 = -(2**63)
MAX_FLOAT = 1.7976931348623157e308
KNOWN_KEYS_LIMIT = 100_000

# Keys that passed check_key once: the same few keys are checked over and over.
_known_keys: set[str] = set()


def short(value: str) -> str:
    return value if len(value) <= 80 else value[:77] + "..."


# Validation of user input: every check runs before anything is written.


def check_str(name: str, value: object, max_length: int, hint: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidValueError(name, value, "a non-empty str", hint)
    if len(value) > max_length:
        raise InvalidValueError(
            name,
            value,
            f"at most {max_length:,} characters long (got {len(value):,})",
            hint,
        )
    check_encodable(name, value)
    return value


def check_encodable(name: str, value: str) -> None:
    if "\x00" in value:
        raise InvalidValueError(
            name, value, "a str without NUL characters", "Remove the '\\x00'."
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidValueError(
            name,
            value,
            "a str that encodes to UTF-8",
            "Remove lone surrogate characters.",
        ) from None


def check_key(name: str, key: object) -> str:
    if type(key) is str and key in _known_keys:
        return key
    checked = check_str(name, key, MAX_KEY_LENGTH, "Use a name such as 'val/accuracy'.")
    if len(_known_keys) < KNOWN_KEYS_LIMIT:
        _known_keys.add(checked)
    return checked


def check_value(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidValueError(
            name, value, "a str", "Convert it with str() before logging it."
        )
    if len(value) > MAX_VALUE_LENGTH:
        raise InvalidValueError(
            name,
            short(value),
            f"at most {MAX_VALUE_LENGTH:,} characters long (got {len(value):,})",
            "Log long text as an artifact with log_text(), or a dict with log_dict().",
        )
    check_encodable(name, value)
    return value


def check_int(name: str, value: object, hint: str) -> int:
    if isinstance(value, bool):
        raise InvalidValueError(name, value, "an int, not a bool", hint)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValueError(name, value, "a finite int", hint)
        if not value.is_integer():
            raise InvalidValueError(name, value, "a whole number", hint)
        value = int(value)
    elif isinstance(value, numbers.Integral):
        value = int(value)
    else:
        raise InvalidValueError(name, value, "an int", hint)
    if not MIN_INT64 <= value <= MAX_INT64:
        raise InvalidValueError(name, value, "an int that fits in 64 bits", hint)
    return value


def check_run_id(run_id: object) -> str:
    if not isinstance(run_id, str) or not run_id:
        raise InvalidValueError(
            "run_id", run_id, "a non-empty str", "Use run.info.run_id."
        )
    if not run_id.isascii() or len(run_id) > MAX_RUN_ID_LENGTH:
        raise InvalidValueError(
            "run_id",
            run_id,
            f"an id of at most {MAX_RUN_ID_LENGTH} ASCII characters",
            "Use run.info.run_id.",
        )
    return run_id


def check_items(name: str, items: object, item: str) -> Iterable[Any]:
    """Return ``items`` if it is a collection (not a str, bytes or mapping)."""
    if isinstance(items, str | bytes | bytearray | Mapping) or not isinstance(
        items, Iterable
    ):
        raise InvalidValueError(
            name, items, f"a list of {item}", "Pass a list, or omit the argument."
        )
    return items


def check_experiment_id(experiment_id: object) -> int:
    if (
        isinstance(experiment_id, str)
        and experiment_id.isascii()
        and experiment_id.isdigit()
        and len(experiment_id) <= 18
    ):
        return int(experiment_id)
    raise InvalidValueError(
        "experiment_id",
        experiment_id,
        "a str of decimal digits such as '0'",
        "Use experiment.experiment_id, or get_experiment_by_name(name).",
    )


def encode_metric_value(value: object, key: str) -> tuple[float, int]:
    """Return the stored (finite value, kind) of a metric value."""
    if type(value) is float:
        number = value
    elif not isinstance(value, bool) and isinstance(value, numbers.Real):
        try:
            number = float(value)
        except OverflowError:
            raise InvalidValueError(
                f"value of metric {key!r}",
                value,
                "a number within the range of a 64-bit float",
                "Log its logarithm, or a scaled value.",
            ) from None
    else:
        raise InvalidValueError(
            f"value of metric {key!r}",
            value,
            "an int or a float (not a bool or a str)",
            "Convert it with float() before logging it.",
        )
    if math.isfinite(number):
        if number == 0.0 and math.copysign(1.0, number) < 0:
            return 0.0, KIND_NEGATIVE_ZERO
        return number, KIND_FINITE
    if math.isnan(number):
        return 0.0, KIND_NAN
    if number > 0:
        return MAX_FLOAT, KIND_POSITIVE_INFINITY
    return -MAX_FLOAT, KIND_NEGATIVE_INFINITY


def decode_metric_value(value: float, kind: int) -> float:
    if kind == KIND_FINITE:
        return float(value)
    if kind == KIND_NAN:
        return math.nan
    if kind == KIND_NEGATIVE_ZERO:
        return -0.0
    return math.inf if kind == KIND_POSITIVE_INFINITY else -math.inf


#: A row of ``metrics``, in its column order: run_id, key_hash, value, kind,
#: timestamp, step.
MetricRow = tuple[str, str, float, int, int, int]


def to_metric_rows(
    run_id: str, metrics: Iterable[Metric], keys: dict[str, str]
) -> list[MetricRow]:
    """Validate points; return their rows and add each key to ``keys`` by hash."""
    rows: list[MetricRow] = []
    append = rows.append
    hashes: dict[str, str] = {}
    hint = "Pass steps and timestamps (in ms) as ints."
    for metric in check_items("metrics", metrics, "Metric"):
        if type(metric) is not Metric and not isinstance(metric, Metric):
            raise InvalidValueError(
                "metric", metric, "a Metric", "Build it with Metric(key, value, ...)."
            )
        key = metric.key
        key_hash = hashes.get(key) if type(key) is str else None
        if key_hash is None:
            key_hash = hash_key(check_key("metric key", key))
            hashes[key] = key_hash
            keys[key_hash] = key
        value = metric.value
        if type(value) is float and value - value == 0.0 and value != 0.0:
            kind = KIND_FINITE  # finite and non-zero: the common case, stored as is
        else:
            value, kind = encode_metric_value(value, key)
        step = metric.step
        if type(step) is not int or not MIN_INT64 <= step <= MAX_INT64:
            step = check_int(f"step of metric {key!r}", step, hint)
        timestamp = metric.timestamp
        if type(timestamp) is not int or not MIN_INT64 <= timestamp <= MAX_INT64:
            timestamp = check_int(f"timestamp of metric {key!r}", timestamp, hint)
        append((run_id, key_hash, value, kind, timestamp, step))
    return rows


def to_param_rows(run_id: str, params: Iterable[Param]) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for param in check_items("params", params, "Param"):
        if not isinstance(param, Param):
            raise InvalidValueError(
                "param", param, "a Param", "Build it with Param(key, value)."
            )
        key_hash = hash_key(check_key("param key", param.key))
        value = check_value(f"value of param {param.key!r}", param.value)
        previous = rows.get(key_hash)
        if previous is not None and previous["value"] != value:
            raise InvalidValueError(
                f"param {param.key!r}",
                value,
                "logged once per batch; the batch also sets it to "
                f"{previous['value']!r}",
                "Params are immutable: log each key once.",
            )
        rows[key_hash] = {
            "run_id": run_id,
            "key_hash": key_hash,
            "key": param.key,
            "value": value,
        }
    return rows


def to_tag_rows(tags: Iterable[RunTag]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for tag in check_items("tags", tags, "RunTag"):
        if not isinstance(tag, RunTag):
            raise InvalidValueError(
                "tag", tag, "a RunTag", "Build it with RunTag(key, value)."
            )
        key_hash = hash_key(check_key("tag key", tag.key))
        value = check_value(f"value of tag {tag.key!r}", tag.value)
        rows[key_hash] = {
            "key_hash": key_hash,
            "key": tag.key,
            "value": value,
        }
    return list(rows.values())


def to_latest_rows(rows: list[MetricRow], keys: dict[str, str]) -> list[dict[str, Any]]:
    """Return, per run and key, the greatest point by (step, timestamp, value)."""
    best: dict[tuple[str, str], MetricRow] = {}
    for row in rows:
        ident = (row[0], row[1])
        current = best.get(ident)
        if current is None or (row[5], row[4], row[2]) >= (
            current[5],
            current[4],
            current[2],
        ):
            best[ident] = row
    # Sorted keys make concurrent writers lock rows in one order (no deadlocks).
    return [
        {
            "b_run_id": run_id,
            "b_key_hash": key_hash,
            "b_key": keys[key_hash],
            "b_value": value,
            "b_kind": kind,
            "b_timestamp": timestamp,
            "b_step": step,
        }
        for (run_id, key_hash, value, kind, timestamp, step) in (
            best[ident] for ident in sorted(best)
        )
    ]


def check_stage(stage: object) -> str:
    if stage in (LifecycleStage.ACTIVE.value, LifecycleStage.DELETED.value):
        return str(stage)
    raise InvalidValueError(
        "lifecycle_stage",
        stage,
        "'active' or 'deleted'",
        "Use LifecycleStage.DELETED or LifecycleStage.ACTIVE.",
    )


def check_view_type(view_type: object) -> tuple[str, ...]:
    if isinstance(view_type, str) and view_type in ViewType.__members__:
        return ViewType(view_type).stages
    raise InvalidValueError(
        "view_type",
        view_type,
        "one of " + ", ".join(ViewType.__members__),
        "Use ViewType.ACTIVE_ONLY, ViewType.DELETED_ONLY or ViewType.ALL.",
    )


def check_max_results(max_results: object) -> int:
    if (
        isinstance(max_results, bool)
        or not isinstance(max_results, int)
        or not 1 <= max_results <= MAX_RESULTS_LIMIT
    ):
        raise InvalidValueError(
            "max_results",
            max_results,
            f"an int from 1 to {MAX_RESULTS_LIMIT:,}",
            "Page through more results with page_token.",
        )
    return max_results


def check_dataset_input(item: object) -> None:
    if not isinstance(item, DatasetInput) or not isinstance(item.dataset, Dataset):
        raise InvalidValueError(
            "dataset input",
            item,
            "a DatasetInput",
            "Build it with DatasetInput(Dataset(name, digest, source_type, source)).",
        )
    dataset = item.dataset
    check_str("dataset name", dataset.name, MAX_NAME_LENGTH, "Use a short name.")
    check_str("dataset digest", dataset.digest, 100, "Use a short hash.")
    check_str("dataset source_type", dataset.source_type, 100, "Such as 'code'.")
    check_value("dataset source", dataset.source)
    for text, what in ((dataset.schema, "schema"), (dataset.profile, "profile")):
        if text is not None:
            check_value(f"dataset {what}", text)
    for tag in item.tags:
        if not isinstance(tag, InputTag):
            raise InvalidValueError(
                "input tag", tag, "an InputTag", "Build it with InputTag(key, value)."
            )
        check_str("input tag key", tag.key, 255, "Such as 'mlflow.data.context'.")
        check_value(f"value of input tag {tag.key!r}", tag.value)
