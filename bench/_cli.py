"""The command line of the benchmark: ``python -m bench [options]``."""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from bench import _environment, _report
from bench._model import TOOLS, Scenario
from bench._registry import RegistryError, all_scenarios, select
from bench._runner import Row, run_scenario

DEFAULT_REPEAT = 5
REPORT_WIDTH = 150
QUICK_MAX_REPEAT = 3
DEFAULT_OUTPUT = _environment.REPO_ROOT / ".bench" / "results.json"


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure mltrail and MLflow side by side (see bench/README.md).",
    )
    parser.add_argument(
        "--list", action="store_true", help="list the scenarios and exit"
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only scenarios with this name or name prefix (repeatable, or a,b)",
    )
    parser.add_argument(
        "--tools",
        default=",".join(TOOLS),
        help=f"comma-separated tools to run (default: {','.join(TOOLS)})",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=DEFAULT_REPEAT,
        help=f"fresh processes per scenario, size and tool (default: {DEFAULT_REPEAT}; "
        "some scenarios cap MLflow lower)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"scale the slowest sizes down and run at most {QUICK_MAX_REPEAT} repeats",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="where to write the results as JSON (default: .bench/results.json)",
    )
    parser.add_argument(
        "--mlflow-venv",
        type=Path,
        default=_environment.MLFLOW_VENV,
        help="MLflow's venv, created when missing (default: .bench/mlflow-venv)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary stores")
    parser.add_argument(
        "--check", action="store_true", help="exit with status 1 when a target fails"
    )
    return parser


def parse_tools(text: str) -> list[str]:
    """Return the tools named in ``text``; raise ValueError on an unknown one."""
    tools = [item.strip().lower() for item in text.split(",") if item.strip()]
    unknown = [tool for tool in tools if tool not in TOOLS]
    if unknown or not tools:
        raise ValueError(f"--tools must name some of {', '.join(TOOLS)}; got {text!r}.")
    return tools


def list_lines(scenarios: Sequence[Scenario]) -> list[str]:
    """Return what ``--list`` prints: each scenario's name, sizes, target and method."""
    lines: list[str] = []
    for scenario in scenarios:
        sizes = ", ".join(scenario.describe_size(size) for size in scenario.sizes)
        quick = ", ".join(
            scenario.describe_size(size) for size in scenario.sizes_for(quick=True)
        )
        lines.append(
            f"[bold]{scenario.name}[/bold]  sizes: {sizes} (quick: {quick})  "
            f"mltrail target: {_report.format_target(scenario)}  "
            f"tools: {', '.join(scenario.code)}"
        )
        lines.append(f"    {scenario.description}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and return the exit status."""
    args = build_parser().parse_args(argv)
    console = Console(highlight=False)
    if not console.is_terminal:  # a log file or a pipe: no need to squeeze the table
        console.width = REPORT_WIDTH
    errors = Console(stderr=True, highlight=False)
    try:
        tools = parse_tools(args.tools)
        only = [name for item in args.only for name in item.split(",")]
        scenarios = select(all_scenarios(), only)
    except (ValueError, RegistryError) as exc:
        errors.print(f"Error: {exc}")
        return 2
    if args.list:
        for line in list_lines(scenarios):
            console.print(line)
        return 0
    if args.repeat < 1:
        errors.print(f"Error: --repeat must be at least 1; got {args.repeat}.")
        return 2
    repeat = min(args.repeat, QUICK_MAX_REPEAT) if args.quick else args.repeat

    pythons: dict[str, Path | str] = {"mltrail": sys.executable}
    if "mltrail" in tools:
        _environment.compile_mltrail(sys.executable)
    if "mlflow" in tools:
        try:
            pythons["mlflow"] = _environment.ensure_mlflow_venv(
                args.mlflow_venv, log=lambda line: errors.print(line, style="dim")
            )
        except _environment.BenchEnvironmentError as exc:
            errors.print(f"Error: {exc}")
            return 1
    versions = _versions(pythons)
    info = _environment.machine_info()
    for line in _report.header_lines(info, versions):
        console.print(line)
    if args.quick:
        console.print(
            f"[bold yellow]QUICK run[/]: sizes scaled down (see --list), at most "
            f"{QUICK_MAX_REPEAT} repeats; targets judged only at the size they state."
        )

    rows: list[Row] = []
    with console.status("starting") as status:
        for scenario in scenarios:
            for size in scenario.sizes_for(quick=args.quick):
                row = run_scenario(
                    scenario,
                    size,
                    tools=tools,
                    pythons=pythons,
                    repeat=repeat,
                    progress=lambda text: status.update(text),
                    keep=args.keep,
                )
                rows.append(row)
                console.print(_summary(row), style="dim")

    title = (
        f"mltrail vs MLflow: medians of {repeat} fresh processes per cell "
        "(n: mltrail/MLflow, fewer where a scenario caps MLflow)"
    )
    console.print(_report.build_table(rows, title=title))
    _report.print_errors(errors, rows)
    document = {
        "machine": info,
        "versions": versions,
        "quick": args.quick,
        "repeat": repeat,
        "results": _report.to_json(rows),
    }
    _report.write_results(args.output, document)
    console.print(f"Results written to {args.output}")
    failed = any(result.error for row in rows for result in row.tools.values())
    missed = args.check and any(row.verdict == "FAIL" for row in rows)
    return 1 if failed or missed else 0


def _versions(pythons: dict[str, Path | str]) -> dict[str, str | None]:
    """Return the versions that the header states, from each tool's interpreter."""
    ours = _environment.installed_versions(
        pythons["mltrail"], ["mltrail", "scikit-learn", "pandas", "numpy", "SQLAlchemy"]
    )
    versions: dict[str, str | None] = {
        "Python": platform.python_version(),
        "mltrail": ours["mltrail"],
        "scikit-learn": ours["scikit-learn"],
        "pandas": ours["pandas"],
        "numpy": ours["numpy"],
        "SQLAlchemy": ours["SQLAlchemy"],
    }
    if "mlflow" in pythons:
        theirs = _environment.installed_versions(
            pythons["mlflow"], ["mlflow", "scikit-learn"]
        )
        versions["MLflow"] = theirs["mlflow"]
        versions["scikit-learn (MLflow venv)"] = theirs["scikit-learn"]
    return versions


def _summary(row: Row) -> str:
    """Return one progress line for a finished row."""
    parts = [f"{row.scenario.name} [{row.scenario.describe_size(row.size)}]"]
    for tool, result in row.tools.items():
        value = (
            "error"
            if result.error
            else _report.format_value(result.median, row.scenario.unit)
        )
        parts.append(f"{tool} {value}")
    return "  ".join(parts)
