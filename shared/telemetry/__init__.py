"""Telemetry of the call center: spans, metrics and logs (names in `names`, the only home of them).

    from shared.telemetry import names, record, spans

    with spans.call_part(names.SPAN_ANSWER, call):  # one part of a call, linked to its first span
        ...
    record.barge_in(latency_ms)  # one event: its span, metric and log line

`export.configure_telemetry` picks the exporter once per process; `logs.configure_logging` sets up the
log lines. Both are called by every entry point (`shared.telemetry.setup`).
"""
