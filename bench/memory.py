"""Idle memory per connection: the server's RSS at 0 / 100 / 1,000 / 5,000 subscribed sockets,
and the least-squares slope through those points, for daphne and the reference server."""

from __future__ import annotations

import time
from typing import Any

from bench.common import Check, Context, Outcome
from bench.fanout import SUBSCRIBE_NEW_JOB
from bench.report import table, verdict
from bench.servers import Server, ServerSpec
from bench.stats import least_squares

STEPS = (0, 100, 1_000, 5_000)
QUICK_STEPS = (0, 50, 200, 500)
WARM_UP = 10
SETTLE_SECONDS = 2.0
QUICK_SETTLE_SECONDS = 0.5
# The target: at most this many times the reference server's memory per idle socket.
TARGET_RATIO = 1.6


def measure_server(spec: ServerSpec, ctx: Context, steps: tuple[int, ...]) -> dict[str, Any]:
    settle = QUICK_SETTLE_SECONDS if ctx.quick else SETTLE_SECONDS
    with Server(spec, ctx.log_dir) as server:
        client = ctx.client(server.ws_url, spec, "memory")
        try:
            # One round trip first, so that what the first socket initialises once (lazy
            # imports, the hub or relay, thread pool, database connection) is not counted as
            # per-connection memory.
            client.open(WARM_UP, SUBSCRIBE_NEW_JOB)
            client.call("drop", n=WARM_UP)
            points: list[tuple[int, int]] = []
            open_seconds: list[float] = []
            current = 0
            for n in steps:
                started = time.monotonic()
                client.open(n - current, SUBSCRIBE_NEW_JOB)
                current = n
                open_seconds.append(round(time.monotonic() - started, 2))
                server.settle()
                time.sleep(settle)
                points.append((n, server.rss_kb()))
            still_open = client.call("progress")["closed"] == 0
        finally:
            client.close()
    slope, intercept, r2 = least_squares([n for n, _ in points], [kb for _, kb in points])
    return {
        "server": spec.label,
        "points": [{"connections": n, "rss_kb": kb} for n, kb in points],
        "open_seconds": open_seconds,
        "kb_per_connection": round(slope, 2),
        "intercept_mb": round(intercept / 1024, 1),
        "r2": round(r2, 4),
        "all_connections_stayed_open": still_open,
    }


def run(ctx: Context) -> Outcome:
    steps = QUICK_STEPS if ctx.quick else STEPS
    rows: list[dict[str, Any]] = []
    for spec in ctx.all_specs():
        ctx.wait_for_quiet()
        print(f"memory: {spec.label} ...", flush=True)
        row = measure_server(spec, ctx, steps)
        rows.append(row)
    reference = next(r for r in rows if r["server"].startswith("reference"))
    for row in rows:
        row["vs_reference"] = (
            round(row["kb_per_connection"] / reference["kb_per_connection"], 2)
            if reference["kb_per_connection"] > 0
            else None
        )
        judged = row is not reference and row["vs_reference"] is not None
        row["target_kb"] = (
            round(TARGET_RATIO * reference["kb_per_connection"], 2) if judged else None
        )
        row["target_met"] = row["kb_per_connection"] <= row["target_kb"] if judged else None
    headers = [
        "server",
        *(f"RSS MB @{n:,}" for n in steps),
        "KB/conn",
        "r²",
        "vs reference",
        f"target ≤ {TARGET_RATIO:g} times the reference",
    ]
    body = [
        [
            r["server"],
            *(round(p["rss_kb"] / 1024, 1) for p in r["points"]),
            r["kb_per_connection"],
            f"{r['r2']:.3f}",
            r["vs_reference"],
            verdict(r["target_met"]),
        ]
        for r in rows
    ]
    title = "Idle memory per subscribed connection (RSS slope, least squares)"
    checks = [
        Check(
            f"idle memory ≤ {TARGET_RATIO:g} times the reference's per connection ({r['server']})",
            r["target_met"] if steps == STEPS else None,
            f"{r['kb_per_connection']} KB/conn = {r['vs_reference']} times the reference's "
            f"{reference['kb_per_connection']} (target ≤ {r['target_kb']} KB)",
        )
        for r in rows
        if r["target_kb"] is not None
    ]
    return Outcome(
        checks=checks,
        params={
            "steps": list(steps),
            "warm_up_connections": WARM_UP,
            "settle_s": QUICK_SETTLE_SECONDS if ctx.quick else SETTLE_SECONDS,
        },
        results={"servers": rows},
        tables=[table(headers, body, title)],
    )
