"""Reading the Bicep templates offline: pycep-parser's syntax tree plus a small evaluator.

The Bicep CLI cannot run here, so the checks read the templates through pycep-parser and evaluate the
parts they need: literals, objects and arrays, `union`, `string`, `+`, variables, parameter defaults and
string interpolation. Anything only Azure knows at deployment time (a module's output, a resource
property, `uniqueString`) evaluates to the placeholder `DUMMY`, which is a valid host-name label, so a
setting such as `'https://${functionAppName}.azurewebsites.net'` becomes a real-looking https URL.

pycep writes an identifier (a variable or parameter reference) and a one-word string literal the same
way; a bare string that names a variable or parameter of the file is read as a reference.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pycep import BicepParser

DUMMY = "dummy"
_INTERPOLATION = re.compile(r"\$\{([^}]*)\}")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$")


def parse(path: Path) -> dict[str, Any]:
    """The pycep syntax tree of one Bicep file (raises lark's ParseError on a syntax error)."""
    return copy.deepcopy(_parse_text(path.read_text(encoding="utf-8")))


@functools.lru_cache(maxsize=256)
def _parse_text(text: str) -> dict[str, Any]:
    """Parsing is slow (a second per file on a loaded machine) and a broken copy changes one file only."""
    return dict(BicepParser().parse(text=text))


def accessor_path(node: Any) -> list[str] | None:
    """`a.b.c` as ['a', 'b', 'c'] (pycep nests property accessors to the right), else None."""
    if isinstance(node, str):
        return node.split(".") if _PATH.match(node) else None
    if not isinstance(node, dict) or "operator" not in node:
        return None
    operator = node["operator"]
    if operator.get("type") != "property_accessor":
        return None
    head = accessor_path(operator["operands"]["operand_1"])
    tail = accessor_path(operator["operands"]["operand_2"])
    return None if head is None or tail is None else head + tail


@dataclass
class Template:
    """One parsed Bicep file and an evaluator over its variables and parameter defaults."""

    path: Path
    tree: dict[str, Any] = field(init=False)
    given: dict[str, Any] = field(default_factory=dict)  # parameter values a caller passed, evaluated
    _scope: list[dict[str, Any]] = field(default_factory=list)  # loop variables (`for item in ...`)
    modules_loader: Callable[[str], Template] | None = None  # a module's template by symbol

    def __post_init__(self) -> None:
        self.tree = parse(self.path)

    @property
    def variables(self) -> dict[str, Any]:
        return dict(self.tree.get("variables") or {})

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.tree.get("parameters") or {})

    @property
    def resources(self) -> dict[str, Any]:
        return dict(self.tree.get("resources") or {})

    @cached_property
    def modules(self) -> dict[str, Module]:
        found: dict[str, Module] = {}
        for name, module in (self.tree.get("modules") or {}).items():
            config = module["config"]
            condition = config.get("condition")
            if condition is not None:  # `module x '...' = if (...) {...}`
                config = config["config"]
            found[name] = Module(name, module["detail"]["path"], dict(config.get("params") or {}), condition)
        return found

    def resource_config(self, resource: dict[str, Any]) -> dict[str, Any]:
        config = dict(resource["config"])
        return dict(config["config"]) if "condition" in config and "config" in config else config

    def set_parameters(self, values: dict[str, Any]) -> None:
        """Evaluate with these parameter values (a parameters file) instead of the defaults."""
        for name, value in values.items():
            if name not in self.parameters:
                raise KeyError(f"{self.path.name} has no parameter {name!r}")
            self.tree["parameters"][name]["default"] = value

    def parameter_default(self, name: str) -> Any:
        if name in self.given:
            return self.given[name]
        default = self.parameters[name].get("default")
        return DUMMY if default is None else self.value(default)

    def decorator(self, kind: str, name: str) -> Any:
        """The argument of a parameter's decorator (`minValue`, `maxValue`, ...) or None."""
        for decorator in self.parameters[name].get("decorators") or []:
            if decorator.get("type") == kind:
                return decorator.get("argument")
        return None

    # evaluation

    def value(self, node: Any) -> Any:
        """The node's value, with DUMMY for what only a deployment knows."""
        if node is None or isinstance(node, bool | int | float):
            return node
        if isinstance(node, list):
            return [self.value(item) for item in node]
        if isinstance(node, str):
            return self._string(node)
        return self._object(node)

    def _object(self, node: dict[str, Any]) -> Any:
        if "function" in node:
            return self._function(node["function"])
        if "operator" in node:
            return self._operator(node)
        if "loop_type" in node:
            return self._loop(node)
        return {self._key(key): self.value(item) for key, item in node.items()}

    def _loop(self, node: dict[str, Any]) -> Any:
        """`[for item in array: {...}]` (no index, no filter: what the templates use)."""
        detail = node["loop_type"]["detail"]
        items = self.value(detail["array_name"])
        if not isinstance(items, list) or node.get("condition") is not None:
            return DUMMY
        results = []
        for item in items:
            self._scope.append({detail["item_name"]: item})
            try:
                results.append(self.value(node["config"]))
            finally:
                self._scope.pop()
        return results

    def entries(self, node: Any) -> dict[str, Any]:
        """An object's entries as unevaluated nodes (keys evaluated), through variables and `union`."""
        if isinstance(node, str) and node in self.variables:
            return self.entries(self.variables[node]["value"])
        if isinstance(node, dict) and "function" in node and node["function"].get("type") == "union":
            merged: dict[str, Any] = {}
            for argument in (node["function"].get("parameters") or {}).values():
                merged.update(self.entries(argument))
            return merged
        if isinstance(node, dict) and "function" not in node and "operator" not in node:
            return {self._key(key): item for key, item in node.items()}
        return {}

    def declared_types(self) -> set[str]:
        return {str(r["type"]) for r in self.resources.values() if not r.get("existing")}

    def sources(self, node: Any) -> set[str]:
        """The modules whose outputs the node uses, through variables and interpolation."""
        if isinstance(node, list):
            return set().union(*(self.sources(item) for item in node)) if node else set()
        if isinstance(node, dict):
            path = accessor_path(node)
            if path is not None:
                return self._path_sources(path)
            return set().union(*(self.sources(item) for item in node.values())) if node else set()
        if isinstance(node, str):
            if node in self.variables:
                return self.sources(self.variables[node]["value"])
            found: set[str] = set()
            for expression in _INTERPOLATION.findall(node):
                if _PATH.match(expression.strip()):
                    found |= self._path_sources(expression.strip().split("."))
            return found
        return set()

    def _path_sources(self, path: list[str]) -> set[str]:
        root = path[0]
        if root in self.modules:
            return {root}
        if root in self.variables:
            return self.sources(self.variables[root]["value"])
        return set()

    def _key(self, key: str) -> str:
        if len(key) >= 2 and key[0] == key[-1] == "'":
            return str(self._string(key[1:-1]))
        return key

    def _string(self, text: str) -> Any:
        if _IDENTIFIER.match(text):
            scope = next((scope for scope in reversed(self._scope) if text in scope), None)
            if scope is not None:
                return scope[text]
            if text in self.variables:
                return self.value(self.variables[text]["value"])
            if text in self.parameters:
                return self.parameter_default(text)
            return text
        if "${" not in text:
            return text
        return _INTERPOLATION.sub(lambda match: str(self._expression(match.group(1).strip())), text)

    def _expression(self, expression: str) -> Any:
        if _PATH.match(expression):
            resolved = self._resolve(expression.split("."))
            return DUMMY if isinstance(resolved, dict | list) or resolved is None else resolved
        return DUMMY

    def _resolve(self, path: list[str]) -> Any:
        root, *rest = path
        scope = next((scope for scope in reversed(self._scope) if root in scope), None)
        if scope is not None:
            current = scope[root]
        elif root in self.variables:
            current = self.value(self.variables[root]["value"])
        elif root in self.parameters:
            current = self.parameter_default(root)
        elif root in self.modules and rest[:1] == ["outputs"] and len(rest) >= 2:
            current, rest = self._module_output(root, rest[1]), rest[2:]
        else:
            return DUMMY
        for part in rest:
            if not isinstance(current, dict) or part not in current:
                return DUMMY
            current = current[part]
        return current

    def _module_output(self, symbol: str, name: str) -> Any:
        """A module's output, evaluated in the module with the values passed to it (`modules_loader`).
        One that only a deployment knows is the placeholder `<module>-<output>` (lower case, a valid host
        name label), so two settings fed by the same output can be compared."""
        placeholder = f"{symbol}-{name}".lower()
        if self.modules_loader is None:
            return placeholder
        module = self.modules_loader(symbol)
        output = (module.tree.get("outputs") or {}).get(name)
        value = DUMMY if output is None else module.value(output["value"])
        return placeholder if value == DUMMY else value

    def _function(self, function: dict[str, Any]) -> Any:
        handler = _FUNCTIONS.get(str(function.get("type")))
        if handler is None:
            return DUMMY
        return handler([self.value(argument) for argument in (function.get("parameters") or {}).values()])

    def _operator(self, node: dict[str, Any]) -> Any:
        operator = node["operator"]
        path = accessor_path(node)
        if path is not None:
            return self._resolve(path)
        if operator.get("type") in ("add", "minus"):
            left = self.value(operator["operands"]["operand_1"])
            right = self.value(operator["operands"]["operand_2"])
            if isinstance(left, int) and isinstance(right, int):
                return left + right if operator["type"] == "add" else left - right
        return DUMMY


def _union(values: list[Any]) -> Any:
    merged: dict[str, Any] = {}
    for value in values:
        if isinstance(value, dict):
            merged.update(value)
    return merged


def _replace(values: list[Any]) -> Any:
    if len(values) == 3 and all(isinstance(value, str) for value in values):
        return values[0].replace(values[1], values[2])
    return DUMMY


def _to_lower(values: list[Any]) -> Any:
    return values[0].lower() if values and isinstance(values[0], str) else DUMMY


def _items(values: list[Any]) -> Any:
    """An object's entries as [{key, value}], by key (Bicep sorts them)."""
    if not values or not isinstance(values[0], dict):
        return DUMMY
    return [{"key": key, "value": values[0][key]} for key in sorted(values[0])]


def _concat(values: list[Any]) -> Any:
    if all(isinstance(value, list) for value in values):
        return [item for value in values for item in value]
    return "".join(str(value) for value in values)


def _string(values: list[Any]) -> Any:
    if not values:
        return DUMMY
    return str(values[0]).lower() if isinstance(values[0], bool) else str(values[0])


# the Bicep functions the evaluator knows (pycep's names), on evaluated arguments
_FUNCTIONS: dict[str, Callable[[list[Any]], Any]] = {
    "union": _union,
    "replace": _replace,
    "to_lower": _to_lower,
    "items": _items,
    "concat": _concat,
    "string": _string,
}


@dataclass(frozen=True)
class Module:
    symbol: str
    path: str
    params: dict[str, Any]
    condition: Any


def load_templates(infra: Path) -> dict[str, Template]:
    """Every Bicep file under `infra`, by path relative to it ('main.bicep', 'modules/storage.bicep')."""
    return {str(path.relative_to(infra)): Template(path) for path in sorted(infra.rglob("*.bicep"))}
