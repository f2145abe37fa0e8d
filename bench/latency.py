"""Commit-to-receipt latency: K clients subscribed to `new_job` while another process saves
jobs at R events/s (open loop), in embedded and Redis mode, every event counted."""

from __future__ import annotations

from typing import Any

from bench.common import Check, Context, Outcome
from bench.fanout import measure, rig
from bench.report import table, verdict
from bench.servers import REFERENCE, ServerSpec

KS = (100, 1_000)
QUICK_KS = (50,)
RATE = 10.0
DURATION = 30.0
QUICK_DURATION = 3.0
PROBES = 5
# The targets, at K = 1,000 and R = 10/s: p99 in ms, and 100% delivered.
TARGET_K = 1_000
TARGET_P99_MS = {"redis": 100.0, "embedded": 300.0}


def target_for(spec: ServerSpec, k: int) -> float | None:
    if spec.kind != "daphne" or k != TARGET_K or spec.mode is None:
        return None
    return TARGET_P99_MS[spec.mode]


def run(ctx: Context) -> Outcome:
    ks = QUICK_KS if ctx.quick else KS
    duration = QUICK_DURATION if ctx.quick else DURATION
    plan: list[tuple[ServerSpec, int]] = [(s, k) for s in ctx.daphne_specs() for k in ks]
    plan.append((REFERENCE, ks[-1]))
    rows: list[dict[str, Any]] = []
    for spec, k in plan:
        background = ctx.wait_for_quiet()
        print(f"latency: {spec.label}, K={k} ...", flush=True)
        with rig(spec, ctx, connections=k, probes=min(PROBES, k)) as setup:
            setup.server.settle()
            window = measure(setup, rate=RATE, duration=duration)
        target = target_for(spec, k)
        p99 = window.p(99)
        met = None
        if target is not None:
            met = window.complete and p99 is not None and p99 <= target
        rows.append(
            {
                "server": spec.label,
                "mode": spec.mode or "reference",
                "K": k,
                "background_cores_before": background,
                "target_p99_ms": target,
                "target_met": met,
                **window.summary(),
            }
        )
    headers = [
        "server",
        "K",
        "R/s",
        "sent",
        "delivered",
        "p50 ms",
        "p99 ms",
        "max ms",
        "server CPU %",
        "other CPU %",
        "target",
    ]
    body = [
        [
            r["server"],
            r["K"],
            r["rate_events_per_s"],
            r["sent"],
            f"{100 * r['delivered_fraction']:.2f}%",
            r["p50_ms"],
            r["p99_ms"],
            r["max_ms"],
            r["server_cpu_percent"],
            r["other_cpu_percent"],
            "—"
            if r["target_p99_ms"] is None
            else f"p99 ≤ {r['target_p99_ms']:g} ms, 100%: {verdict(r['target_met'])}",
        ]
        for r in rows
    ]
    checks = [
        Check(
            f"K={r['K']}, R={r['rate_events_per_s']:g}/s: p99 ≤ {r['target_p99_ms']:g} ms and "
            f"100% delivered ({r['server']})",
            r["target_met"],
            f"p99 {r['p99_ms']} ms, {100 * r['delivered_fraction']:.2f}% delivered",
        )
        for r in rows
        if r["target_p99_ms"] is not None
    ]
    checks += [
        Check(
            f"every event delivered (K={r['K']}, {r['server']})",
            False,
            f"{r['delivered']:,} of {r['expected_deliveries']:,} "
            f"({100 * r['delivered_fraction']:.2f}%), {r['duplicates']} duplicates",
        )
        for r in rows
        if r["delivered"] != r["expected_deliveries"] or r["duplicates"]
    ]
    title = f"Commit-to-receipt latency ({PROBES} probes, {duration:g} s at {RATE:g} events/s)"
    return Outcome(
        checks=checks,
        params={"ks": list(ks), "rate": RATE, "duration_s": duration, "probes": PROBES},
        results={"windows": rows},
        tables=[table(headers, body, title)],
    )
