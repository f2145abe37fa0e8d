"""Tails the event log: finds events committed since it last looked, in any process.

Embedded mode delivers through it (it is the only way an event from a `manage.py` process can
reach this server without Redis). Redis mode does not tail the log: it reads it back only for
events the layer lost (`realtime.gaps`).

Ids are handed out at insert but become visible at commit, so a later id can be seen before an
earlier one (two writers on PostgreSQL). Ids skipped by the cursor are kept as "holes" and
looked for again for a while, so a late commit is still found; holes that never fill
(rolled-back inserts) are forgotten after `HOLE_TTL`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import DatabaseError, connection
from django.db.models import Q

from realtime.gaps import HOLE_TTL, MAX_HOLES
from realtime.log import LoggedEvent
from realtime.models import Event

# Events read at most at once (a transaction may hold more: MAX_HOLES is well above it).
BATCH = 500

T = TypeVar("T")


class Relay:
    def __init__(self, cursor: int) -> None:
        self.cursor = cursor
        self.holes: dict[int, float] = {}

    def fetch(self) -> list[LoggedEvent]:
        """Events committed since the last call, oldest first (blocking: call from a thread)."""
        now = time.monotonic()
        self.holes = {i: t for i, t in self.holes.items() if now - t < HOLE_TTL}
        condition = Q(id__gt=self.cursor)
        if self.holes:
            condition |= Q(id__in=list(self.holes))
        rows = list(Event.objects.filter(condition).order_by("id")[:BATCH])
        found: list[LoggedEvent] = []
        for row in rows:
            self.holes.pop(row.id, None)
            if row.id > self.cursor:
                for missing in range(self.cursor + 1, min(row.id, self.cursor + 1 + MAX_HOLES)):
                    self.holes.setdefault(missing, now)
                self.cursor = row.id
            found.append(LoggedEvent(row.id, row.type, row.encoded()))
        return found


class LogReader:
    """Runs a hub's reads of the log on one thread of its own, which keeps its database
    connection from read to read.

    `database_sync_to_async` closes a thread's connection after each call unless connections
    persist (CONN_MAX_AGE; SQLite's default is not to), and opening a SQLite connection (with
    its WAL pragma) cost more than the read: about 1 ms of each event's 3 ms in every web
    process, before any socket got it."""

    def __init__(self) -> None:
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="log-reader")
        self._closed = False

    async def run(self, read: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, functools.partial(self._read, read))

    @staticmethod
    def _read(read: Callable[[], T]) -> T:
        try:
            return read()
        except DatabaseError:
            # The kept connection may have died (a database restart): once more on a new one.
            connection.close()
        try:
            return read()
        except DatabaseError:
            connection.close()
            raise

    def close(self) -> None:
        """Close the connection (on its own thread, as Django requires) and end the thread.
        Closing again does nothing (a hub is closed by `stop`, or when its loop is gone)."""
        if self._closed:
            return
        self._closed = True
        # A lambda: `connection` resolves per thread when used, and `connection.close` taken
        # here would be the calling thread's connection.
        self._thread.submit(lambda: connection.close())
        self._thread.shutdown(wait=True)
