"""The benchmark runner: registry, runner loop and report, without MLflow or timings."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from bench import Scenario, Target, _cli, _environment, _report, _runner
from bench._registry import RegistryError, all_scenarios, select, validate
from bench._runner import (
    Row,
    Sample,
    SnippetError,
    ToolResult,
    parse_result,
    run_scenario,
)

ISSUE_2_SCENARIOS = {"import", "log_metric", "log_batch", "search_runs", "create_runs"}
PYTHONS = {"mltrail": sys.executable, "mlflow": sys.executable}


def _scenario(**changes: object) -> Scenario:
    fields: dict[str, object] = {
        "name": "toy",
        "description": "A toy scenario.",
        "code": {"mltrail": "report(SIZE / 1000, check=SIZE)"},
        "sizes": (3,),
        "size_unit": "items",
    }
    fields.update(changes)
    return Scenario(**fields)  # type: ignore[arg-type]  # test-only keyword mix


def _row(scenario: Scenario, size: int = 10, **medians: float) -> Row:
    row = Row(scenario, size)
    for tool, value in medians.items():
        row.tools[tool] = ToolResult(samples=[Sample(value, {}, 0.0)])
    return row


def test_registry_has_the_tracking_scenarios() -> None:
    assert {scenario.name for scenario in all_scenarios()} >= ISSUE_2_SCENARIOS


def test_registry_puts_the_tracking_scenarios_first() -> None:
    names = [scenario.name for scenario in all_scenarios()]
    assert set(names[: len(ISSUE_2_SCENARIOS) + 1]) >= ISSUE_2_SCENARIOS


@pytest.mark.parametrize("scenario", all_scenarios(), ids=lambda s: s.name)
def test_every_snippet_compiles(scenario: Scenario) -> None:
    for tool in scenario.code:
        compile(scenario.source(tool), f"{scenario.name}-{tool}", "exec")
        if scenario.setup:
            compile(
                scenario.source(tool, setup=True),
                f"{scenario.name}-{tool}-setup",
                "exec",
            )


@pytest.mark.parametrize(
    ("scenarios", "message"),
    [
        ([_scenario(), _scenario()], "registered twice"),
        ([_scenario(code={"wandb": "pass"})], "has code for"),
        ([_scenario(setup={"mlflow": "pass"})], "setup covers"),
        ([_scenario(sizes=())], "has no sizes"),
    ],
    ids=["duplicate", "unknown-tool", "setup-mismatch", "no-sizes"],
)
def test_validate_rejects_malformed_registry(
    scenarios: list[Scenario], message: str
) -> None:
    with pytest.raises(RegistryError, match=message):
        validate(scenarios)


def test_select_by_prefix_keeps_registry_order() -> None:
    found = [
        _scenario(name="search_runs"),
        _scenario(name="import"),
        _scenario(name="search_x"),
    ]
    assert [s.name for s in select(found, ["search"])] == ["search_runs", "search_x"]


def test_select_unknown_name_raises() -> None:
    with pytest.raises(RegistryError, match="no scenario matches"):
        select([_scenario()], ["nope"])


@pytest.mark.parametrize(
    ("higher_is_better", "mltrail", "mlflow", "expected"),
    [(False, 0.1, 2.0, 20.0), (True, 2000.0, 40.0, 50.0)],
    ids=["time", "rate"],
)
def test_speedup_is_mlflow_time_over_mltrail_time(
    higher_is_better: bool, mltrail: float, mlflow: float, expected: float
) -> None:
    row = _row(
        _scenario(higher_is_better=higher_is_better), mltrail=mltrail, mlflow=mlflow
    )
    assert row.speedup == pytest.approx(expected)


def test_speedup_needs_both_tools() -> None:
    assert _row(_scenario(), mltrail=0.1).speedup is None


@pytest.mark.parametrize(
    ("target", "higher_is_better", "size", "median", "expected"),
    [
        (Target(0.2), False, 10, 0.1, "PASS"),
        (Target(0.2), False, 10, 0.3, "FAIL"),
        (Target(1000.0), True, 10, 1500.0, "PASS"),
        (Target(1000.0), True, 10, 500.0, "FAIL"),
        (Target(0.2, size=10_000), False, 1_000, 0.1, "n/a"),
        (None, False, 10, 0.1, "-"),
    ],
    ids=[
        "under-limit",
        "over-limit",
        "rate-above",
        "rate-below",
        "other-size",
        "no-target",
    ],
)
def test_verdict_against_target(
    target: Target | None,
    higher_is_better: bool,
    size: int,
    median: float,
    expected: str,
) -> None:
    scenario = _scenario(target=target, higher_is_better=higher_is_better)
    assert _row(scenario, size, mltrail=median).verdict == expected


def test_verdict_without_mltrail_result_is_not_applicable() -> None:
    assert _row(_scenario(target=Target(0.2)), mlflow=0.1).verdict == "n/a"


def test_check_mismatch_flags_disagreeing_tools() -> None:
    row = Row(_scenario(), 10)
    row.tools["mltrail"] = ToolResult(samples=[Sample(1.0, {"check": [10, "a"]}, 0.0)])
    row.tools["mlflow"] = ToolResult(samples=[Sample(1.0, {"check": [10, "b"]}, 0.0)])
    assert row.check_mismatch


def test_check_mismatch_takes_a_whole_median_for_the_count_it_is() -> None:
    row = Row(_scenario(), 10)
    row.tools["mltrail"] = ToolResult(
        samples=[Sample(1.0, {"check": 1}, 0.0), Sample(1.0, {"check": 1}, 0.0)]
    )
    row.tools["mlflow"] = ToolResult(samples=[Sample(1.0, {"check": 1}, 0.0)])
    assert not row.check_mismatch
    row.tools["mlflow"] = ToolResult(samples=[Sample(1.0, {"check": 2}, 0.0)])
    assert row.check_mismatch


def test_details_take_the_median_of_numbers() -> None:
    result = ToolResult(
        samples=[
            Sample(1.0, {"n": 1, "name": "a"}, 0),
            Sample(1.0, {"n": 5, "name": "b"}, 0),
        ]
    )
    assert result.details == {"n": 3, "name": "b"}


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (0.000842, "s", "842 µs"),
        (0.0123, "s", "12.3 ms"),
        (2.41, "s", "2.41 s"),
        (-0.5267, "s", "-526.7 ms"),
        (1234.4, "runs/s", "1,234 runs/s"),
        (None, "s", "-"),
    ],
    ids=["microseconds", "milliseconds", "seconds", "negative", "rate", "missing"],
)
def test_format_value(value: float | None, unit: str, expected: str) -> None:
    assert _report.format_value(value, unit) == expected


@pytest.mark.parametrize(
    ("speedup", "expected"), [(38.4, "38x"), (1.44, "1.4x"), (None, "-")], ids=str
)
def test_format_speedup(speedup: float | None, expected: str) -> None:
    assert _report.format_speedup(speedup) == expected


def test_format_target_names_size_when_scenario_has_several() -> None:
    scenario = _scenario(sizes=(1_000, 10_000), target=Target(0.1, size=10_000))
    assert _report.format_target(scenario) == "< 100.0 ms at 10,000"


def test_parse_result_reads_last_marker_line() -> None:
    stdout = 'noise\nBENCH_RESULT {"value": 1.5, "details": {"check": 3}}\n'
    sample = parse_result(stdout, "", 0, 2.0)
    assert (sample.value, sample.details, sample.process_seconds) == (
        1.5,
        {"check": 3},
        2.0,
    )


@pytest.mark.parametrize(
    ("stdout", "returncode", "message"),
    [('BENCH_RESULT {"value": 1}', 1, "exit status 1"), ("", 0, "no result reported")],
    ids=["crashed", "silent"],
)
def test_parse_result_raises_with_stderr(
    stdout: str, returncode: int, message: str
) -> None:
    with pytest.raises(SnippetError, match=message):
        parse_result(stdout, "Traceback: boom", returncode, 0.1)


def test_run_scenario_collects_one_sample_per_repeat() -> None:
    row = run_scenario(
        _scenario(discard_first=True),
        3,
        tools=["mltrail"],
        pythons=PYTHONS,
        repeat=2,
        progress=lambda text: None,
    )
    result = row.tools["mltrail"]
    assert [sample.value for sample in result.samples] == [0.003, 0.003]
    assert result.details == {"check": 3}


def test_run_scenario_caps_repeats_per_tool() -> None:
    code = {"mltrail": "report(1)", "mlflow": "report(2)"}
    scenario = _scenario(code=code, max_repeat={"mlflow": 1})
    row = run_scenario(
        scenario,
        3,
        tools=["mltrail", "mlflow"],
        pythons=PYTHONS,
        repeat=2,
        progress=print,
    )
    assert [len(row.tools[tool].samples) for tool in ("mltrail", "mlflow")] == [2, 1]


def test_run_scenario_runs_setup_once_in_a_shared_directory() -> None:
    scenario = _scenario(
        setup={
            "mltrail": "open(os.path.join(SETUP_DIR, 'f'), 'w').write('x')\nreport(0.5)"
        },
        code={"mltrail": "report(len(open(os.path.join(SETUP_DIR, 'f')).read()))"},
    )
    row = run_scenario(
        scenario,
        3,
        tools=["mltrail"],
        pythons=PYTHONS,
        repeat=2,
        progress=lambda t: None,
    )
    result = row.tools["mltrail"]
    assert (result.setup_seconds, [s.value for s in result.samples]) == (
        0.5,
        [1.0, 1.0],
    )


@pytest.mark.parametrize("part", ["setup", "code"], ids=["setup", "code"])
def test_run_scenario_records_snippet_errors(part: str) -> None:
    broken = {"mltrail": "raise RuntimeError('boom')"}
    working = {"mltrail": "report(1)"}
    scenario = _scenario(
        setup=broken if part == "setup" else working,
        code=working if part == "setup" else broken,
    )
    row = run_scenario(
        scenario,
        3,
        tools=["mltrail"],
        pythons=PYTHONS,
        repeat=1,
        progress=lambda t: None,
    )
    assert "RuntimeError: boom" in (row.tools["mltrail"].error or "")
    assert row.median("mltrail") is None


def test_tool_environment_points_each_tool_at_its_own_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///elsewhere.db")
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    env = _runner.tool_environment("mltrail", tmp_path, setup_dir=None)
    assert env["MLTRAIL_TRACKING_URI"] == f"sqlite:///{tmp_path / 'mltrail.db'}"
    assert "MLFLOW_TRACKING_URI" not in env
    assert "PYTHONDONTWRITEBYTECODE" not in env  # warm-up runs leave bytecode
    mlflow_env = _runner.tool_environment("mlflow", tmp_path, setup_dir=tmp_path)
    assert mlflow_env["MLFLOW_TRACKING_URI"] == f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert mlflow_env["BENCH_SETUP_DIR"] == str(tmp_path)


def test_mltrail_is_compiled_like_an_installed_wheel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    source = Path(_environment.REPO_ROOT / "src" / "mltrail" / "_version.py")
    compiled = Path(importlib.util.cache_from_source(str(source)))
    compiled.unlink(missing_ok=True)
    _environment.compile_mltrail(sys.executable)
    assert compiled.stat().st_mtime >= source.stat().st_mtime


def test_read_pins_and_mlflow_requirements(tmp_path: Path) -> None:
    pins = tmp_path / "test.txt"
    pins.write_text(
        "scikit_learn==1.9.1\npandas==3.1.1  # comment\nnumpy>=2\nmlflow==9.9\n"
    )
    found = _environment.read_pins(pins)
    assert found == {"scikit-learn": "1.9.1", "pandas": "3.1.1", "mlflow": "9.9"}
    assert _environment.mlflow_requirements(found) == [
        f"mlflow=={_environment.MLFLOW_VERSION}",
        "scikit-learn==1.9.1",
        "pandas==3.1.1",
        "numpy",
    ]


def test_list_prints_every_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli.main(["--list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ISSUE_2_SCENARIOS)


@pytest.mark.parametrize(
    "argv",
    [["--tools", "wandb"], ["--only", "nope"], ["--repeat", "0"]],
    ids=["unknown-tool", "unknown-scenario", "zero-repeat"],
)
def test_bad_arguments_exit_2(argv: list[str]) -> None:
    assert _cli.main(argv) == 2


def test_main_runs_one_tool_and_writes_results(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toy = _scenario(target=Target(1.0))
    monkeypatch.setattr(_cli, "all_scenarios", lambda: [toy])
    output = tmp_path / "results.json"
    argv = ["--tools", "mltrail", "--repeat", "2", "--quick", "--output", str(output)]
    assert _cli.main(argv) == 0
    assert "QUICK run" in capsys.readouterr().out
    document = json.loads(output.read_text())
    [result] = document["results"]
    assert (result["scenario"], result["verdict"]) == ("toy", "PASS")
    assert result["tools"]["mltrail"]["samples"] == [0.003, 0.003]
    assert document["versions"]["mltrail"]


def test_main_exits_1_when_check_finds_a_missed_target(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    toy = _scenario(target=Target(0.001))
    monkeypatch.setattr(_cli, "all_scenarios", lambda: [toy])
    argv = [
        "--tools",
        "mltrail",
        "--repeat",
        "1",
        "--check",
        "--output",
        str(tmp_path / "r"),
    ]
    assert _cli.main(argv) == 1


def test_the_next_sample_starts_once_the_last_one_left_nothing_behind(
    tmp_path: Path,
) -> None:
    # Like mltrail's helper drawing PNGs after the script exits: a process in a
    # session of its own, which outlives the snippet by a second, then writes.
    marker = tmp_path / "leftover-ended"
    leftover = f"import time; time.sleep(1); open({str(marker)!r}, 'w').close()"
    code = (
        "import subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', {leftover!r}],\n"
        "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,\n"
        "                 start_new_session=True)\n"
        "report(1)\n"
    )
    row = run_scenario(
        _scenario(code={"mltrail": code}),
        3,
        tools=["mltrail"],
        pythons=PYTHONS,
        repeat=1,
        progress=lambda t: None,
    )
    assert row.median("mltrail") == 1
    assert marker.exists()  # waited for
    assert row.tools["mltrail"].samples[0].process_seconds < 1.0  # not counted


def test_waiting_for_leftovers_gives_up_after_its_timeout() -> None:
    assert _runner.wait_for_leftovers("no-such-sample", timeout=0.0)
    assert not _runner._processes_of("no-such-sample")
