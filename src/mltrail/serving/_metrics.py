"""``GET /metrics``: the scoring server's Prometheus metrics.

Requests by status, errors by MLflow error code, a latency histogram, rows
predicted, validation findings by column and kind, and batch sizes. With several
workers, set ``PROMETHEUS_MULTIPROC_DIR`` (``mltrail models serve`` does) and every
worker's counts are summed.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mltrail.serving._profile import Finding

__all__ = ["CONTENT_TYPE_LATEST", "ServingMetrics"]

LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    10.0,
)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class ServingMetrics:
    """The metrics of one scoring app, in a registry of its own."""

    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "mltrail_serving_requests",
            "Scoring requests, by path and HTTP status.",
            ["path", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "mltrail_serving_errors",
            "Scoring requests answered with an error, by MLflow error code.",
            ["error_code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "mltrail_serving_request_latency_seconds",
            "Time from receiving a /invocations request to its answer.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rows = Counter(
            "mltrail_serving_rows_predicted",
            "Rows predicted.",
            registry=self.registry,
        )
        self.findings = Counter(
            "mltrail_serving_validation_findings",
            "Validation findings against the training profile, by column and kind.",
            ["column", "kind"],
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "mltrail_serving_batch_rows",
            "Rows per predict call when micro-batching is on.",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )

    def record_findings(self, findings: Iterable[Finding]) -> None:
        """Count each finding under its column and kind."""
        for finding in findings:
            self.findings.labels(finding.column, finding.kind).inc(finding.count)

    def render(self) -> bytes:
        """Return the metrics in Prometheus' text format (summed over workers)."""
        if self.multiprocess:
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # prometheus_client leaves it untyped
            return bytes(generate_latest(registry))
        return bytes(generate_latest(self.registry))
