"""What is shipped: the function app package `make deploy` publishes (scripts/package_functions.py with
.funcignore) and the container images (the Dockerfiles' COPY and .dockerignore)."""

from __future__ import annotations

from scripts.package_functions import ignored, package_files
from tests.infra.images import (
    IMAGES,
    compose_problems,
    docker_ignored,
    dockerignore_patterns,
    image_problems,
    imported_repo_files,
)
from tests.infra.project import REPO, Project


def test_funcignore_patterns_match_like_the_functions_tools() -> None:
    patterns = ["tests/", "__pycache__/", "*.pyc", "requirements-*.txt", "/build", "Makefile"]
    assert ignored("tests/infra/test_package.py", patterns)
    assert ignored("shared/store/__pycache__/cosmos.cpython-311.pyc", patterns)
    assert ignored("requirements-dev.txt", patterns)
    assert ignored("build/lib/x.py", patterns)
    assert ignored("Makefile", patterns)
    assert not ignored("requirements.txt", patterns)
    assert not ignored("shared/tests_helper.py", patterns)  # a folder pattern is a whole path component
    assert not ignored("shared/build/x.py", patterns)  # an anchored pattern is from the root only
    assert not ignored("shared/tests", ["tests/"])  # `name/` matches folders, not a file of that name


def test_the_package_holds_every_repository_module_the_function_app_imports_and_no_tests() -> None:
    files = set(package_files(REPO))
    assert {"function_app.py", "host.json", "requirements.txt"} <= files
    assert not [name for name in files if name.startswith(("tests/", "local/", ".venv/", "infra/", "bench/"))]
    imported = imported_repo_files("function_app")
    assert "blueprints/calls.py" in imported
    assert sorted(imported - files) == []


def test_each_image_copies_what_its_process_imports_and_dockerignore_keeps_it(project: Project) -> None:
    assert image_problems(project) == []
    assert "shared/settings.py" in imported_repo_files(*IMAGES["media_host/Dockerfile"])
    patterns = dockerignore_patterns(project.root)
    assert docker_ignored("tests/infra/test_package.py", patterns)
    assert docker_ignored("shared/__pycache__/settings.cpython-311.pyc", patterns)
    assert not docker_ignored("requirements-media.txt", patterns)


def test_compose_builds_both_images_and_lets_calls_drain(project: Project) -> None:
    assert compose_problems(project) == []
