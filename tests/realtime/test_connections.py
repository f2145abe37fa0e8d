"""The server-wide connection table of `serve --workers N` (realtime/connections.py), worker by
worker; tests/jobsentinel/test_web_workers.py shows the same on real daphne processes."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from realtime.connections import ConnectionRegistry, ConnectionTable
from tests.conftest import ROOT, subprocess_env


@pytest.fixture
def table() -> Iterator[ConnectionTable]:
    table = ConnectionTable.create(2)
    yield table
    table.close()


def test_workers_count_against_caps_for_the_whole_server(table: ConnectionTable, settings) -> None:
    settings.WS_MAX_CONNECTIONS = 3
    settings.WS_MAX_CONNECTIONS_PER_IP = 2
    first, second = ConnectionRegistry(table, 1), ConnectionRegistry(table, 2)
    assert first.try_add("192.0.2.1") is None
    assert second.try_add("192.0.2.1") is None
    assert second.try_add("192.0.2.1") == "too many connections from this address"
    assert first.try_add("192.0.2.1") == "too many connections from this address"
    assert first.try_add("192.0.2.2") is None
    assert second.try_add("192.0.2.3") == "server connection limit reached"
    assert first.total == second.total == 3
    assert [(w.worker, w.active_connections) for w in first.workers() or []] == [(1, 2), (2, 1)]
    second.remove("192.0.2.1")
    assert first.try_add("192.0.2.1") is None  # the address's slot, freed elsewhere
    first.remove("192.0.2.9")  # never counted: gives nothing back
    assert first.total == 3


def test_a_released_worker_no_longer_counts(table: ConnectionTable, settings) -> None:
    settings.WS_MAX_CONNECTIONS_PER_IP = 2
    dead, alive = ConnectionRegistry(table, 1), ConnectionRegistry(table, 2)
    assert dead.try_add("192.0.2.1") is None
    assert dead.try_add("192.0.2.1") is None
    assert alive.try_add("192.0.2.1") == "too many connections from this address"
    table.release(1)  # what `serve` does when the worker exits, however it died
    assert alive.total == 0
    released = table.workers()[0]
    assert (released.pid, released.active_connections) == (0, 0)
    assert alive.try_add("192.0.2.1") is None


def test_without_a_table_counts_are_this_processs(settings) -> None:
    settings.WS_MAX_CONNECTIONS = 1
    registry = ConnectionRegistry()
    assert registry.try_add("192.0.2.1") is None
    assert registry.try_add("192.0.2.2") == "server connection limit reached"
    assert registry.workers() is None
    registry.remove("192.0.2.1")
    assert registry.total == 0


def test_a_worker_admits_only_while_no_other_holds_the_table(table: ConnectionTable) -> None:
    """Another process (as a daphne of `serve` would) waits for the lock, so no two workers can
    both take the last slot; it then sees this process's rows."""
    ConnectionRegistry(table, 1).try_add("192.0.2.1")
    code = (
        "import django; django.setup()\n"
        "from realtime.connections import registry\n"
        "print('attached', flush=True)\n"
        "print(registry.try_add('192.0.2.1'), registry.total, registry.per_ip['192.0.2.1'])"
    )
    with table.locked():
        child = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=subprocess_env(
                JOBSENTINEL_CONNECTION_TABLE_FD=str(table.fd), JOBSENTINEL_WEB_WORKER_INDEX="2"
            ),
            pass_fds=(table.fd,),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline() == "attached\n"  # next: try_add, which takes the lock
        time.sleep(1)
        assert child.poll() is None, child.communicate()  # still waiting
        assert table.total() == 1
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert out.split() == ["None", "2", "1"]
    assert [w.active_connections for w in table.workers()] == [1, 1]
