"""The long reliability run (`make soak`): 1,000 sockets subscribed to `new_job` held for ten
minutes while another process commits events; the server's RSS sampled after every window and
every event counted on every socket (by the producer's sequence number).

Passes when every window delivered 100% with no duplicate and no socket closed, and the RSS of
the last window is within `FLAT_TOLERANCE` of the first (memory flat within noise).
"""

from __future__ import annotations

from typing import Any

from bench.common import Check, Context, Outcome
from bench.fanout import measure, rig
from bench.report import table, verdict
from bench.servers import EMBEDDED

CONNECTIONS = 1_000
PROBES = 5
RATE = 5.0  # events/s, so 5,000 deliveries/s
WINDOW_SECONDS = 60.0
WINDOWS = 10  # ten minutes
QUICK = {"connections": 100, "windows": 3, "window_seconds": 10.0}
FLAT_TOLERANCE = 0.10  # RSS may differ by this fraction between the first and last window


def run(ctx: Context) -> Outcome:
    connections = QUICK["connections"] if ctx.quick else CONNECTIONS
    windows = int(QUICK["windows"] if ctx.quick else WINDOWS)
    seconds = float(QUICK["window_seconds"] if ctx.quick else WINDOW_SECONDS)
    rows: list[list[Any]] = []
    samples: list[dict[str, Any]] = []
    with rig(EMBEDDED, ctx, connections=int(connections), probes=PROBES) as setup:
        for index in range(windows):
            window = measure(setup, rate=RATE, duration=seconds)
            rss_kb = setup.server.rss_kb()
            sample = {
                "window": index + 1,
                "sent": window.sent,
                "delivered_fraction": round(window.delivered_fraction, 6),
                "duplicates": window.duplicates,
                "closed": window.closed,
                "p50_ms": window.p(50),
                "p99_ms": window.p(99),
                "rss_kb": rss_kb,
            }
            samples.append(sample)
            rows.append([sample[k] for k in sample])
            print(f"soak window {index + 1}/{windows}: {sample}", flush=True)
    first, last = samples[0]["rss_kb"], samples[-1]["rss_kb"]
    growth = (last - first) / first if first else 0.0
    all_delivered = all(
        s["delivered_fraction"] == 1.0 and s["duplicates"] == 0 and s["closed"] == 0
        for s in samples
    )
    flat = abs(growth) <= FLAT_TOLERANCE
    checks = [
        Check(
            "every event delivered on every socket, once", all_delivered, f"{len(samples)} windows"
        ),
        Check("memory flat within noise", flat, f"RSS {first} → {last} KB ({growth:+.1%})"),
    ]
    title = (
        f"Soak: {connections} sockets, {RATE:g} events/s, {windows} windows of {seconds:g} s "
        f"({EMBEDDED.label})"
    )
    headers = ["window", "sent", "delivered", "dupes", "closed", "p50 ms", "p99 ms", "RSS KB"]
    tables = [
        table(headers, rows, title),
        table(["check", "result", "detail"], [[c.name, verdict(c.met), c.detail] for c in checks]),
    ]
    params = {"connections": connections, "rate": RATE, "windows": windows, "window_s": seconds}
    return Outcome(params, {"windows": samples, "rss_growth": round(growth, 4)}, tables, checks)
