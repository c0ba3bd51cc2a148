"""Where telemetry goes, chosen once per process from the environment:

- `APPLICATIONINSIGHTS_CONNECTION_STRING`: Azure Monitor (the azure-monitor-opentelemetry distro):
  traces, metrics and logs to Application Insights;
- else `OTEL_EXPORTER_OTLP_ENDPOINT`: OTLP over HTTP (any collector; the standard OTEL_* variables);
- else nothing: the OpenTelemetry API stays a no-op.

Spans pass a `Redactor` before any exporter (query-string secrets in attributes and events), and the
distro's framework instrumentations are off: the spans are the project's own, named in `names`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.util.types import Attributes

from shared.telemetry.redact import needs_redaction, redact

log = logging.getLogger(__name__)

AZURE_MONITOR = "APPLICATIONINSIGHTS_CONNECTION_STRING"
OTLP = "OTEL_EXPORTER_OTLP_ENDPOINT"
FRAMEWORK_INSTRUMENTATIONS = (
    "azure_sdk",
    "django",
    "fastapi",
    "flask",
    "psycopg2",
    "requests",
    "urllib",
    "urllib3",
)
_state: dict[str, str] = {}


def _scrub(holder: object) -> None:
    """Mask secrets in a span's (or event's) attributes in place: the SDK freezes them at the end of
    the span (its public `attributes` is a read-only view), and the exporters read this same mapping
    afterwards."""
    attributes: Attributes = getattr(holder, "_attributes", None)
    values = getattr(attributes, "_dict", None)
    if not isinstance(values, dict):
        return
    for key, value in list(values.items()):
        if isinstance(value, str) and needs_redaction(value):
            values[key] = redact(value)


class Redactor(SpanProcessor):
    """Runs before the exporting processors: no secret query parameter leaves the process in a span."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        _scrub(span)

    def on_end(self, span: ReadableSpan) -> None:
        _scrub(span)
        for event in span.events:
            _scrub(event)


def exporter_in_use() -> str:
    """`azure-monitor`, `otlp`, `in-memory` or `none` (what configure_telemetry chose)."""
    return _state.get("exporter", "none")


def configure_telemetry(
    service: str,
    *,
    span_exporters: Sequence[SpanExporter] = (),
    metric_readers: Sequence[MetricReader] = (),
) -> str:
    """Install this process's telemetry once; returns what was chosen. `span_exporters` and
    `metric_readers` (tests: in-memory ones) replace the environment's choice."""
    explicit = bool(span_exporters or metric_readers)
    if "exporter" in _state and not (explicit and _state["exporter"] == "none"):
        return _state["exporter"]  # once per process (the OpenTelemetry providers are set once)
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or service})
    if explicit:
        _install_sdk(resource, [SimpleSpanProcessor(e) for e in span_exporters], list(metric_readers))
        chosen = "in-memory"
    elif os.environ.get(AZURE_MONITOR):
        _azure_monitor(resource)
        chosen = "azure-monitor"
    elif os.environ.get(OTLP):
        _otlp(resource)
        chosen = "otlp"
    else:
        chosen = "none"
    _state["exporter"] = chosen
    if chosen != "none":
        log.info("telemetry: exporting to %s as %s", chosen, service)
    return chosen


def _install_sdk(resource: Resource, processors: list[SpanProcessor], readers: list[MetricReader]) -> None:
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(Redactor())
    for processor in processors:
        tracer_provider.add_span_processor(processor)
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=readers))


def _azure_monitor(resource: Resource) -> None:
    from azure.monitor.opentelemetry import configure_azure_monitor  # noqa: PLC0415 (only when exporting)

    options: dict[str, Any] = {name: {"enabled": False} for name in FRAMEWORK_INSTRUMENTATIONS}
    sampling: dict[str, Any] = {}
    if not os.environ.get("OTEL_TRACES_SAMPLER"):  # the distro would keep ~5 traces a second: keep every call
        sampling["sampling_ratio"] = 1.0
    configure_azure_monitor(
        connection_string=os.environ[AZURE_MONITOR],
        resource=resource,
        span_processors=[Redactor()],
        instrumentation_options=options,
        logger_name="",  # the root logger: every module's records (call id attached, secrets masked)
        **sampling,
    )


def _otlp(resource: Resource) -> None:
    # only when exporting: the OTLP packages are not loaded otherwise
    from opentelemetry._logs import set_logger_provider  # noqa: PLC0415
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter  # noqa: PLC0415
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter  # noqa: PLC0415
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: PLC0415
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler  # noqa: PLC0415
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor  # noqa: PLC0415
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader  # noqa: PLC0415
    from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415

    _install_sdk(
        resource,
        [BatchSpanProcessor(OTLPSpanExporter())],
        [PeriodicExportingMetricReader(OTLPMetricExporter())],
    )
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
    set_logger_provider(logger_provider)
    logging.getLogger().addHandler(LoggingHandler(logger_provider=logger_provider))
