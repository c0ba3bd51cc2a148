"""The deployable project as the checks see it: a folder laid out like the repository (infra/, Dockerfiles,
workflows), so each check runs on the real tree and on a deliberately broken copy of it."""

from __future__ import annotations

import ast
import inspect
import json
import re
import shutil
import textwrap
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from tests.infra.bicep import Module, Template, load_templates

REPO = Path(__file__).resolve().parents[2]
# What a broken copy needs: the deployment files (the code itself is always read from the repository)
COPIED = (
    "infra",
    "media_host/Dockerfile",
    ".github/workflows",
    "compose.yaml",
    "host.json",
    ".dockerignore",
    "scripts/deploy.sh",
    "scripts/logs.sh",
)


@dataclass
class Project:
    root: Path
    _instances: dict[str, Template] = field(default_factory=dict, repr=False)

    @property
    def infra(self) -> Path:
        return self.root / "infra"

    @cached_property
    def templates(self) -> dict[str, Template]:
        return load_templates(self.infra)

    @cached_property
    def main(self) -> Template:
        template = self.templates["main.bicep"]
        template.set_parameters(self.example_parameters)  # the example parameters file, as a user fills it
        template.modules_loader = self.instance
        return template

    @cached_property
    def events(self) -> Template:
        return self.templates["events.bicep"]

    @cached_property
    def example_parameters(self) -> dict[str, Any]:
        document = json.loads((self.infra / "main.parameters.example.json").read_text(encoding="utf-8"))
        return {name: entry["value"] for name, entry in document["parameters"].items()}

    def module(self, symbol: str) -> Module:
        return self.main.modules[symbol]

    def module_template(self, symbol: str) -> Template:
        return self.templates[self.module(symbol).path]

    def variable(self, name: str) -> Any:
        return self.main.value(self.main.variables[name]["value"])

    def module_param(self, symbol: str, name: str) -> Any:
        return self.main.value(self.module(symbol).params[name])

    def instance(self, symbol: str) -> Template:
        """A module's template with the parameter values main.bicep passes it (evaluated), so what the
        module builds from them (app settings, a container's environment, probes) can be read."""
        if symbol not in self._instances:
            module = self.module(symbol)
            template = Template(self.infra / module.path)
            template.given = {name: self.main.value(node) for name, node in module.params.items()}
            self._instances[symbol] = template
        return self._instances[symbol]

    def resource(self, symbol: str, resource_type: str) -> dict[str, Any]:
        """The evaluated body of the one resource of `resource_type` that module `symbol` declares."""
        template = self.instance(symbol)
        found = [
            r for r in template.resources.values() if r["type"] == resource_type and not r.get("existing")
        ]
        if len(found) != 1:
            raise LookupError(f"{self.module(symbol).path}: {len(found)} resources of type {resource_type}")
        return dict(template.value(template.resource_config(found[0])))

    def host_json(self) -> dict[str, Any]:
        return dict(json.loads((self.root / "host.json").read_text(encoding="utf-8")))


def copy_deployment(destination: Path) -> Project:
    """A copy of the repository's deployment files (templates, Dockerfiles, workflows, host.json)."""
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, destination / name)
        elif source.exists():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return Project(destination)


def broken_copy(destination: Path, path: str, old: str, new: str) -> Project:
    """A copy of the deployment files with `old` replaced by `new` once in `path` (which must contain it)."""
    copy_deployment(destination)
    target = destination / path
    text = target.read_text(encoding="utf-8")
    assert text.count(old) >= 1, f"{path} no longer contains {old!r}: update the broken copy"
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return Project(destination)


EVENT_TYPE = re.compile(r"^Microsoft\.[A-Za-z]+\.[A-Za-z]+$")


def handled_event_types(function: Any) -> set[str]:
    """The Event Grid event types a trigger function acts on: the event-type constants its body uses
    (`if not event_grid.accepts(event, INCOMING_CALL, ...)`, `if event.event_type != SMS_RECEIVED`)."""
    function = inspect.unwrap(function)
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    found: set[str] = set()
    for node in ast.walk(tree):
        value: Any = None
        if isinstance(node, ast.Name):
            value = function.__globals__.get(node.id)
        elif isinstance(node, ast.Constant):
            value = node.value
        if isinstance(value, str) and EVENT_TYPE.match(value):
            found.add(value)
    return found
