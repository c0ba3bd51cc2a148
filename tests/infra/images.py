"""What goes into the container images and the function package: the repository files a process imports,
the Dockerfiles' COPY sources, and the .dockerignore rules Docker applies to the build context."""

from __future__ import annotations

import fnmatch
import functools
import json
import re
import subprocess
import sys
from pathlib import Path

from tests.infra.project import REPO, Project

# each image, and the modules its process imports at start (the media host's Azure Speech engine included)
IMAGES = {
    "media_host/Dockerfile": ("media_host.__main__", "media_host.serving", "shared.speech.azure_speech"),
    "infra/container/functions.Dockerfile": ("function_app",),
}


def image_problems(project: Project) -> list[str]:
    """Each image copies every repository file its process imports, and .dockerignore keeps them."""
    patterns = dockerignore_patterns(project.root)
    problems: list[str] = []
    for dockerfile, modules in IMAGES.items():
        sources = copy_sources(project.root / dockerfile)
        for path in sorted(imported_repo_files(*modules)):
            if not copied(path, sources):
                problems.append(f"{dockerfile}: no COPY brings {path}, which the process imports")
            elif docker_ignored(path, patterns):
                problems.append(f".dockerignore leaves out {path}, which {dockerfile} needs")
        for source in sources:
            if docker_ignored(source, patterns):
                problems.append(f".dockerignore leaves out {source}, which {dockerfile} copies")
    return problems


@functools.lru_cache(maxsize=8)
def imported_repo_files(*modules: str) -> frozenset[str]:
    """The repository's files (relative paths) a fresh interpreter loads when it imports `modules`."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {list(modules)!r}: importlib.import_module(name)\n"
        "print(json.dumps([getattr(m, '__file__', None) for m in list(sys.modules.values())]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True, timeout=180
    )
    files: set[str] = set()
    for path in json.loads(result.stdout.splitlines()[-1]):
        if path and Path(path).is_relative_to(REPO) and not Path(path).is_relative_to(REPO / ".venv"):
            files.add(str(Path(path).relative_to(REPO)))
    return frozenset(files)


def copy_sources(dockerfile: Path) -> list[str]:
    """The build-context paths a Dockerfile's COPY instructions take (not those from another stage)."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    sources: list[str] = []
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(word.startswith("--from") for word in words):
            sources += [word.rstrip("/") for word in words[1:-1] if not word.startswith("--")]
    return sources


def copied(path: str, sources: list[str]) -> bool:
    return any(path == source or path.startswith(f"{source}/") for source in sources)


def docker_ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule: the last matching pattern wins, `!` re-includes, `**` is any depth."""
    excluded = False
    for raw in patterns:
        negated = raw.startswith("!")
        pattern = (raw[1:] if negated else raw).strip("/")
        if _docker_match(path, pattern):
            excluded = not negated
    return excluded


def _docker_match(path: str, pattern: str) -> bool:
    if pattern == "**":
        return True
    if pattern.startswith("**/"):
        parts = path.split("/")
        return any(_docker_match("/".join(parts[i:]), pattern[3:]) for i in range(len(parts)))
    return fnmatch.fnmatchcase(path, pattern) or path.startswith(f"{pattern}/")


def dockerignore_patterns(root: Path) -> list[str]:
    lines = (root / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _seconds(duration: object) -> float | None:
    """A compose duration ('960s', '16m', '1m30s') in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|m|s)", str(duration))
    if not parts or "".join(n + u for n, u in parts) != str(duration):
        return None
    return sum(float(number) * {"h": 3600, "m": 60, "s": 1}[unit] for number, unit in parts)


def compose_problems(project: Project) -> list[str]:
    """compose.yaml builds both images from this repository's Dockerfiles, and stopping the media host
    leaves its calls the drain time the code gives them (MEDIA__DRAIN_TIMEOUT_SEC's default)."""
    import yaml

    from shared.settings import MediaSettings

    services = (yaml.safe_load((project.root / "compose.yaml").read_text(encoding="utf-8")) or {}).get(
        "services"
    )
    problems: list[str] = []
    built = {str((service.get("build") or {}).get("dockerfile")) for service in (services or {}).values()}
    for dockerfile in IMAGES:
        if dockerfile not in built:
            problems.append(f"compose.yaml: no service builds {dockerfile}")
    drain = MediaSettings().drain_timeout_sec
    for name, service in (services or {}).items():
        if (service.get("build") or {}).get("dockerfile") != "media_host/Dockerfile":
            continue
        grace = _seconds(service.get("stop_grace_period"))
        if grace is None or grace < drain + 30:
            problems.append(
                f"compose.yaml {name}: stop_grace_period must be at least {drain + 30:g}s "
                f"(the {drain:g} s call drain and 30 s), got {service.get('stop_grace_period')!r}"
            )
    return problems
