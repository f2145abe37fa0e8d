"""The doorbell (embedded mode): a writer's commit wakes every server process's relay at once;
the poll is only the safety net. Unit tests on a private directory, then real processes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import transaction

from realtime import doorbell
from realtime.doorbell import Doorbell, directory, ring
from realtime.record import record
from tests.conftest import Daphne
from tests.reliability.test_faults import Client, publish_elsewhere

# A poll this slow never delivers within the tests' timeouts: what arrives was rung for.
NO_POLL = {"JOBSENTINEL_RELAY_POLL_SECONDS": "60", "REDIS_URL": None}
DELIVERY_TIMEOUT = 20.0


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doorbell, "_said", set())  # each test sees its own first warning


@pytest.fixture
def data_dir(settings, tmp_path: Path) -> Path:
    """A private data dir in embedded mode (also when the suite runs against Redis)."""
    settings.DATA_DIR = tmp_path
    settings.REDIS_URL = None
    return tmp_path


@pytest.fixture
def listener(data_dir: Path) -> Iterator[socket.socket]:
    """A bare socket standing for a server process's doorbell in the private directory."""
    folder = directory()
    folder.mkdir()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(folder / f"{os.getpid()}-test.sock"))
    sock.setblocking(False)
    yield sock
    sock.close()


def rings(sock: socket.socket) -> int:
    count = 0
    while True:
        try:
            sock.recv(16)
        except BlockingIOError:
            return count
        count += 1


def dead_doorbell(folder: Path, name: str = "1-dead.sock") -> Path:
    """The socket file of a process that was killed: bound once, nobody listening now."""
    path = folder / name
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
    return path


# --- the listener ----------------------------------------------------------------------------


async def test_a_ring_wakes_the_waiting_relay_and_a_burst_of_rings_is_one_wake_up(
    data_dir: Path,
) -> None:
    bell = Doorbell.open()
    try:
        assert bell.listening
        assert bell.path is not None
        assert bell.path.parent == data_dir / "doorbells"
        assert stat.S_IMODE(bell.path.parent.stat().st_mode) == 0o700
        assert await bell.wait(0.05) is False  # nobody rang: the poll's timeout

        waiting = asyncio.ensure_future(bell.wait(60))
        await asyncio.sleep(0.05)
        ring()
        assert await asyncio.wait_for(waiting, 5) is True

        for _ in range(5):
            ring()
        assert await bell.wait(60) is True
        assert await bell.wait(0.1) is False  # the five were drained at once
    finally:
        bell.close()
    assert bell.path is not None
    assert not bell.path.exists()
    assert list((data_dir / "doorbells").iterdir()) == []


async def test_without_a_usable_socket_waiting_is_the_poll(
    settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A data dir whose path is too long for a Unix socket address (108 bytes on Linux).
    settings.DATA_DIR = tmp_path / ("d" * 120)
    settings.DATA_DIR.mkdir()
    too_long = Doorbell.open()
    assert not too_long.listening
    assert "events from other processes wait for the poll" in caplog.text
    assert await too_long.wait(0.01) is False
    too_long.close()

    monkeypatch.delattr(socket, "AF_UNIX")  # a platform without Unix sockets
    assert not Doorbell.open().listening


# --- ringing after commit --------------------------------------------------------------------


class Rollback(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_committed_transaction_rings_once_however_many_events_it_records(
    listener: socket.socket,
) -> None:
    with transaction.atomic():
        for i in range(50):
            record("new_job", {"job_id": i})
        assert rings(listener) == 0  # not before the commit
    assert rings(listener) == 1

    record("new_job", {"job_id": 50})  # a transaction of its own
    assert rings(listener) == 1


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_rings_nothing(listener: socket.socket) -> None:
    with contextlib.suppress(Rollback), transaction.atomic():
        record("new_job", {"job_id": 1})
        record("new_job", {"job_id": 2})
        raise Rollback
    assert rings(listener) == 0

    # A rolled-back savepoint's events are gone: its commit has nothing to ring for...
    with transaction.atomic(), contextlib.suppress(Rollback), transaction.atomic():
        record("new_job", {"job_id": 3})
        raise Rollback
    assert rings(listener) == 0

    # ...and leaves nothing stuck: events recorded after it in the same transaction ring.
    with transaction.atomic():
        with contextlib.suppress(Rollback), transaction.atomic():
            record("new_job", {"job_id": 4})
            raise Rollback
        record("new_job", {"job_id": 5})
    assert rings(listener) == 1


def test_a_dead_process_doorbell_is_removed_and_the_others_still_ring(
    listener: socket.socket,
) -> None:
    folder = directory()
    dead = dead_doorbell(folder)
    binding = dead_doorbell(folder, "2-late.binding")  # not listening yet: left alone
    not_a_socket = folder / "3-odd.sock"
    not_a_socket.write_text("")

    ring()
    assert not dead.exists()
    assert binding.exists()
    assert not_a_socket.exists()
    assert rings(listener) == 1
    ring()
    assert rings(listener) == 1


def test_a_full_doorbell_counts_as_rung(listener: socket.socket) -> None:
    for _ in range(10_000):  # far past a datagram queue's length: never blocks, never raises
        ring()
    assert rings(listener) >= 1
    assert (directory() / f"{os.getpid()}-test.sock").exists()


def test_ringing_never_raises_into_the_writer(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ring()  # no server ever listened here: no directory
    ring(data_dir / "a-file")  # not a directory
    (data_dir / "a-file").write_text("")
    ring(data_dir / "a-file")

    def refused(path: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    directory().mkdir()
    monkeypatch.setattr(doorbell.os, "scandir", refused)
    doorbell._said.clear()  # the not-a-directory case above warned already
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="realtime.doorbell"):
        ring()
        ring()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # once per process, not once per commit
    assert "Permission denied" in warnings[0].getMessage()


# --- real processes --------------------------------------------------------------------------


def doorbells_of(pid: int) -> list[Path]:
    folder = directory()
    return sorted(folder.glob(f"{pid}-*.sock")) if folder.exists() else []


async def test_an_event_from_another_process_arrives_without_waiting_for_the_poll(
    daphne_factory,
) -> None:
    server: Daphne = daphne_factory(**NO_POLL)
    assert server.process is not None
    client = Client(server)
    await client.connect()  # starts the server's hub, and with it its doorbell
    assert len(doorbells_of(server.process.pid)) == 1

    ids = await asyncio.to_thread(publish_elsewhere, server, 3)
    await client.read_until(set(ids), timeout=DELIVERY_TIMEOUT)
    assert client.events() == ids
    assert client.ws is not None
    await client.ws.close()

    server.stop()  # SIGTERM: the process removes its own doorbell on the way out
    assert doorbells_of(server.process.pid) == []


async def test_a_killed_server_doorbell_does_not_stop_the_others_ringing(daphne_factory) -> None:
    killed: Daphne = daphne_factory(**NO_POLL)
    assert killed.process is not None
    gone = Client(killed)
    await gone.connect()
    [stale] = doorbells_of(killed.process.pid)
    killed.stop(signal.SIGKILL)
    assert stale.exists()  # a killed process cleans nothing up
    await gone.read_until_closed()

    server: Daphne = daphne_factory(**NO_POLL)
    client = Client(server)
    await client.connect()
    ids = await asyncio.to_thread(publish_elsewhere, server, 2)
    await client.read_until(set(ids), timeout=DELIVERY_TIMEOUT)
    assert not stale.exists()  # removed by the first ring that found nobody listening
    assert client.ws is not None
    await client.ws.close()
