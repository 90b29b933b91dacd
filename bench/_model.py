"""What a scenario is: a name, sizes, a target for mltrail, and a snippet per tool."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field

TOOLS = ("mltrail", "mlflow")
TOOL_LABELS = {"mltrail": "mltrail", "mlflow": "MLflow"}

# Prepended to every snippet. It imports nothing that an import benchmark would
# notice (os, sys and time are loaded by the interpreter before any user code), and
# it imports json only when the result is reported, after the timing is done.
PRELUDE = '''\
import os
import sys
import time

SIZE = int(sys.argv[1])
TRACKING_URI = os.environ["BENCH_TRACKING_URI"]
SETUP_DIR = os.environ.get("BENCH_SETUP_DIR", "")


def report(value, **details):
    """Print the measurement for the runner; call it exactly once, last."""
    import json

    payload = {"value": float(value), "details": details}
    print("BENCH_RESULT " + json.dumps(payload), flush=True)
'''


@dataclass(frozen=True)
class Target:
    """mltrail's target: a limit on the median, at one size or at every size.

    ``limit`` is an upper bound when the scenario's unit is seconds and a lower bound
    when higher is better (a rate such as runs per second).
    """

    limit: float
    size: int | None = None

    def applies_to(self, size: int) -> bool:
        """Whether the target is stated for this size."""
        return self.size is None or self.size == size


@dataclass(frozen=True)
class Scenario:
    """One benchmark: the same work written for each tool.

    Each snippet in ``code`` runs in a fresh interpreter per repeat, after
    ``PRELUDE`` and ``preamble``; it warms up, times only the part that counts with
    ``time.perf_counter``, and calls ``report(value, **details)`` once. A numeric
    ``details["check"]`` must be equal across tools (such as the number of rows a
    search returned); the runner flags a mismatch.

    ``setup`` snippets run once per size and tool, in a directory that every repeat
    then reuses (``SETUP_DIR``), so expensive data is built once and its time is
    reported apart from the measurement.
    """

    name: str
    description: str
    code: Mapping[str, str]
    sizes: tuple[int, ...] = (1,)
    quick_sizes: tuple[int, ...] | None = None
    size_unit: str = ""
    unit: str = "s"
    higher_is_better: bool = False
    target: Target | None = None
    setup: Mapping[str, str] = field(default_factory=dict)
    preamble: str = ""
    max_repeat: Mapping[str, int] = field(default_factory=dict)
    discard_first: bool = False
    timeout: float = 1800.0

    def sizes_for(self, *, quick: bool) -> tuple[int, ...]:
        """Return the sizes to run: the quick ones under ``--quick``."""
        if quick and self.quick_sizes is not None:
            return self.quick_sizes
        return self.sizes

    def repeat_for(self, tool: str, repeat: int) -> int:
        """Return how many times ``tool`` runs: ``repeat``, capped per tool."""
        return max(1, min(repeat, self.max_repeat.get(tool, repeat)))

    def source(self, tool: str, *, setup: bool = False) -> str:
        """Return the full program of one tool's snippet (or its setup)."""
        body = (self.setup if setup else self.code)[tool]
        parts = [PRELUDE, textwrap.dedent(self.preamble), textwrap.dedent(body)]
        return "\n".join(part for part in parts if part.strip())

    def describe_size(self, size: int) -> str:
        """Return a size for the table, such as ``10,000 calls``, or ``-``."""
        return f"{size:,} {self.size_unit}" if self.size_unit else "-"
