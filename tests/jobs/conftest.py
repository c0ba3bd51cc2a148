"""Fixtures for the job-queue tests: a real, throwaway Azurite queue service on loopback.

Azurite is installed by ``make install`` (``scripts/install-node-tools.sh``) into ``.tools/``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.azurite import azurite, connection_string, free_loopback_port


def queue_connection_string(port: int) -> str:
    return connection_string("queue", port)


@pytest.fixture(scope="session")
def azurite_connection_string(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Connection string of a real Azurite queue service started for this test session."""
    with azurite("queue", tmp_path_factory.mktemp("azurite")) as connection:
        yield connection


@pytest.fixture
def dead_connection_string() -> str:
    """Connection string whose queue endpoint is a loopback port nothing listens on."""
    return queue_connection_string(free_loopback_port())
