"""Embedded mode: one task per server process tails the event log and forwards new events to
the local (in-memory) channel layer.

This is what lets a `manage.py scrape` in another process reach browsers without Redis. The
relay starts lazily with the first socket and polls cheaply (an indexed `id > cursor` query).

Ids are handed out at insert but become visible at commit, so a later id can be seen before an
earlier one (two writers on PostgreSQL). Ids skipped by the cursor are kept as "holes" and
looked for again for a while, so a late commit is still delivered; holes that never fill
(rolled-back inserts) are forgotten after `HOLE_TTL`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db.models import Q

from realtime.delivery import push_message
from realtime.events import group_name
from realtime.models import Event

logger = logging.getLogger(__name__)

HOLE_TTL = 30.0
BATCH = 500


class Relay:
    def __init__(self, cursor: int) -> None:
        self.cursor = cursor
        self.holes: dict[int, float] = {}

    def fetch(self) -> list[tuple[int, str, str]]:
        """Events committed since the last call (runs in a worker thread)."""
        now = time.monotonic()
        self.holes = {i: t for i, t in self.holes.items() if now - t < HOLE_TTL}
        condition = Q(id__gt=self.cursor)
        if self.holes:
            condition |= Q(id__in=list(self.holes))
        rows = list(Event.objects.filter(condition).order_by("id")[:BATCH])
        found: list[tuple[int, str, str]] = []
        for row in rows:
            self.holes.pop(row.id, None)
            if row.id > self.cursor:
                for missing in range(self.cursor + 1, min(row.id, self.cursor + 1 + BATCH)):
                    self.holes.setdefault(missing, now)
                self.cursor = row.id
            found.append((row.id, row.type, row.encoded()))
        return found

    async def run(self) -> None:
        layer = get_channel_layer()
        assert layer is not None
        fetch = database_sync_to_async(self.fetch)
        while True:
            try:
                events = await fetch()
            except Exception as exc:  # the database may be briefly away: keep the cursor, retry
                logger.warning("event relay could not read the log: %s", exc)
                events = []
                await asyncio.sleep(1.0)
            for event_id, event_type, text in events:
                await layer.group_send(
                    group_name(event_type), push_message(event_id, event_type, text)
                )
            if len(events) < BATCH:
                await asyncio.sleep(settings.RELAY_POLL_SECONDS)


_task: asyncio.Task[None] | None = None


def _is_running(task: asyncio.Task[None] | None) -> bool:
    # A task left over from an event loop that has gone (tests run one loop per test) is dead.
    return task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop()


async def ensure_started() -> None:
    """Start this process's relay once (idempotent; safe to call from every connect)."""
    global _task
    if _is_running(_task):
        return
    from realtime.log import latest_id

    cursor = await database_sync_to_async(latest_id)()
    if _is_running(_task):  # another connect won the race meanwhile
        return
    _task = asyncio.get_running_loop().create_task(Relay(cursor).run(), name="event-relay")
    logger.info("event relay started at event #%d", cursor)


async def stop() -> None:
    global _task
    if _task is not None:
        _task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await _task
        _task = None
