"""Redis mode: one background thread per process sends committed events to the channel layer.

A thread with its own event loop keeps one set of Redis connections for the life of the process
(a management command would otherwise build a loop and a connection per event), and sends in
commit order. At exit it drains what is queued. An event that cannot be sent is still in the
log: clients get it on resume.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import queue
import threading
from typing import Any

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

_STOP = object()


class Publisher:
    def __init__(self) -> None:
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="event-publisher", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def submit(self, group: str, message: dict[str, Any]) -> None:
        self._queue.put((group, message))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far was sent (or failed). True if drained."""
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._pump())
        finally:
            loop.close()

    async def _pump(self) -> None:
        layer = get_channel_layer()
        assert layer is not None, "CHANNEL_LAYERS is configured in settings"
        while True:
            item = await asyncio.to_thread(self._queue.get)
            if item is _STOP:
                return
            if isinstance(item, threading.Event):
                item.set()
                continue
            group, message = item
            for attempt in range(3):
                try:
                    await layer.group_send(group, message)
                    break
                except Exception as exc:  # the layer may be restarting; the log keeps it
                    logger.warning(
                        "could not publish event %s (attempt %d): %s",
                        message.get("id"),
                        attempt + 1,
                        exc,
                    )
                    await asyncio.sleep(0.2 * (attempt + 1))


_publisher: Publisher | None = None
_lock = threading.Lock()


def publisher() -> Publisher:
    global _publisher
    with _lock:
        if _publisher is None:
            _publisher = Publisher()
        return _publisher
