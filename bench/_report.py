"""The report: a rich table of medians, ratios and verdicts, and ``results.json``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bench._model import TOOL_LABELS, TOOLS, Scenario
from bench._runner import Row, ToolResult

VERDICT_STYLES = {"PASS": "bold green", "FAIL": "bold red"}


def format_value(value: float | None, unit: str) -> str:
    """Return a median for the table: ``842 µs``, ``12.3 ms``, ``1,234 runs/s``."""
    if value is None:
        return "-"
    if unit != "s":
        return f"{value:,.0f} {unit}"
    if abs(value) < 1e-3:
        return f"{value * 1e6:.0f} µs"
    if abs(value) < 1:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"


def format_speedup(speedup: float | None) -> str:
    """Return the ratio MLflow/mltrail (of times) as ``38x`` or ``1.4x``."""
    if speedup is None:
        return "-"
    return f"{speedup:,.0f}x" if speedup >= 10 else f"{speedup:.1f}x"


def format_target(scenario: Scenario) -> str:
    """Return the target: ``< 100.0 ms at 10,000`` or ``> 1,000 runs/s``."""
    target = scenario.target
    if target is None:
        return "-"
    sign = ">" if scenario.higher_is_better else "<"
    where = (
        f" at {target.size:,}"
        if target.size is not None and len(scenario.sizes) > 1
        else ""
    )
    return f"{sign} {format_value(target.limit, scenario.unit)}{where}"


def _cell(result: ToolResult | None, unit: str) -> Text:
    if result is None:
        return Text("-", style="dim")
    if result.error:
        return Text("error", style="bold red")
    return Text(format_value(result.median, unit))


def _notes(row: Row) -> str:
    notes = []
    for tool in TOOLS:
        result = row.tools.get(tool)
        if result is None:
            continue
        if result.setup_seconds is not None:
            notes.append(f"{TOOL_LABELS[tool]} setup {result.setup_seconds:.1f} s")
    if row.check_mismatch:
        notes.append("RESULTS DIFFER")
    return ", ".join(notes)


def build_table(rows: Sequence[Row], *, title: str) -> Table:
    """Return the results table, one line per scenario and size."""
    table = Table(title=title, title_justify="left")
    table.add_column("scenario", no_wrap=True)
    table.add_column("size", justify="right")
    table.add_column("mltrail", justify="right")
    table.add_column("MLflow", justify="right")
    table.add_column("MLflow/mltrail", justify="right")
    table.add_column("mltrail target", justify="right")
    table.add_column("result", justify="center")
    table.add_column("n", justify="right")
    table.add_column("notes", style="dim")
    for row in rows:
        unit = row.scenario.unit
        verdict = row.verdict
        table.add_row(
            row.scenario.name,
            row.scenario.describe_size(row.size),
            _cell(row.tools.get("mltrail"), unit),
            _cell(row.tools.get("mlflow"), unit),
            format_speedup(row.speedup),
            format_target(row.scenario),
            Text(verdict, style=VERDICT_STYLES.get(verdict, "")),
            "/".join(str(len(result.samples)) for result in row.tools.values()),
            _notes(row),
        )
    return table


def header_lines(
    info: Mapping[str, object], versions: Mapping[str, object]
) -> list[str]:
    """Return the lines that say where and with what the benchmark ran."""
    load = info.get("load_average")
    return [
        f"Machine: {info.get('cpu')}, {info.get('cores')} cores, "
        f"{info.get('memory_gb')} GB RAM, {info.get('os')}, load average {load}",
        "Versions: "
        + ", ".join(
            f"{name} {version}" for name, version in versions.items() if version
        ),
        f"Date: {info.get('date')}",
    ]


def print_errors(console: Console, rows: Sequence[Row]) -> None:
    """Print each failed snippet's error under the table."""
    for row in rows:
        for tool, result in row.tools.items():
            if result.error:
                console.print(
                    Text(
                        f"{row.scenario.name} [{row.size:,}] {TOOL_LABELS[tool]}: ",
                        "bold red",
                    )
                    + Text(result.error)
                )


def to_json(rows: Sequence[Row]) -> list[dict[str, object]]:
    """Return the rows as JSON-ready dicts, every sample included."""
    return [
        {
            "scenario": row.scenario.name,
            "description": row.scenario.description,
            "size": row.size,
            "unit": row.scenario.unit,
            "higher_is_better": row.scenario.higher_is_better,
            "target": None
            if row.scenario.target is None
            else {"limit": row.scenario.target.limit, "size": row.scenario.target.size},
            "speedup": row.speedup,
            "verdict": row.verdict,
            "check_mismatch": row.check_mismatch,
            "tools": {
                tool: {
                    "median": result.median,
                    "samples": [sample.value for sample in result.samples],
                    "process_seconds": [
                        sample.process_seconds for sample in result.samples
                    ],
                    "setup_seconds": result.setup_seconds,
                    "details": result.details,
                    "error": result.error,
                }
                for tool, result in row.tools.items()
            },
        }
        for row in rows
    ]


def write_results(path: Path, document: Mapping[str, object]) -> None:
    """Write the whole run to ``path`` as indented JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
