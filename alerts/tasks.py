"""Alert delivery in the worker.

Each worker process makes one alert pass every `JOBSENTINEL_ALERTS_POLL_SECONDS`: it reads new
events, releases held alerts and due digests, and sends what is due. The passes run on a thread
of their own ("alerts"), started and stopped with the worker's task threads, rather than as a
queued task: the task threads stay free for scrapes, so "scrape now" never waits behind
alerts, and an alert still leaves within seconds of its event. Several workers (Redis mode, or
two on one data dir) may pass at once: the cursor row and the claim on each delivery keep them
from doing the same work twice.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from huey.contrib.djhuey import HUEY

from alerts import services

logger = logging.getLogger("alerts")

# How long a stopping worker waits for a pass in progress (a slow SMTP server) to end.
STOP_TIMEOUT = 30.0


class AlertPump:
    """The process's alert passes, on one thread; `start` and `stop` may be called from any
    thread, any number of times."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        with self._lock:
            if self.running:
                return
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._loop, args=(self._stop,), name="alerts", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(STOP_TIMEOUT)

    def _loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            make_pass()
            stop.wait(settings.ALERTS_POLL_SECONDS)
        connection.close()


def make_pass() -> None:
    try:
        result = services.run_pass()
        if result.alerts or result.attempted:
            logger.info("alerts: %s", result)
    except Exception:
        # A database hiccup must not end delivery: the next pass tries again.
        logger.exception("alert pass failed")
        close_old_connections()


pump = AlertPump()


# huey runs these hooks in each of its task threads as it starts and stops them; the pump
# starts once per process and stops with the first thread that stops.
@HUEY.on_startup()
def _start_alerts() -> None:
    pump.start()


@HUEY.on_shutdown()
def _stop_alerts() -> None:
    pump.stop()
