"""Running scenarios: a fresh interpreter per repeat, tools interleaved, medians."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench._model import TOOLS, Scenario

RESULT_MARKER = "BENCH_RESULT "
DATABASE_FILES = {"mltrail": "mltrail.db", "mlflow": "mlflow.db"}
_STDERR_TAIL_LINES = 15
# Each sample's processes carry BENCH_SAMPLE=<id> in their environment: the
# runner waits for the ones a sample leaves behind (mltrail's helper drawing the
# PNGs of the runs it logged) before it starts the next sample, which they would
# slow down, whichever tool that one is.
SAMPLE_VARIABLE = "BENCH_SAMPLE"
LEFTOVER_TIMEOUT = 120.0


class SnippetError(RuntimeError):
    """A snippet exited with an error or did not report a result."""


@dataclass
class Sample:
    """One run of a snippet: its value, details, and the whole process's wall time."""

    value: float
    details: dict[str, object]
    process_seconds: float


@dataclass
class ToolResult:
    """Every sample of one tool for one scenario and size."""

    samples: list[Sample] = field(default_factory=list)
    setup_seconds: float | None = None
    error: str | None = None

    @property
    def median(self) -> float | None:
        """The median value, or None when nothing was measured."""
        if not self.samples:
            return None
        return statistics.median(sample.value for sample in self.samples)

    @property
    def details(self) -> dict[str, object]:
        """The details of the samples: numbers by median, the rest from the last one."""
        merged: dict[str, object] = {}
        for key in {key for sample in self.samples for key in sample.details}:
            values = [s.details[key] for s in self.samples if key in s.details]
            numbers = [
                v
                for v in values
                if isinstance(v, int | float) and not isinstance(v, bool)
            ]
            merged[key] = (
                statistics.median(numbers)
                if len(numbers) == len(values)
                else values[-1]
            )
        return merged


@dataclass
class Row:
    """The results of one scenario at one size, per tool."""

    scenario: Scenario
    size: int
    tools: dict[str, ToolResult] = field(default_factory=dict)

    def median(self, tool: str) -> float | None:
        """The median of ``tool``, or None when it did not run or failed."""
        result = self.tools.get(tool)
        return None if result is None or result.error else result.median

    @property
    def speedup(self) -> float | None:
        """How many times faster mltrail is: MLflow's time over mltrail's."""
        ours, theirs = self.median("mltrail"), self.median("mlflow")
        if not ours or not theirs:
            return None
        return ours / theirs if self.scenario.higher_is_better else theirs / ours

    @property
    def verdict(self) -> str:
        """``PASS`` or ``FAIL`` against mltrail's target, else ``n/a`` or ``-``."""
        target = self.scenario.target
        if target is None:
            return "-"
        ours = self.median("mltrail")
        if ours is None or not target.applies_to(self.size):
            return "n/a"
        passed = (
            ours >= target.limit
            if self.scenario.higher_is_better
            else ours <= target.limit
        )
        return "PASS" if passed else "FAIL"

    @property
    def check_mismatch(self) -> bool:
        """Whether the tools disagree on ``details["check"]`` (such as a row count)."""
        checks = {
            json.dumps(_whole_numbers(result.details["check"]))
            for result in self.tools.values()
            if not result.error and "check" in result.details
        }
        return len(checks) > 1


def _whole_numbers(value: object) -> object:
    """``value`` with whole floats as ints: a median of counts may come out as 10.0."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_whole_numbers(item) for item in value]
    return value


Progress = Callable[[str], None]


def run_scenario(
    scenario: Scenario,
    size: int,
    *,
    tools: Sequence[str],
    pythons: Mapping[str, Path | str],
    repeat: int,
    progress: Progress,
    keep: bool = False,
) -> Row:
    """Measure one scenario at one size for each tool; repeats are interleaved."""
    row = Row(scenario, size)
    chosen = [tool for tool in TOOLS if tool in tools and tool in scenario.code]
    setup_dirs: dict[str, Path] = {}
    try:
        for tool in chosen:
            row.tools[tool] = ToolResult()
            if scenario.setup:
                setup_dirs[tool] = Path(tempfile.mkdtemp(prefix=f"bench-{tool}-setup-"))
                progress(f"{scenario.name} [{size:,}] {tool}: setup")
                try:
                    sample = _run_once(
                        scenario,
                        tool,
                        size,
                        pythons[tool],
                        setup_dirs[tool],
                        setup=True,
                    )
                except SnippetError as exc:
                    row.tools[tool].error = f"setup: {exc}"
                    continue
                row.tools[tool].setup_seconds = sample.value
        counts = {tool: scenario.repeat_for(tool, repeat) for tool in chosen}
        warmups = 1 if scenario.discard_first else 0
        for index in range(warmups + max(counts.values(), default=0)):
            for tool in chosen:
                result = row.tools[tool]
                if result.error or index >= warmups + counts[tool]:
                    continue
                label = (
                    "warm-up"
                    if index < warmups
                    else f"{index - warmups + 1}/{counts[tool]}"
                )
                progress(f"{scenario.name} [{size:,}] {tool}: {label}")
                try:
                    sample = _measure(
                        scenario, tool, size, pythons[tool], setup_dirs, keep
                    )
                except SnippetError as exc:
                    result.error = str(exc)
                    continue
                if index >= warmups:
                    result.samples.append(sample)
    finally:
        if not keep:
            for directory in setup_dirs.values():
                shutil.rmtree(directory, ignore_errors=True)
    return row


def _measure(
    scenario: Scenario,
    tool: str,
    size: int,
    python: Path | str,
    setup_dirs: Mapping[str, Path],
    keep: bool,
) -> Sample:
    """Run one repeat, in the setup directory or in a fresh one."""
    if tool in setup_dirs:
        return _run_once(scenario, tool, size, python, setup_dirs[tool], setup=False)
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{tool}-"))
    try:
        return _run_once(scenario, tool, size, python, workdir, setup=False)
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def tool_environment(
    tool: str, workdir: Path, *, setup_dir: Path | None
) -> dict[str, str]:
    """Return a snippet's environment: its tool's store in ``workdir``, nothing else.

    Both tools' variables are removed first (mltrail reads ``MLFLOW_TRACKING_URI``
    too), and ``PYTHONDONTWRITEBYTECODE``: a scenario's warm-up run compiles its
    script as a user's second run finds it. MLflow's telemetry is off: without a
    network it could only add noise.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MLTRAIL_", "MLFLOW_"))
        and key not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")
    }
    uri = f"sqlite:///{workdir / DATABASE_FILES[tool]}"
    env["BENCH_TRACKING_URI"] = uri
    if setup_dir is not None:
        env["BENCH_SETUP_DIR"] = str(setup_dir)
    if tool == "mltrail":
        env["MLTRAIL_TRACKING_URI"] = uri
        env["MLTRAIL_ARTIFACT_ROOT"] = str(workdir / "mltrail-artifacts")
    else:
        env["MLFLOW_TRACKING_URI"] = uri
        env["MLFLOW_DISABLE_TELEMETRY"] = "true"
        env["DO_NOT_TRACK"] = "true"
    return env


def _run_once(
    scenario: Scenario,
    tool: str,
    size: int,
    python: Path | str,
    workdir: Path,
    *,
    setup: bool,
) -> Sample:
    """Run a snippet in a fresh interpreter with ``workdir`` as its directory."""
    with tempfile.TemporaryDirectory(prefix="bench-script-") as scripts:
        script = Path(scripts) / f"{scenario.name}_{tool}.py"
        script.write_text(scenario.source(tool, setup=setup))
        env = tool_environment(
            tool, workdir, setup_dir=workdir if scenario.setup else None
        )
        env[SAMPLE_VARIABLE] = sample = os.urandom(8).hex()
        started = time.perf_counter()
        try:
            completed = subprocess.run(
                [str(python), str(script), str(size)],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                timeout=scenario.timeout,
                check=False,
            )
            elapsed = time.perf_counter() - started
        except subprocess.TimeoutExpired as exc:
            raise SnippetError(f"timed out after {scenario.timeout:.0f} s") from exc
        finally:
            wait_for_leftovers(sample)
    return parse_result(
        completed.stdout, completed.stderr, completed.returncode, elapsed
    )


def wait_for_leftovers(sample: str, timeout: float = LEFTOVER_TIMEOUT) -> bool:
    """Wait until no process of ``sample`` is left; False if some still are.

    A process is the sample's when its environment holds ``BENCH_SAMPLE=sample``
    (processes of other users, which cannot be read, are not).
    """
    deadline = time.monotonic() + timeout
    while _processes_of(sample):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _processes_of(sample: str) -> list[int]:
    marker = f"{SAMPLE_VARIABLE}={sample}".encode()
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as file:
                environment = file.read().split(b"\0")
        except OSError:  # gone, or not ours to read
            continue
        if marker in environment:
            found.append(int(entry))
    return found


def parse_result(stdout: str, stderr: str, returncode: int, elapsed: float) -> Sample:
    """Return the sample a snippet reported, or raise SnippetError with its stderr."""
    lines = [line for line in stdout.splitlines() if line.startswith(RESULT_MARKER)]
    if returncode != 0 or not lines:
        tail = "\n".join(stderr.strip().splitlines()[-_STDERR_TAIL_LINES:])
        reason = f"exit status {returncode}" if returncode else "no result reported"
        raise SnippetError(f"{reason}\n{tail}".rstrip())
    payload = json.loads(lines[-1].removeprefix(RESULT_MARKER))
    return Sample(float(payload["value"]), dict(payload.get("details", {})), elapsed)
