"""Benchmarks for the WebSocket fan-out: `python -m bench` (or `make bench`).

Everything runs on one machine over loopback: the server under test (daphne, or the minimal
`websockets` reference server) as a subprocess, clients in their own processes, and an
open-loop producer in another. See `docs/performance.md` for the method and the figures.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
