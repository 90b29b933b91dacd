"""``/history``: metric histories for the charts, downsampled so extremes survive.

One request serves one metric of up to 100 runs (a run page asks for one, the
compare page for all of its runs); zooming asks again with ``start`` and ``end``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mltrail._errors import InvalidValueError
from mltrail.ui._store import ui_store

if TYPE_CHECKING:
    from mltrail.ui._routes import PageContext

__all__ = ["history_data", "parse_int"]

DEFAULT_POINTS = 1000


def parse_int(context: PageContext, name: str) -> int | None:
    """Return an integer query parameter, None when absent."""
    text = context.text(name)
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            number = float("nan")
        if number != number or number in (float("inf"), float("-inf")):
            raise InvalidValueError(
                name, text, "an integer", "Pass a step or a time in milliseconds."
            ) from None
        # A chart's zoom gives fractional x values; the range stays inclusive.
        return int(number // 1) if name == "start" else -int(-number // 1)


def history_data(context: PageContext) -> dict[str, Any]:
    """Return one metric's history for each of ``run_ids``."""
    from mltrail.ui._routes import run_ids_of

    run_ids = run_ids_of(context.query)
    key = context.text("key")
    if not run_ids or not key:
        raise InvalidValueError(
            "query",
            dict(context.query),
            "run_ids and key",
            "Ask for example /history?run_ids=<id>&key=loss.",
        )
    x_axis = context.text("x", "step")
    points = parse_int(context, "points") or DEFAULT_POINTS
    start, end = parse_int(context, "start"), parse_int(context, "end")
    store = ui_store(context.services.store)
    runs = []
    for run_id in run_ids:
        sample = store.sample_metric_history(
            run_id, key, x_axis=x_axis, start=start, end=end, max_points=points
        )
        runs.append(
            {
                "run_id": run_id,
                "total": sample.total,
                "is_sampled": sample.is_sampled,
                "x": sample.x,
                "value": sample.values,
                "min": sample.minima,
                "max": sample.maxima,
                "count": sample.counts,
            }
        )
    return {"key": key, "x_axis": x_axis, "start": start, "end": end, "runs": runs}
