"""Publish: a committed event goes out through the channel layer (the step after `record`).

- Redis mode (`REDIS_URL` set): after commit, the event is handed to this process's publisher
  thread, which `group_send`s it through the shared layer, so every server process hears it.
- Embedded mode: the in-memory layer only reaches its own process, so nothing is published on
  commit; each server process's hub runs a relay (`realtime.relay`) that tails the event log
  instead, which is also what keeps an event from arriving twice. After commit the writer
  only rings the servers' doorbells (`realtime.doorbell`), so their relays read the log at
  once rather than at their next poll.

The publisher is one background thread with its own event loop: it keeps one set of Redis
connections for the life of the process (a management command would otherwise build a loop
and a connection per event), and sends in commit order. At exit it drains what is queued. An
event that cannot be sent is still in the log: every server's hub reads it from there (the gap
it leaves, the log's head, or the layer's own error gives it away: `realtime.gaps`), and
clients get it on resume.

Short-lived processes (`manage.py shell -c ...`) often hand over their last event just before
exiting, when the interpreter already refuses new thread-pool work; so this loop never uses a
thread pool: the queue is fed with `call_soon_threadsafe`, and the loop's executor (used for DNS
look-ups of the Redis host) runs inline.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from jobsentinel.lazy import per_process
from realtime import doorbell
from realtime.events import PUSH_MESSAGE_TYPE, group_name

if TYPE_CHECKING:
    from realtime.models import Event

logger = logging.getLogger(__name__)

_STOP = object()
SEND_ATTEMPTS = 3


def mode() -> str:
    return "redis" if settings.REDIS_URL else "embedded"


def push_message(event_id: int, event_type: str, text: str) -> dict[str, Any]:
    """The channel-layer message for one event; `text` is the envelope, already encoded."""
    return {"type": PUSH_MESSAGE_TYPE, "id": event_id, "event": event_type, "text": text}


def publish_on_commit(event: Event) -> None:
    """Arrange for `event` to be published once its transaction commits: handed to the
    publisher in Redis mode; in embedded mode the servers' doorbells are rung instead, once
    per transaction."""
    if mode() != "redis":
        doorbell.ring_on_commit()
        return
    # Encode now, while the row is at hand; the publisher thread only forwards text.
    message = push_message(event.id, event.type, event.encoded())
    target = group_name(event.type)

    def hand_over() -> None:
        publisher().submit(target, message)

    # robust: a failure to hand over must never turn a committed write into an exception.
    transaction.on_commit(hand_over, robust=True)


class InlineExecutor(concurrent.futures.ThreadPoolExecutor):
    """Runs work in the calling thread; safe during interpreter shutdown. (A subclass only
    because asyncio insists that a default executor be a ThreadPoolExecutor.)"""

    def submit(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


class Publisher:
    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.set_default_executor(InlineExecutor())
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._thread = threading.Thread(target=self._run, name="event-publisher", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def _put(self, item: Any) -> None:
        self._loop.call_soon_threadsafe(self._queue.put_nowait, item)

    def submit(self, group: str, message: dict[str, Any]) -> None:
        self._put((group, message))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far was sent (or failed). True if drained."""
        done = threading.Event()
        self._put(done)
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive():
            self._put(_STOP)
            self._thread.join(timeout)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._pump())
        finally:
            self._loop.close()

    async def _pump(self) -> None:
        layer = get_channel_layer()
        assert layer is not None, "CHANNEL_LAYERS is configured in settings"
        while True:
            item = await self._queue.get()
            if item is _STOP:
                return
            if isinstance(item, threading.Event):
                item.set()
                continue
            group, message = item
            for attempt in range(1, SEND_ATTEMPTS + 1):
                try:
                    await layer.group_send(group, message)
                    break
                except Exception as exc:  # Redis may be restarting; the log keeps the event
                    logger.warning(
                        "could not publish event #%s (attempt %d of %d): %s",
                        message.get("id"),
                        attempt,
                        SEND_ATTEMPTS,
                        exc,
                    )
                    await asyncio.sleep(0.2 * attempt)


publisher = per_process(Publisher)
