"""Alert delivery on the worker's task queue.

`alerts_pump` runs once a minute (and once when the worker starts) and keeps working until just
before the next minute: every `JOBSENTINEL_ALERTS_POLL_SECONDS` it reads new events, releases held
alerts and due digests, and sends what is due. So an alert leaves within seconds of its event,
without a task per event. Several workers (Redis mode) may pump at once: the cursor row and the
claim on each delivery keep them from doing the same work twice."""

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

# A run ends this many seconds before the next whole minute, when the next one starts.
MINUTE_MARGIN = 2.0
_running = threading.Lock()


def seconds_left_in_minute() -> float:
    left = max(60.0 - time.time() % 60.0 - MINUTE_MARGIN, 0.0)
    # Started just before a whole minute: that minute's run will find this one still going
    # and leave, so carry on through the next minute rather than leave a gap.
    return left if left >= 10.0 else left + 60.0


def pump(*, duration: float | None = None) -> None:
    if not _running.acquire(blocking=False):
        return  # this process is already pumping
    try:
        deadline = time.monotonic() + (seconds_left_in_minute() if duration is None else duration)
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


@db_periodic_task(crontab(minute="*"))
def alerts_pump() -> None:
    pump()


@db_task()
def alerts_pump_now() -> None:
    pump()


@HUEY.on_startup()
def _start_pumping() -> None:
    # Alerts flow as soon as a worker starts, not at the next whole minute. Every worker
    # thread runs this hook; the lock in `pump` lets only one of them work.
    alerts_pump_now()
