"""Alert delivery on the worker's task queue.

`alerts_pump` works in short turns: for `PUMP_SECONDS` it reads new events, releases held alerts
and due digests, and sends what is due, every `JOBSENTINEL_ALERTS_POLL_SECONDS`; then it queues
its own next turn. So an alert leaves within seconds of its event without a task per event, and
a worker that is asked to stop waits for at most one short turn. A periodic task (every minute)
and the worker's start begin a chain when none is running. Several workers (Redis mode) may pump
at once: the cursor row and the claim on each delivery keep them from doing the same work twice.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from alerts import services

logger = logging.getLogger("alerts")

PUMP_SECONDS = 10.0
_running = threading.Lock()


def pump(*, duration: float = PUMP_SECONDS) -> bool:
    """One turn; False when this process was already pumping (the caller's chain ends)."""
    if not _running.acquire(blocking=False):
        return False
    try:
        deadline = time.monotonic() + duration
        while True:
            try:
                result = services.run_pass()
                if result.alerts or result.attempted:
                    logger.info("alerts: %s", result)
            except Exception:
                # A database hiccup must not end delivery: the next turn tries again.
                logger.exception("alert pass failed")
                close_old_connections()
            if time.monotonic() + settings.ALERTS_POLL_SECONDS >= deadline:
                break
            time.sleep(settings.ALERTS_POLL_SECONDS)
    finally:
        _running.release()
    return True


@db_task()
def alerts_pump_now() -> None:
    if pump():
        # Queued after the lock is released: the next turn may start at once.
        alerts_pump_now()


@db_periodic_task(crontab(minute="*"))
def alerts_pump() -> None:
    # Starts a chain if none runs here (a stopped worker's chain ends with it).
    alerts_pump_now()


@HUEY.on_startup()
def _start_pumping() -> None:
    # Alerts flow as soon as a worker starts, not at the next whole minute. Every worker
    # thread runs this hook; the lock in `pump` keeps one chain per process.
    alerts_pump_now()
