"""Filtering: do sockets that did not subscribe to a type cost anything when it is published?

Same server, three windows of `new_job` at R/s to K subscribers:
A1 with only them; B after K more sockets joined, subscribed only to `scrape_completed`;
A2 after those left again. A1 vs A2 is the noise; B vs the mean of A1 and A2 is the effect
(server CPU per event, p50, p99). The extra sockets must receive nothing at all.
"""

from __future__ import annotations

from typing import Any

from bench.common import Check, Context, Outcome
from bench.fanout import Window, measure, rig
from bench.report import table
from bench.servers import ServerSpec

K = 500
QUICK_K = 50
RATE = 10.0
DURATION = 15.0
QUICK_DURATION = 2.0
PROBES = 5
OTHERS_QUERY = "events=scrape_completed"
# An effect is "measurable" when it exceeds both twice the A1/A2 spread and this floor.
FLOOR = 0.10
# What the verdict rests on. The p99 of one window rests on its top 1% (about 8 of 750
# samples), and varies between identical windows by far more than the floor: it is shown,
# with its threshold, but a cost must show in the CPU per event or the median.
JUDGED = ("cpu_ms_per_event", "p50_ms")


def _relative(value: float | None, base: float | None) -> float | None:
    if value is None or not base:
        return None
    return round((value - base) / base, 3)


def _mean(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else (a + b) / 2


def compare(a1: Window, b: Window, a2: Window, others_received: int) -> dict[str, Any]:
    def cpu(w: Window) -> float:
        return w.server_cpu_seconds / w.sent if w.sent else 0.0

    metrics = {
        "cpu_ms_per_event": (1000 * cpu(a1), 1000 * cpu(b), 1000 * cpu(a2)),
        "p50_ms": (a1.p(50), b.p(50), a2.p(50)),
        "p99_ms": (a1.p(99), b.p(99), a2.p(99)),
    }
    out: dict[str, Any] = {}
    measurable = []
    for name, (x1, y, x2) in metrics.items():
        base = _mean(x1, x2)
        # The spread between the two identical windows, relative to their mean.
        noise = abs(x1 - x2) / base if base and x1 is not None and x2 is not None else None
        effect = _relative(y, base)
        threshold = max(FLOOR, 2 * (noise or 0.0))
        found = effect is not None and effect > threshold
        out[name] = {
            "A1": x1,
            "B": y,
            "A2": x2,
            "effect": effect,
            "noise": round(noise, 3) if noise is not None else None,
            "threshold": round(threshold, 3),
            "measurable": found,
            "judged": name in JUDGED,
        }
        if found and name in JUDGED:
            measurable.append(name)
    out["others_received_messages"] = others_received
    out["all_complete"] = a1.complete and b.complete and a2.complete
    out["nothing_measurable"] = not measurable and others_received == 0
    out["measurable_effects"] = measurable
    return out


def measure_server(spec: ServerSpec, ctx: Context, k: int, duration: float) -> dict[str, Any]:
    with rig(spec, ctx, connections=k, probes=PROBES) as setup:
        ctx.wait_for_quiet()
        setup.server.settle()
        a1 = measure(setup, rate=RATE, duration=duration)
        others = ctx.client(setup.server.ws_url, spec, "others")
        try:
            others.open(k, OTHERS_QUERY)
            others.call("reset", run=-1)
            ctx.wait_for_quiet()
            setup.server.settle()
            b = measure(setup, rate=RATE, duration=duration)
            received = sum(others.call("collect", sent=0)["types"].values())
        finally:
            others.close()
        ctx.wait_for_quiet()
        setup.server.settle()
        a2 = measure(setup, rate=RATE, duration=duration)
    return {
        "server": spec.label,
        "windows": {"A1": a1.summary(), "B": b.summary(), "A2": a2.summary()},
        **compare(a1, b, a2, received),
    }


def run(ctx: Context) -> Outcome:
    k = QUICK_K if ctx.quick else K
    duration = QUICK_DURATION if ctx.quick else DURATION
    rows = []
    for spec in ctx.daphne_specs():
        print(f"filtering: {spec.label}, K={k} (+{k} others) ...", flush=True)
        rows.append(measure_server(spec, ctx, k, duration))
    headers = ["server", "metric", "A1", "B (+others)", "A2", "effect", "threshold", "verdict"]
    body = []
    for r in rows:
        for metric in ("cpu_ms_per_event", "p50_ms", "p99_ms"):
            m = r[metric]
            body.append(
                [
                    r["server"],
                    metric,
                    m["A1"],
                    m["B"],
                    m["A2"],
                    "—" if m["effect"] is None else f"{m['effect']:+.0%}",
                    f"{m['threshold']:.0%}",
                    ("measurable" if m["measurable"] else "none measurable")
                    + ("" if m["judged"] else " (tail, not judged)"),
                ]
            )
        body.append(
            [
                r["server"],
                "messages to the others",
                "",
                r["others_received_messages"],
                "",
                "",
                "",
                "",
            ]
        )
    title = (
        f"Filtering: {k} `new_job` subscribers, then {k} more on `scrape_completed` only "
        f"({RATE:g} events/s, {duration:g} s windows)"
    )
    checks = [
        Check(
            f"unsubscribed sockets cost nothing measurable ({r['server']})",
            None if ctx.quick else r["nothing_measurable"],
            "effects: "
            + (", ".join(r["measurable_effects"]) or "none")
            + f"; {r['others_received_messages']} messages to the others",
        )
        for r in rows
    ]
    return Outcome(
        checks=checks,
        params={"K": k, "others": k, "rate": RATE, "duration_s": duration, "floor": FLOOR},
        results={"servers": rows},
        tables=[table(headers, body, title)],
    )
