"""Telemetry of the call center: spans, metrics and logs (names in `names`, the only home of them).

    from shared.telemetry import record, spans
    with spans.call_part(names.SPAN_ANSWER, call): ...

`export.configure_telemetry` picks the exporter once per process; `logs.configure_logging` sets up the
log lines. Both are called by every entry point (`shared.telemetry.setup`).
"""
