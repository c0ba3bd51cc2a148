"""Offline checks that tie the Bicep templates and the Dockerfile to the code. Each returns a list of
problems (empty: the check passes), so a test can run it on the repository and on a broken copy."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from unittest import mock

from lark.exceptions import LarkError

from local.functions_host import RegisteredFunction
from tests.infra.bicep import Template, parse
from tests.infra.project import Project, handled_event_types

EVENT_SUBSCRIPTION = "Microsoft.EventGrid/systemTopics/eventSubscriptions"
FUNCTION_PATH = re.compile(r"/functions/([^/]+)$")
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"  # what the tests (and the code) run on
INCOMING_CALL_MAX_TTL_MIN = 5  # a call not answered within seconds is gone: a late retry is useless


def parse_problems(project: Project) -> list[str]:
    """Every Bicep file parses, and every module a template uses exists."""
    paths = sorted(project.infra.rglob("*.bicep"))
    if not paths:
        return [f"{project.infra}: no Bicep file"]
    problems: list[str] = []
    for path in paths:
        relative = path.relative_to(project.infra)
        try:
            tree = parse(path)
        except LarkError as exc:
            problems.append(f"{relative}: does not parse: {str(exc).splitlines()[0]}")
            continue
        for name, module in (tree.get("modules") or {}).items():
            target = path.parent / module["detail"]["path"]
            if not target.is_file():
                problems.append(
                    f"{relative}: module {name} uses {module['detail']['path']}, which is missing"
                )
    return problems


def event_grid_problems(project: Project, functions: Mapping[str, RegisteredFunction]) -> list[str]:
    """Each subscription delivers the event type its destination function handles, in the Event Grid
    schema, to a function that function_app registers; every Event Grid function has a subscription."""
    events = project.events
    events.set_parameters({"botPhoneNumber": project.example_parameters["botPhoneNumber"]})
    digits = str(project.example_parameters["botPhoneNumber"]).lstrip("+")
    problems: list[str] = []
    delivered: set[str] = set()
    for symbol, resource in events.resources.items():
        if resource["type"] != EVENT_SUBSCRIPTION:
            continue
        config = events.resource_config(resource)
        where = f"events.bicep {symbol}"
        properties = config["properties"]
        destination = properties.get("destination") or {}
        if destination.get("endpointType") != "AzureFunction":
            problems.append(f"{where}: the destination is not an Azure function")
            continue
        match = FUNCTION_PATH.search(str(events.value(destination["properties"]["resourceId"])))
        if match is None:
            problems.append(f"{where}: the destination is not <function app>/functions/<name>")
            continue
        name = match.group(1)
        delivered.add(name)
        function = functions.get(name)
        if function is None:
            problems.append(f"{where}: /functions/{name} is not a function that function_app registers")
            continue
        if function.trigger != "eventGridTrigger":
            problems.append(f"{where}: {name} is a {function.trigger}, not an Event Grid trigger")
            continue
        event_types = set(events.value(properties.get("filter", {}).get("includedEventTypes") or []))
        handled = handled_event_types(function.function)
        if event_types != handled:
            problems.append(
                f"{where}: delivers {sorted(event_types)} to {name}, which handles {sorted(handled)}"
            )
        if properties.get("eventDeliverySchema") != "EventGridSchema":
            problems.append(f"{where}: the delivery schema must be EventGridSchema (the triggers parse it)")
        problems += _delivery_problems(where, events, properties, handled, digits)
    for name, function in functions.items():
        if function.trigger == "eventGridTrigger" and name not in delivered:
            problems.append(f"events.bicep: no subscription delivers to {name} (function_app registers it)")
    return problems


def _delivery_problems(
    where: str, events: Template, properties: dict[str, Any], handled: set[str], digits: str
) -> list[str]:
    problems: list[str] = []
    retry = events.value(properties.get("retryPolicy") or {})
    filters = events.value(properties.get("filter", {}).get("advancedFilters") or [])
    on_number = any(digits in str(value) for item in filters for value in item.get("values", []))
    if any(kind.endswith(("IncomingCall", "SMSReceived")) for kind in handled) and not on_number:
        problems.append(f"{where}: no filter on the bot's number (another number's calls would be answered)")
    if any(kind.endswith("IncomingCall") for kind in handled):
        ttl = retry.get("eventTimeToLiveInMinutes")
        if not isinstance(ttl, int) or ttl > INCOMING_CALL_MAX_TTL_MIN:
            problems.append(f"{where}: IncomingCall needs a short time to live (<= 5 min), got {ttl}")
    if any(kind.endswith("RecordingFileStatusUpdated") for kind in handled) and not (
        properties.get("deadLetterWithResourceIdentity") or properties.get("deadLetterDestination")
    ):
        problems.append(f"{where}: recording events need dead-lettering (a lost event is a lost recording)")
    return problems


def media_port_default() -> int:
    """The port `python -m media_host` listens on by default, read from its argument parser."""
    from media_host import __main__ as media_main

    class Parsed(Exception):
        def __init__(self, parser: argparse.ArgumentParser) -> None:
            self.parser = parser

    def capture(self: argparse.ArgumentParser, *_args: Any, **_kwargs: Any) -> Any:
        raise Parsed(self)

    with mock.patch.object(argparse.ArgumentParser, "parse_args", capture):
        try:
            media_main.main()
        except Parsed as parsed:
            return int(parsed.parser.get_default("port"))
    raise AssertionError("python -m media_host parsed no arguments")


def media_health_routes() -> dict[str, str]:
    """The media host's HTTP routes by endpoint name (liveness, readiness), from the app itself."""
    from starlette.routing import Route

    from media_host.app import create_media_app
    from shared.settings import Settings

    app = create_media_app(Settings(), engines=lambda _services: None)  # type: ignore[arg-type,return-value]
    return {route.name: route.path for route in app.routes if isinstance(route, Route)}


def dockerfile_command(dockerfile: Path) -> list[str]:
    """The exec-form CMD of a Dockerfile (continuation lines joined)."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    commands = [line.split(None, 1)[1] for line in text.splitlines() if line.startswith("CMD ")]
    if not commands:
        return []
    return [str(part) for part in json.loads(commands[-1])]


def names_problems(project: Project, functions: Mapping[str, RegisteredFunction]) -> list[str]:
    """Names, ports and paths the templates share with the code are the code's."""
    from shared.settings import BlobSettings, CosmosSettings, JobsSettings
    from shared.store import cosmos as cosmos_store

    problems: list[str] = []

    def same(what: str, template_value: Any, code_value: Any) -> None:
        if template_value != code_value:
            problems.append(f"{what}: the templates say {template_value!r}, the code {code_value!r}")

    same("Cosmos database", project.module_param("cosmos", "databaseName"), CosmosSettings().database)
    same("Cosmos container", project.module_param("cosmos", "containerName"), CosmosSettings().container)
    same(
        "Cosmos partition key",
        project.module_param("cosmos", "partitionKeyPath"),
        cosmos_store.PARTITION_KEY_PATH,
    )
    same(
        "Cosmos composite indexes",
        project.module_param("cosmos", "compositeIndexes"),
        cosmos_store.COMPOSITE_INDEXES,
    )
    queue_triggers = [f for f in functions.values() if f.trigger == "queueTrigger"]
    for function in queue_triggers:
        same(
            f"queue of {function.name}",
            project.module_param("storage", "postCallQueueName"),
            function.binding["queueName"],
        )
    same("post-call queue", project.module_param("storage", "postCallQueueName"), JobsSettings().queue_name)
    same(
        "recordings container",
        project.module_param("storage", "recordingsContainerName"),
        BlobSettings().container,
    )

    problems += _media_host_problems(project, same)
    site = project.resource("functionApp", "Microsoft.Web/sites")["properties"]["functionAppConfig"]
    same("function app runtime", site["runtime"], {"name": "python", "version": PYTHON})
    warm = {str(group["name"]) for group in site["scaleAndConcurrency"].get("alwaysReady") or []}
    for group in sorted(warm):
        name = group.removeprefix("function:")
        if group.startswith("function:") and name not in functions:
            problems.append(f"always-ready function {name} is not a function that function_app registers")
    incoming = [n for n, f in functions.items() if any(t.endswith("IncomingCall") for t in _handled(f))]
    for name in incoming:
        if f"function:{name}" not in warm:
            problems.append(
                f"{name} answers calls: it must be always ready (no cold start on a ringing call)"
            )
    if "http" not in warm:
        problems.append("the HTTP group must be always ready (ACS callbacks wait for it)")
    return problems


def _media_host_problems(project: Project, same: Callable[[str, Any, Any], None]) -> list[str]:
    """The container app's port and probes, and the image's command, against the media host's code."""
    problems: list[str] = []
    port = media_port_default()
    template = project.resource("mediaHost", "Microsoft.App/containerApps")["properties"]
    same("media host port", template["configuration"]["ingress"]["targetPort"], port)
    routes = media_health_routes()
    probes = {probe["type"]: probe["httpGet"] for probe in template["template"]["containers"][0]["probes"]}
    same("liveness probe", probes.get("Liveness", {}).get("path"), routes.get("liveness"))
    same("readiness probe", probes.get("Readiness", {}).get("path"), routes.get("readiness"))
    for kind, probe in probes.items():
        same(f"{kind} probe port", probe.get("port"), port)
    dockerfile = project.root / "media_host" / "Dockerfile"
    command = dockerfile_command(dockerfile)
    if command[:3] != ["python", "-m", "media_host"]:
        problems.append(f"media_host/Dockerfile: CMD must run python -m media_host, got {command}")
    options = dict(zip(command[3::2], command[4::2], strict=False))
    same("Dockerfile --host", options.get("--host"), "0.0.0.0")
    same("Dockerfile --port", options.get("--port"), str(port))
    base = re.search(r"^FROM python:(\d+\.\d+)", dockerfile.read_text(encoding="utf-8"), re.MULTILINE)
    same("media host image Python", base.group(1) if base else None, PYTHON)
    return problems


def flags_problems(project: Project) -> list[str]:
    """The feature flags App Configuration gets are key-values the code reads: `flags:<name>` of a
    FeatureFlags field, with a value it accepts."""
    from shared.flags.appconfig import DEFAULT_KEY_PREFIX
    from shared.flags.base import FeatureFlags, FlagsError

    template = project.instance("appConfig")
    entries: list[Any] = []
    for resource in template.resources.values():
        if resource["type"] == "Microsoft.AppConfiguration/configurationStores/keyValues":
            value = template.value(resource["config"])
            entries += value if isinstance(value, list) else [value]
    raw: dict[str, object] = {}
    problems: list[str] = []
    for entry in entries:
        key = str(entry.get("name"))
        if not key.startswith(DEFAULT_KEY_PREFIX):
            problems.append(
                f"App Configuration key {key!r} is not read (flags are {DEFAULT_KEY_PREFIX}<name>)"
            )
            continue
        raw[key.removeprefix(DEFAULT_KEY_PREFIX)] = (entry.get("properties") or {}).get("value")
    if not raw:
        problems.append("App Configuration gets no feature flag")
    problems += [
        f"feature flag {name} is not one the code knows"
        for name in sorted(set(raw) - set(FeatureFlags.model_fields))
    ]
    try:
        FeatureFlags.from_raw(raw)
    except FlagsError as exc:
        problems.append(f"feature flags: {exc}")
    return problems


def _handled(function: RegisteredFunction) -> set[str]:
    return handled_event_types(function.function) if function.trigger == "eventGridTrigger" else set()
