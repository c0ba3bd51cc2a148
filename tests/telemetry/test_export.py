"""What leaves a process, chosen from its environment, checked on the wire: a loopback OTLP/HTTP collector
(protobuf, as the OTLP exporter sends it) and a loopback Application Insights ingestion endpoint (the
`/v2.1/track` JSON the Azure Monitor exporter posts). Each case runs in a fresh interpreter, as an entry
point does (the OpenTelemetry providers are set once per process)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from shared.telemetry import names

ROOT = Path(__file__).resolve().parents[2]
CALL_ID = "5f0c2a4e-0000-4000-8000-000000000001"
EMIT = f"""
import logging, sys
from opentelemetry import trace
from shared.telemetry.setup import configure_process
from shared.telemetry import names, record, spans
chosen = configure_process("callcenter-test", log_level="info")
print(chosen)
with spans.part(names.SPAN_POST_CALL, "{CALL_ID}", None, {{"url.query": "secret=s3cret&pk=%2B33612345678"}}):
    logging.getLogger("tests.emit").warning("post-call step for /api/call/events/1?secret=s3cret")
    with record.sms("summary"):
        pass
record.tokens("fast:model", 120, 30)
provider = trace.get_tracer_provider()
getattr(provider, "force_flush", lambda: None)()
from opentelemetry import metrics
from opentelemetry._logs import get_logger_provider
for provider in (get_logger_provider(), metrics.get_meter_provider()):
    getattr(provider, "force_flush", lambda: None)()
sys.stdout.flush()
"""


class Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.server.received.append((self.path, body))  # type: ignore[attr-defined]
        if self.path.endswith("/track"):
            count = (
                len([line for line in body.splitlines() if line.strip()])
                if body[:1] != b"["
                else len(json.loads(body))
            )
            answer = json.dumps({"itemsReceived": count, "itemsAccepted": count, "errors": []}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
        else:
            answer = b""
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def collector() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "APPLICATIONINSIGHTS_"))}
    return subprocess.run(
        [sys.executable, "-c", EMIT],
        cwd=ROOT,
        env={**clean, "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_nothing_is_exported_without_a_destination(collector: ThreadingHTTPServer) -> None:
    done = _run({})
    assert done.stdout.split() == ["none"]
    assert collector.received == []  # type: ignore[attr-defined]


def test_otlp_gets_the_spans_with_their_secrets_masked(collector: ThreadingHTTPServer) -> None:
    port = collector.server_address[1]
    done = _run({"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}"})
    assert done.stdout.split()[0] == "otlp"
    traces = [body for path, body in collector.received if path == "/v1/traces"]  # type: ignore[attr-defined]
    assert traces, [path for path, _ in collector.received]  # type: ignore[attr-defined]
    request = ExportTraceServiceRequest()
    request.ParseFromString(traces[0])
    found = {
        span.name: {a.key: a.value.string_value or a.value.int_value for a in span.attributes}
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    }
    assert set(found) >= {names.SPAN_POST_CALL, names.SPAN_SMS}
    assert found[names.SPAN_POST_CALL][names.ATTR_CALL_ID] == CALL_ID
    assert found[names.SPAN_POST_CALL]["url.query"] == "secret=***&pk=***"
    assert "/v1/metrics" in {path for path, _ in collector.received}  # type: ignore[attr-defined]
    assert "/v1/logs" in {path for path, _ in collector.received}  # type: ignore[attr-defined]
    assert b"s3cret" not in b"".join(body for _, body in collector.received)  # type: ignore[attr-defined]


def test_azure_monitor_gets_spans_metrics_and_logs_without_secrets(collector: ThreadingHTTPServer) -> None:
    port = collector.server_address[1]
    connection = (
        f"InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:{port}/"
    )
    done = _run({"APPLICATIONINSIGHTS_CONNECTION_STRING": connection})
    assert done.stdout.split()[0] == "azure-monitor"
    posted = [body for path, body in collector.received if path.endswith("/track")]  # type: ignore[attr-defined]
    items: list[dict[str, Any]] = []
    for body in posted:
        text = body.decode()
        items += (
            json.loads(text)
            if text.lstrip().startswith("[")
            else [json.loads(line) for line in text.splitlines() if line.strip()]
        )
    kinds = {item["data"]["baseType"] for item in items}
    assert {"RemoteDependencyData", "MessageData", "MetricData"} <= kinds, kinds
    dependency = next(i for i in items if i["data"]["baseData"].get("name") == names.SPAN_POST_CALL)
    properties = dependency["data"]["baseData"]["properties"]
    assert (
        properties[names.ATTR_CALL_ID] == CALL_ID
    )  # (url.* attributes are fields of HTTP dependencies only)
    assert dependency.get("sampleRate", 100.0) == 100.0  # every call is traced (no rate-limited sampling)
    message = next(
        i
        for i in items
        if i["data"]["baseType"] == "MessageData" and "post-call step" in i["data"]["baseData"]["message"]
    )
    assert message["data"]["baseData"]["properties"]["call_id"] == CALL_ID
    assert "secret=***" in message["data"]["baseData"]["message"]
    assert all(b"s3cret" not in body and b"33612345678" not in body for body in posted)
