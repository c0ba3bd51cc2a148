"""In-memory exporters installed once for the test process (OpenTelemetry providers are set once), and
the process's logging as an entry point configures it (restored afterwards)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.telemetry.export import configure_telemetry
from shared.telemetry.logs import configure_logging


@dataclass
class Captured:
    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def points(self) -> dict[str, list[tuple[dict[str, object], object]]]:
        """metric name -> [(attributes, value: sum, or histogram count)] of every data point so far."""
        found: dict[str, list[tuple[dict[str, object], object]]] = {}
        data = self.metrics.get_metrics_data()
        for resource in data.resource_metrics if data else []:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    for point in metric.data.data_points:
                        value = getattr(point, "value", None)
                        if value is None:
                            value = getattr(point, "count", None)
                        found.setdefault(metric.name, []).append((dict(point.attributes or {}), value))
        return found


_CAPTURED: list[Captured] = []


@pytest.fixture(scope="session")
def telemetry() -> Captured:
    if not _CAPTURED:
        captured = Captured(InMemorySpanExporter(), InMemoryMetricReader())
        chosen = configure_telemetry(
            "callcenter-test", span_exporters=[captured.spans], metric_readers=[captured.metrics]
        )
        assert chosen == "in-memory"
        _CAPTURED.append(captured)
    return _CAPTURED[0]


@pytest.fixture
def entry_point_logging() -> Iterator[None]:
    """The logging `configure_process` sets up (call id, redaction), at DEBUG; the previous state after."""
    root = logging.getLogger()
    factory, level, handlers = logging.getLogRecordFactory(), root.level, list(root.handlers)
    levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    configure_logging("info")
    for chatty in ("httpx", "uvicorn.error"):  # the loggers that quote URLs (with their query strings)
        logging.getLogger(chatty).setLevel(logging.INFO)
    yield
    logging.setLogRecordFactory(factory)
    root.setLevel(level)
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for name, previous in levels.items():
        logging.getLogger(name).setLevel(previous)
