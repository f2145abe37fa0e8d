"""Sustained fan-out: with K subscribers fixed, raise the event rate until a window fails
(p99 > 250 ms, or anything not delivered), then bisect between the last pass and the first
failure. The figure is the highest passing deliveries/s (R times K), for daphne and for the
reference server in the same run, and their ratio; and embedded mode with two web processes
(`serve --workers 2`) against one, in the same run."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from bench.common import Check, Context, Outcome
from bench.fanout import Rig, Window, measure, rig
from bench.report import fmt, table, verdict
from bench.servers import EMBEDDED, REFERENCE, ServerSpec

K = 500
QUICK_K = 50
DURATION = 10.0
QUICK_DURATION = 2.0
START_DELIVERIES = 2_500.0
QUICK_START_DELIVERIES = 500.0
MAX_STEPS = 12
QUICK_MAX_STEPS = 2
# Stop bisecting when the last pass and the first failure are this close (ratio).
RESOLUTION = 1.2
QUICK_RESOLUTION = 1.6
FLOOR_DELIVERIES = 100.0
MAX_RATE = 5_000.0  # events/s: beyond this the producer, not the server, is being measured
P99_LIMIT_MS = 250.0
PRODUCER_SHORTFALL = 0.97
PROBES = 5
TARGET_RATIO = 0.30
SERVER_SATURATED_PERCENT = 90.0
TWO_WORKERS = dataclasses.replace(EMBEDDED, workers=2)
WORKERS_TARGET = 1.5  # two web processes against one, in the same run


def judge(window: Window) -> str | None:
    """Why a window fails, or None if it passes."""
    if window.closed:
        return f"{window.closed} connection(s) closed"
    if not window.complete:
        return f"delivered {100 * window.delivered_fraction:.2f}%"
    p99 = window.p(99)
    if p99 is None or p99 > P99_LIMIT_MS:
        return f"p99 {p99} ms"
    achieved = window.producer.get("achieved_rate") or 0.0
    if window.sent < window.producer["planned"] or achieved < PRODUCER_SHORTFALL * window.rate:
        return f"producer behind ({achieved}/s of {window.rate:g}/s)"
    return None


def climb(setup: Rig, ctx: Context, k: int) -> dict[str, Any]:
    duration = QUICK_DURATION if ctx.quick else DURATION
    max_steps = QUICK_MAX_STEPS if ctx.quick else MAX_STEPS
    resolution = QUICK_RESOLUTION if ctx.quick else RESOLUTION
    target = QUICK_START_DELIVERIES if ctx.quick else START_DELIVERIES
    passed: float | None = None
    failed: float | None = None
    steps: list[dict[str, Any]] = []
    limited_by = ""
    while len(steps) < max_steps:
        rate = min(target / k, MAX_RATE)
        window, why = None, None
        for attempt in (1, 2) if not ctx.quick else (2,):
            # A failure while other work loaded the machine gets one more try.
            ctx.wait_for_quiet()
            setup.server.settle(timeout=60)
            window = measure(setup, rate=rate, duration=duration)
            why = judge(window)
            if why is None or not window.noisy or attempt == 2:
                break
            print(f"  noisy failure ({why}); retrying", flush=True)
        assert window is not None
        deliveries = rate * k
        steps.append(
            {
                "deliveries_per_s": round(deliveries, 1),
                "passed": why is None,
                "failure": why,
                "load_client_saturated": window.load_client_saturated,
                **window.summary(),
            }
        )
        print(
            f"  {deliveries:>10,.0f} deliveries/s: {'pass' if why is None else why} "
            f"(p99 {window.p(99)} ms, server CPU {steps[-1]['server_cpu_percent']}%)",
            flush=True,
        )
        if why is None:
            passed = max(passed or 0.0, deliveries)
        else:
            failed = deliveries if failed is None else min(failed, deliveries)
            if why.startswith("producer behind"):
                break
        if rate >= MAX_RATE and why is None:
            limited_by = "producer"
            break
        if failed is None:
            target = deliveries * 2
        elif passed is None:
            target = deliveries / 2
            if target < FLOOR_DELIVERIES:
                break
        elif failed / passed <= resolution:
            break
        else:
            target = math.sqrt(passed * failed)
    boundary = next((s for s in steps if s["deliveries_per_s"] == round(failed or -1, 1)), None)
    return {
        "best_deliveries_per_s": passed,
        "first_failure_deliveries_per_s": failed,
        "failure": boundary["failure"] if boundary else None,
        "limited_by": limited_by or (limiting_factor(boundary) if boundary else "—"),
        "steps": steps,
    }


def limiting_factor(step: dict[str, Any]) -> str:
    """What ran out in the failing step closest to the figure."""
    if str(step["failure"]).startswith("producer behind"):
        return "producer"
    if step["server_cpu_percent"] >= SERVER_SATURATED_PERCENT:
        return "server CPU"
    if step["load_client_saturated"]:
        return "client CPU"
    if step["noisy"]:
        return "other load"
    return "server latency"


def run(ctx: Context) -> Outcome:
    k = QUICK_K if ctx.quick else K
    specs: list[ServerSpec] = [*ctx.daphne_specs(), TWO_WORKERS, REFERENCE]
    climbs: dict[str, dict[str, Any]] = {}
    for spec in specs:
        print(f"throughput: {spec.label}, K={k} ...", flush=True)
        with rig(spec, ctx, connections=k, probes=PROBES) as setup:
            climbs[spec.label] = {"server": spec.label, **climb(setup, ctx, k)}
    reference = climbs[REFERENCE.label]["best_deliveries_per_s"]
    rows = []
    for label, result in climbs.items():
        best = result["best_deliveries_per_s"]
        ratio = best / reference if best is not None and reference else None
        result["ratio_to_reference"] = round(ratio, 3) if ratio is not None else None
        daphne = not label.startswith("reference")
        result["target_met"] = (ratio is not None and ratio >= TARGET_RATIO) if daphne else None
        rows.append(result)
    headers = [
        "server",
        "best deliveries/s",
        "first failure",
        "failed because",
        "limited by",
        "ratio",
        f"target ≥ {TARGET_RATIO:.0%}",
    ]
    body = [
        [
            r["server"],
            r["best_deliveries_per_s"],
            r["first_failure_deliveries_per_s"],
            r["failure"] or "—",
            r["limited_by"],
            "—" if r["ratio_to_reference"] is None else f"{r['ratio_to_reference']:.1%}",
            verdict(r["target_met"]),
        ]
        for r in rows
    ]
    duration = QUICK_DURATION if ctx.quick else DURATION
    title = f"Sustained fan-out, K = {k}, p99 ≤ {P99_LIMIT_MS:g} ms and 100% delivered"
    step_rows = [
        [
            r["server"],
            s["deliveries_per_s"],
            s["rate_events_per_s"],
            f"{100 * s['delivered_fraction']:.2f}%",
            s["p50_ms"],
            s["p99_ms"],
            s["server_cpu_percent"],
            s["load_client_cpu_percent"],
            s["other_cpu_percent"],
            "pass" if s["passed"] else s["failure"],
        ]
        for r in rows
        for s in r["steps"]
    ]
    step_headers = [
        "server",
        "deliveries/s",
        "R/s",
        "delivered",
        "p50 ms",
        "p99 ms",
        "server CPU %",
        "client CPU %",
        "other CPU %",
        "result",
    ]
    checks = [
        Check(
            f"sustained fan-out ≥ {TARGET_RATIO:.0%} of the reference ({r['server']})",
            r["target_met"] if not ctx.quick else None,
            f"{fmt(r['best_deliveries_per_s'])} vs {fmt(reference)} deliveries/s"
            + (f" = {r['ratio_to_reference']:.1%}" if r["ratio_to_reference"] is not None else ""),
        )
        for r in rows
        if not r["server"].startswith("reference")
    ]
    one, two = (climbs[spec.label]["best_deliveries_per_s"] for spec in (EMBEDDED, TWO_WORKERS))
    scaling = two / one if one and two else None
    checks.append(
        Check(
            f"two web processes sustain ≥ {WORKERS_TARGET:g} times one ({EMBEDDED.label})",
            (scaling is not None and scaling >= WORKERS_TARGET) if not ctx.quick else None,
            f"{fmt(two)} vs {fmt(one)} deliveries/s"
            + (f" = {scaling:.2f} times" if scaling is not None else ""),
        )
    )
    return Outcome(
        checks=checks,
        params={
            "K": k,
            "step_duration_s": duration,
            "probes": PROBES,
            "p99_limit_ms": P99_LIMIT_MS,
            "start_deliveries_per_s": QUICK_START_DELIVERIES if ctx.quick else START_DELIVERIES,
            "resolution": QUICK_RESOLUTION if ctx.quick else RESOLUTION,
        },
        results={"servers": rows},
        tables=[table(headers, body, title), table(step_headers, step_rows, "Steps")],
    )
