"""One fan-out set-up (a server, load connections, probes) and one measurement window on it.

A window: reset the clients' counters, run the open-loop producer for `duration` seconds at
`rate` events/s, wait until every subscribed connection has every event (or until delivery
stalls), then collect. Every event is counted on every connection: a delivered fraction
below 1 fails the window, whatever the latencies.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import procs
from bench.clients import ClientProcess
from bench.common import Context
from bench.servers import Server, ServerSpec
from bench.stats import percentile

SUBSCRIBE_NEW_JOB = "events=new_job"
# After the producer stops: give up when nothing arrived for STALL seconds, or after DRAIN_MAX.
STALL_SECONDS = 5.0
DRAIN_MAX_SECONDS = 60.0
CLIENT_SATURATED = 0.85
NOISY_OTHER_CPU = 0.25


@dataclass
class Rig:
    server: Server
    load: ClientProcess
    probes: ClientProcess
    subscribers: int  # connections subscribed to the produced type (load + probes)
    log_dir: Path
    runs: int = 0


@contextlib.contextmanager
def rig(
    spec: ServerSpec,
    ctx: Context,
    *,
    connections: int,
    probes: int,
    query: str = SUBSCRIBE_NEW_JOB,
) -> Iterator[Rig]:
    """A started server with `connections` subscribers, of which `probes` measure latency.
    The probes connect last, so where a server serves subscribers in join order they see the
    tail of every fan-out."""
    with Server(spec, ctx.log_dir) as server:
        load = ctx.client(server.ws_url, spec, "load")
        probe = ctx.client(server.ws_url, spec, "probes")
        try:
            load.open(connections - probes, query)
            probe.open(probes, query, probe=True)
            yield Rig(server, load, probe, connections, ctx.log_dir)
        finally:
            load.close()
            probe.close()


@dataclass
class Window:
    rate: float
    duration: float
    subscribers: int
    producer: dict[str, Any]
    sent: int
    expected: int
    delivered: int
    duplicates: int
    reordered: int
    closed: int
    incomplete_connections: int
    latencies_ms: list[float] = field(repr=False)
    server_cpu_seconds: float
    load_cpu_seconds: float
    probe_cpu_seconds: float
    other_cpu_seconds: float
    wall_seconds: float
    drain_seconds: float
    types: dict[str, int]

    @property
    def delivered_fraction(self) -> float:
        return self.delivered / self.expected if self.expected else 0.0

    @property
    def complete(self) -> bool:
        return self.expected > 0 and self.delivered == self.expected and self.duplicates == 0

    @property
    def noisy(self) -> bool:
        """Something else used a good share of the machine during the window."""
        return self.other_cpu_seconds / self.wall_seconds > NOISY_OTHER_CPU

    @property
    def load_client_saturated(self) -> bool:
        """The counting client used most of a core: it, not the server, may be the limit."""
        return self.load_cpu_seconds / self.wall_seconds > CLIENT_SATURATED

    def p(self, q: float) -> float | None:
        return percentile(self.latencies_ms, q)

    def summary(self) -> dict[str, Any]:
        return {
            "rate_events_per_s": self.rate,
            "duration_s": self.duration,
            "subscribers": self.subscribers,
            "offered_deliveries_per_s": round(self.rate * self.subscribers, 1),
            "sent": self.sent,
            "expected_deliveries": self.expected,
            "delivered": self.delivered,
            "delivered_fraction": round(self.delivered_fraction, 6),
            "duplicates": self.duplicates,
            "reordered": self.reordered,
            "closed_connections": self.closed,
            "incomplete_connections": self.incomplete_connections,
            "latency_samples": len(self.latencies_ms),
            "p50_ms": self.p(50),
            "p90_ms": self.p(90),
            "p99_ms": self.p(99),
            "max_ms": self.p(100),
            "server_cpu_seconds": round(self.server_cpu_seconds, 3),
            "server_cpu_ms_per_event": round(1000 * self.server_cpu_seconds / self.sent, 3)
            if self.sent
            else None,
            "server_cpu_percent": round(100 * self.server_cpu_seconds / self.wall_seconds, 1),
            "load_client_cpu_percent": round(100 * self.load_cpu_seconds / self.wall_seconds, 1),
            "probe_client_cpu_percent": round(100 * self.probe_cpu_seconds / self.wall_seconds, 1),
            "other_cpu_percent": round(100 * self.other_cpu_seconds / self.wall_seconds, 1),
            "noisy": self.noisy,
            "drain_seconds": round(self.drain_seconds, 3),
            "message_types": self.types,
            "producer": self.producer,
        }


def _run_producer(
    rig: Rig, *, rate: float, duration: float, run: int, on_ready: Callable[[], None]
) -> dict[str, Any]:
    """Run the producer to the end; `on_ready` is called when its schedule is about to start."""
    command = rig.server.producer_command(rate=rate, duration=duration, run=run)
    log = rig.log_dir / "producer.log"
    process = procs.spawn(command, env=rig.server.env, log_path=log, stdout=subprocess.PIPE)
    lines = procs.LineReader(process)
    try:
        if lines.get(timeout=120) != {"ready": True}:
            raise RuntimeError(f"the producer did not start; see {log}")
        on_ready()
        result = lines.get(timeout=duration + 120)
        if result is None or "sent" not in result:
            raise RuntimeError(f"the producer failed; see {log}")
        return result
    finally:
        procs.stop(process)


def _drain(rig: Rig, expected: int) -> float:
    """Wait until everything arrived or delivery stalled; returns the seconds waited."""
    started = last_change = time.monotonic()
    last = -1
    while True:
        delivered = (
            rig.load.call("progress")["delivered"] + rig.probes.call("progress")["delivered"]
        )
        now = time.monotonic()
        if delivered >= expected:
            return now - started
        if delivered != last:
            last, last_change = delivered, now
        if now - last_change > STALL_SECONDS or now - started > DRAIN_MAX_SECONDS:
            return now - started
        time.sleep(0.05)


def measure(rig: Rig, *, rate: float, duration: float) -> Window:
    rig.runs += 1
    run = rig.runs
    rig.load.call("reset", run=run)
    rig.probes.call("reset", run=run)
    clocks: list[float] = []

    def start_clocks() -> None:  # the producer's set-up (Django, connections) stays outside
        clocks[:] = [
            time.monotonic(),
            rig.server.cpu_seconds(),
            rig.load.cpu_seconds(),
            rig.probes.cpu_seconds(),
            procs.system_busy_seconds(),
        ]

    producer = _run_producer(rig, rate=rate, duration=duration, run=run, on_ready=start_clocks)
    sent = int(producer["sent"])
    expected = sent * rig.subscribers
    drain = _drain(rig, expected)
    wall = time.monotonic() - clocks[0]
    server_cpu = rig.server.cpu_seconds() - clocks[1]
    load_cpu = rig.load.cpu_seconds() - clocks[2]
    probe_cpu = rig.probes.cpu_seconds() - clocks[3]
    busy = procs.system_busy_seconds() - clocks[4]
    # Whatever the machine did besides the server, the clients and the producer: other
    # processes, and kernel work on no one's account. High values make a window suspect.
    other_cpu = busy - server_cpu - load_cpu - probe_cpu - float(producer.get("cpu_seconds", 0))
    load = rig.load.call("collect", sent=sent, timeout=120)
    probes = rig.probes.call("collect", sent=sent, timeout=120)
    types = dict(load["types"])
    for name, count in probes["types"].items():
        types[name] = types.get(name, 0) + count
    return Window(
        rate=rate,
        duration=duration,
        subscribers=rig.subscribers,
        producer=producer,
        sent=sent,
        expected=expected,
        delivered=load["delivered"] + probes["delivered"],
        duplicates=load["duplicates"] + probes["duplicates"],
        reordered=load["reordered"] + probes["reordered"],
        closed=load["closed"] + probes["closed"],
        incomplete_connections=load["incomplete_connections"] + probes["incomplete_connections"],
        latencies_ms=sorted(probes["latencies_ms"]),
        server_cpu_seconds=server_cpu,
        load_cpu_seconds=load_cpu,
        probe_cpu_seconds=probe_cpu,
        other_cpu_seconds=max(0.0, other_cpu),
        wall_seconds=max(wall, 1e-6),
        drain_seconds=drain,
        types=types,
    )
