"""The open-loop producer: a separate process that emits `new_job` events at a fixed rate.

    python -m bench.producer django --rate 10 --duration 30 --run 1
    python -m bench.producer reference --url ws://127.0.0.1:PORT/publish --rate 10 ...

Event i is due at t0 + i/R whatever happened to the earlier ones (it never waits for a
delivery). `data.sent_at` is the wall time taken right before the call that publishes it; for
JobSentinel that call is `broadcast_job_update_sync`, so the latency includes the event log INSERT
and its COMMIT. Prints one JSON line: how many events were sent and how late the schedule ran.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

Publish = Callable[[str, dict[str, Any]], None]
Flush = Callable[[], None]
# A schedule slip above this means the producer, not the server, set the pace.
LATE_MS = 20.0


def django_publisher() -> tuple[Publish, Flush, Callable[[], None]]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jobsentinel.settings")
    import django

    django.setup()
    from realtime.publish import mode
    from realtime.record import broadcast_job_update_sync

    def publish(event_type: str, data: dict[str, Any]) -> None:
        broadcast_job_update_sync(event_type, data)

    def flush() -> None:
        if mode() == "redis":  # hand-over to Redis happens in a thread: wait for it to drain
            from realtime.publish import publisher

            publisher().flush(timeout=60)

    def close() -> None:
        from django.db import connections

        connections.close_all()

    return publish, flush, close


def reference_publisher(url: str) -> tuple[Publish, Flush, Callable[[], None]]:
    from websockets.sync.client import connect

    stack = contextlib.ExitStack()
    ws = stack.enter_context(connect(url, compression=None, proxy=None, open_timeout=10))

    def publish(event_type: str, data: dict[str, Any]) -> None:
        ws.send(json.dumps({"type": event_type, "data": data}, separators=(",", ":")))

    return publish, lambda: None, stack.close


def run(
    publish: Publish, flush: Flush, *, rate: float, duration: float, run_id: int
) -> dict[str, Any]:
    count = max(1, round(rate * duration))
    # Warm-up on a type nobody measures: opens the database and Redis connections.
    for _ in range(3):
        publish("job_updated", {"job_id": 0, "warmup": True, "changes": []})
    flush()
    # Tells the benchmark to start its CPU clocks: the window begins now, not at process start.
    sys.stdout.write(json.dumps({"ready": True}) + "\n")
    sys.stdout.flush()
    cpu_at_start = time.process_time()
    lags: list[float] = []
    errors: list[str] = []
    sent = 0
    start = time.monotonic() + 0.05
    for seq in range(count):
        due = start + seq / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        lags.append(max(0.0, time.monotonic() - due) * 1000)
        data = {"job_id": seq, "seq": seq, "run": run_id, "sent_at": time.time()}
        try:
            publish("new_job", data)
            sent += 1
        except Exception as exc:  # counted: the clients then expect one event fewer
            errors.append(f"{type(exc).__name__}: {exc}")
    elapsed = time.monotonic() - start
    flushed_at = time.monotonic()
    flush()
    lags.sort()
    return {
        "planned": count,
        "sent": sent,
        "errors": len(errors),
        "first_errors": errors[:3],
        "seconds": round(elapsed, 3),
        # Events are due at 0, 1/R, ... (count-1)/R: the first one opens the interval.
        "achieved_rate": round((sent - 1) / elapsed, 2) if sent > 1 and elapsed > 0 else None,
        "schedule_lag_p99_ms": round(lags[int(0.99 * (len(lags) - 1))], 2),
        "schedule_lag_max_ms": round(lags[-1], 2),
        "late_events": sum(lag > LATE_MS for lag in lags),
        "flush_seconds": round(time.monotonic() - flushed_at, 3),
        "cpu_seconds": round(time.process_time() - cpu_at_start, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="open-loop event producer")
    parser.add_argument("target", choices=["django", "reference"])
    parser.add_argument("--url", help="the reference server's /publish URL")
    parser.add_argument("--rate", type=float, required=True, help="events per second")
    parser.add_argument("--duration", type=float, required=True, help="seconds")
    parser.add_argument("--run", type=int, required=True, help="window id the clients expect")
    args = parser.parse_args()
    if args.target == "django":
        publish, flush, close = django_publisher()
    else:
        publish, flush, close = reference_publisher(args.url)
    try:
        result = run(publish, flush, rate=args.rate, duration=args.duration, run_id=args.run)
    finally:
        close()
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
