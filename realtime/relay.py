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

import time

from django.db.models import Q

from realtime.gaps import HOLE_TTL, MAX_HOLES
from realtime.log import LoggedEvent
from realtime.models import Event

# Events read at most at once (a transaction may hold more: MAX_HOLES is well above it).
BATCH = 500


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
