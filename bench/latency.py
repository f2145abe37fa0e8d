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
# The targets at K = 1,000 and R = 10/s, in both modes: 100% delivered, and a p99 at most
# TARGET_RATIO times the reference server's p99 in the same run and at most TARGET_P99_MS.
TARGET_K = 1_000
TARGET_RATIO = 6.0
TARGET_P99_MS = 100.0


def target_for(kind: str, k: int, reference_p99: float | None) -> float | None:
    if kind != "daphne" or k != TARGET_K or reference_p99 is None:
        return None
    return min(TARGET_RATIO * reference_p99, TARGET_P99_MS)


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
        rows.append(
            {
                "server": spec.label,
                "kind": spec.kind,
                "mode": spec.mode or "reference",
                "K": k,
                "background_cores_before": background,
                "complete": window.complete,
                **window.summary(),
            }
        )
    # The reference runs last (at the largest K): its p99 sets the daphne targets.
    reference_p99 = rows[-1]["p99_ms"]
    for row in rows:
        target = target_for(row["kind"], row["K"], reference_p99)
        row["target_p99_ms"] = None if target is None else round(target, 1)
        row["target_met"] = (
            None
            if target is None
            else row["complete"] and row["p99_ms"] is not None and row["p99_ms"] <= target
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
            f"K={r['K']}, R={r['rate_events_per_s']:g}/s: p99 ≤ {TARGET_RATIO:g} times the "
            f"reference's and ≤ {TARGET_P99_MS:g} ms, 100% delivered ({r['server']})",
            r["target_met"],
            f"p99 {r['p99_ms']} ms (target {r['target_p99_ms']} ms; reference "
            f"{reference_p99} ms), {100 * r['delivered_fraction']:.2f}% delivered",
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
