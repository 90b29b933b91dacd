"""``mltrail models predict``: a file of rows in, a file of predictions out.

CSV and Parquet are read in chunks, so an input larger than memory streams through;
JSON takes MLflow's request format. Every chunk goes through the scoring server's
checks (lossless casts, the signature, the training profile), so batch and online
predictions agree. A progress bar shows on large inputs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mltrail._errors import InvalidValueError

if TYPE_CHECKING:
    import pandas as pd

    from mltrail.models._signature import Schema
    from mltrail.serving._model import ServedModel
    from mltrail.serving._profile import Finding

__all__ = ["PredictSummary", "predict_file"]


@dataclass(slots=True)
class PredictSummary:
    """How many rows were predicted, and the findings merged over all chunks."""

    rows: int = 0
    findings: list[Finding] = field(default_factory=list)


def _csv_dtypes(schema: Schema | None) -> dict[str, str] | None:
    if schema is None or not schema.has_names or schema.is_tensor_spec:
        return None
    found = {
        str(spec.name): "str"
        for spec in schema.inputs
        if getattr(spec, "type", None) == "string"
    }
    return found or None


def _chunks(path: Path, schema: Schema | None, rows: int) -> Iterator[Any]:
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
            yield batch.to_pandas()
        return
    if suffix == ".json":
        from mltrail.serving._parsing import parse_request

        yield parse_request(path.read_bytes(), "application/json", schema).data
        return
    yield from pd.read_csv(path, dtype=_csv_dtypes(schema), chunksize=rows)


def _as_frame(predictions: Any) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    if isinstance(predictions, pd.DataFrame):
        return predictions
    if isinstance(predictions, pd.Series):
        return predictions.to_frame("prediction")
    array = np.asarray(predictions)
    if array.ndim == 1:
        return pd.DataFrame({"prediction": array})
    return pd.DataFrame(
        array.reshape(len(array), -1),
        columns=[f"prediction_{i}" for i in range(int(np.prod(array.shape[1:])))],
    )


class _Writer:
    """Write prediction chunks as CSV (a file or stdout) or Parquet.

    A file is written under a temporary name beside it and renamed into place by
    ``close(complete=True)``: a run that fails halfway leaves no file of some of
    the predictions, and an older file of that name stays as it was.
    """

    def __init__(self, path: Path | None) -> None:
        self.target = path
        self.path = (
            None
            if path is None
            else path.with_name(f".{path.name}.{os.getpid()}.partial")
        )
        self.parquet: Any = None
        self.first = True

    def write(self, frame: pd.DataFrame) -> None:
        if self.target is not None and self.target.suffix.lower() == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self.parquet is None:
                self.parquet = pq.ParquetWriter(self.path, table.schema)
            self.parquet.write_table(table)
        elif self.path is None:
            frame.to_csv(sys.stdout, index=False, header=self.first)
        else:
            frame.to_csv(
                self.path,
                index=False,
                header=self.first,
                mode="w" if self.first else "a",
            )
        self.first = False

    def close(self, *, complete: bool) -> None:
        if self.parquet is not None:
            self.parquet.close()
        if self.path is None or self.target is None:
            return
        if complete and not self.first:
            os.replace(self.path, self.target)
        else:  # failed, or nothing was written (no chunk): no file, as before
            self.path.unlink(missing_ok=True)


def _merge(into: dict[tuple[str, str], Finding], found: list[Finding]) -> None:
    from mltrail.serving._profile import Finding

    for finding in found:
        key = (finding.column, finding.kind)
        known = into.get(key)
        if known is None:
            into[key] = finding
        else:
            into[key] = Finding(
                known.column, known.kind, known.count + finding.count, known.message
            )


def _predict_chunks(
    model: ServedModel,
    chunks: Iterator[Any],
    writer: _Writer,
    *,
    strict: bool,
    text: bool,
    progress: Any,
) -> PredictSummary:
    from mltrail.serving._parsing import coerce_columns

    summary = PredictSummary()
    merged: dict[tuple[str, str], Finding] = {}
    for chunk in chunks:
        if model.schema is not None:
            coerce_columns(chunk, model.schema, text=text, first_row=summary.rows)
        data, findings = model.align(chunk)
        findings += model.validate(data)
        if findings and strict:
            raise InvalidValueError(
                "input rows",
                f"rows {summary.rows} to {summary.rows + len(chunk) - 1}",
                "values like the training data's (--strict)",
                " ".join(f.message for f in findings),
            )
        _merge(merged, findings)
        writer.write(_as_frame(model.predict(data)))
        summary.rows += len(chunk)
        if progress is not None:
            progress.update(progress.task_ids[0], completed=summary.rows)
    summary.findings = list(merged.values())
    return summary


def predict_file(
    model_uri: str,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str] | None = None,
    *,
    trusted: bool = False,
    strict: bool = False,
    tracking_uri: str | None = None,
    chunk_rows: int = 50_000,
    progress_min_rows: int = 100_000,
) -> PredictSummary:
    """Predict every row of ``input_path`` into ``output_path`` (or stdout)."""
    from mltrail.serving._model import load_served_model

    source = Path(input_path)
    model = load_served_model(model_uri, trusted=trusted, tracking_uri=tracking_uri)
    writer = _Writer(None if output_path is None else Path(output_path))
    chunks = _chunks(source, model.schema, chunk_rows)
    # A rough row count from the size decides on a progress bar (CSV rows are tens
    # of bytes); the bar itself counts real rows.
    large = source.stat().st_size > progress_min_rows * 20
    text = source.suffix.lower() != ".parquet"  # CSV and JSON: numbers as text
    complete = False
    try:
        if large and output_path is not None:
            from rich.console import Console
            from rich.progress import Progress

            with Progress(console=Console(stderr=True), transient=True) as progress:
                progress.add_task("Predicting rows", total=None)
                summary = _predict_chunks(
                    model, chunks, writer, strict=strict, text=text, progress=progress
                )
        else:
            summary = _predict_chunks(
                model, chunks, writer, strict=strict, text=text, progress=None
            )
        complete = True
        return summary
    finally:
        writer.close(complete=complete)
