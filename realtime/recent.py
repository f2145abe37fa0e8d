"""A bounded memory of recently sent event ids, per socket.

An event can reach a socket twice: live through the channel layer and again in a replay from
the log (the two race when a client resumes). Remembering the last few thousand ids sent lets
either path drop the repeat without assuming ids arrive in order.
"""

from __future__ import annotations

from array import array
from collections import deque


class RecentIds:
    __slots__ = ("_ids", "_order")

    def __init__(self, size: int = 2048) -> None:
        self._ids: set[int] = set()
        self._order: deque[int] = deque(maxlen=size)

    def add(self, event_id: int) -> bool:
        """Remember an id; False if it was already remembered (a repeat)."""
        if event_id in self._ids:
            return False
        if len(self._order) == self._order.maxlen:
            self._ids.discard(self._order[0])
        self._order.append(event_id)
        self._ids.add(event_id)
        return True

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)


class RecentRing:
    """The last `size` ids a socket was sent, in 8 bytes each (an array, no set): appending is
    O(1) on the hot path, and the linear membership test runs only while a replay is sent. The
    array grows as ids come, so a socket that has been sent nothing yet holds none of it."""

    __slots__ = ("_ids", "_next", "_size")

    def __init__(self, size: int = 256) -> None:
        self._ids = array("q")
        self._next = 0
        self._size = size

    def add(self, event_id: int) -> None:
        if len(self._ids) < self._size:
            self._ids.append(event_id)
            return
        self._ids[self._next] = event_id  # full: overwrite the oldest
        self._next = (self._next + 1) % self._size

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._ids
