"""The doorbell: in embedded mode, a writer wakes every server process on this machine as soon
as its events are committed, instead of leaving them to find the events at their next poll.

Without Redis a server process learns of an event written by another process (`manage.py
worker`, `scrape`, a shell) only by reading the event log (`realtime.relay`); polling alone
added half a poll period on average, a whole one at worst. So each server process's hub
listens on a Unix datagram socket of its own in `DATA_DIR/doorbells/`, and a writer, after
committing a transaction that recorded events, sends one byte to every socket there. The relay
wakes and reads the log as before.

A ring carries nothing but "look now": the log stays the only source of events and the poll
stays as the safety net, so a ring that is lost (a full socket buffer, a platform without
AF_UNIX, a writer on another machine sharing the database) costs latency, never an event.

Nothing is cached across processes: a writer lists the directory on every ring (it holds one
entry per server process), and a socket file nobody listens on any more (its process was
killed) is removed by the first writer that finds it so.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import secrets
import socket
import stat
from pathlib import Path

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

SUFFIX = ".sock"
# A listener binds under a name writers ignore and renames it when it is listening: between
# the file's creation and the socket's binding a ring would be refused, and the ringer would
# take the socket of a live process for a dead one's and remove it.
BINDING_SUFFIX = ".binding"
RING = b"\x01"
# A ring is one byte; a datagram is read whole whatever its size, so any buffer will do.
RECEIVE_BYTES = 64

_said: set[str] = set()


def _once(key: str, message: str, *args: object) -> None:
    """Warn about a kind of trouble once per process (a writer may ring thousands of times)."""
    if key in _said:
        logger.debug(message, *args)
        return
    _said.add(key)
    logger.warning(message, *args)


def directory() -> Path:
    """Where this data dir's server processes listen: every server and writer sharing the data
    dir (`serve --workers N`, several servers, manage.py commands) shares this directory."""
    return Path(settings.DATA_DIR) / "doorbells"


class Doorbell:
    """This process's doorbell, rung by writers and waited on by the relay. Without a socket
    (no AF_UNIX, or it could not be bound) waiting is the plain poll."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rung = asyncio.Event()

    @classmethod
    def open(cls) -> Doorbell:
        """Listen on a new socket in `directory()`; call from the event loop that will wait."""
        doorbell = cls()
        if not hasattr(socket, "AF_UNIX"):
            _once("no-unix", "no Unix sockets here: events from other processes wait for the poll")
            return doorbell
        try:
            doorbell._bind(directory())
        except OSError as exc:  # e.g. a read-only data dir, a path too long for a socket
            _once("bind", "no doorbell (%s): events from other processes wait for the poll", exc)
        return doorbell

    def _bind(self, folder: Path) -> None:
        folder.mkdir(mode=0o700, exist_ok=True)
        name = f"{os.getpid()}-{secrets.token_hex(4)}"
        binding = folder / f"{name}{BINDING_SUFFIX}"
        path = folder / f"{name}{SUFFIX}"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.bind(str(binding))
            os.rename(binding, path)
        except OSError:
            sock.close()
            with contextlib.suppress(OSError):
                binding.unlink()
            raise
        loop = asyncio.get_running_loop()
        loop.add_reader(sock.fileno(), self._drain)
        self._sock, self.path, self._loop = sock, path, loop
        # A process that exits without stopping its hub still removes its file; a killed one's
        # is removed by the next ring.
        atexit.register(self._release)

    @property
    def listening(self) -> bool:
        return self._sock is not None

    def _drain(self) -> None:
        assert self._sock is not None
        # However many rings are queued, one wake-up: the relay then reads everything committed.
        while True:
            try:
                self._sock.recv(RECEIVE_BYTES)
            except OSError:  # BlockingIOError: drained
                break
        self._rung.set()

    async def wait(self, poll_seconds: float) -> bool:
        """Until the doorbell rings or `poll_seconds` have passed, whichever comes first; True
        if it rang."""
        if self._sock is None:
            await asyncio.sleep(poll_seconds)
            return False
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(poll_seconds):
                await self._rung.wait()
        rang = self._rung.is_set()
        # Cleared before the caller reads the log: a ring from now on is for a commit that read
        # may miss, and makes the next wait return at once.
        self._rung.clear()
        return rang

    def close(self) -> None:
        if self._sock is None:
            return
        if self._loop is not None:
            with contextlib.suppress(Exception):  # the loop may be closed already
                self._loop.remove_reader(self._sock.fileno())
        atexit.unregister(self._release)
        self._release()

    def _release(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()


def ring(folder: Path | None = None) -> None:
    """Ring every doorbell in `folder` (this data dir's by default). Never raises: it runs after
    a commit, and a committed write must not turn into an error."""
    try:
        _ring_all(folder or directory())
    except Exception as exc:
        _once("ring", "could not ring the doorbells (the poll will find the events): %s", exc)


def _ring_all(folder: Path) -> None:
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:  # no server process has listened on this data dir yet
        return
    paths = [entry.path for entry in entries if entry.name.endswith(SUFFIX)]
    if not paths:
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        for path in paths:
            try:
                sock.sendto(RING, path)
            except (BlockingIOError, FileNotFoundError):
                pass  # its queue is full: rung already, and not read yet / gone since listed
            except ConnectionRefusedError:
                _remove_dead(path)
            except OSError as exc:  # one doorbell's trouble must not silence the others
                _once("ring-one", "could not ring doorbell %s: %s", path, exc)


def _remove_dead(path: str) -> None:
    """A socket file nobody listens on is a dead process's (live ones are listening from the
    moment their file has its final name)."""
    with contextlib.suppress(OSError):
        if stat.S_ISSOCK(os.lstat(path).st_mode):
            os.unlink(path)


def ring_on_commit(using: str | None = None) -> None:
    """Ring once the current transaction commits: once per transaction, however many events
    it records (an ingest commits thousands at once).

    The "already arranged" mark is the callback in the connection's own list of commit
    callbacks, not a flag of ours: Django drops the callbacks of a rolled-back savepoint or
    transaction, so a mark can neither outlive a rollback nor be left stuck by one. The list is
    short in embedded mode (nothing else registers a callback per event), so looking through it
    costs less than a debounce's clock read, and every committed transaction rings at once.
    """
    connection = transaction.get_connection(using)
    if any(callback is ring for _, callback, _ in connection.run_on_commit):
        return
    transaction.on_commit(ring, using=using, robust=True)
