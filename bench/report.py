"""What every result carries (machine, versions, git revision), tables, and the JSON files."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import RESULTS_DIR, ROOT, servers

PACKAGES = (
    "django",
    "channels",
    "daphne",
    "channels-redis",
    "redis",
    "websockets",
    "twisted",
    "autobahn",
    "psycopg",
)


def _proc_field(path: str, name: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == name:
                return value.strip()
    except OSError:
        pass
    return None


def machine() -> dict[str, Any]:
    mem_kb = _proc_field("/proc/meminfo", "MemTotal")
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _proc_field("/proc/cpuinfo", "model name") or platform.processor(),
        "memory_mb": int(mem_kb.split()[0]) // 1024 if mem_kb else None,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for package in PACKAGES:
        try:
            found[package.replace("-", "_")] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package.replace("-", "_")] = None
    found["redis_server"] = servers.redis_version()
    found["postgresql_server"] = servers.postgres_version()
    return found


# What can change a figure: everything tracked but documentation and the results themselves
# (a run writes them as it goes).
CODE_PATHS = (".", ":(exclude)*.md", ":(exclude)bench/results")


def _git(*args: str) -> str | None:
    """A read-only git command's output, or None without git or outside a repository."""
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def code_state() -> dict[str, Any]:
    """The server code a measurement ran: HEAD, plus the tracked files changed in the working
    tree and a hash of that diff (so two runs of the same uncommitted code can be matched)."""
    head = (_git("rev-parse", "HEAD") or "").strip() or None
    status = _git("status", "--porcelain", "--untracked-files=no", "--", *CODE_PATHS) or ""
    dirty = [line[3:] for line in status.splitlines() if line.strip()]
    diff = _git("diff", "HEAD", "--", *CODE_PATHS) or ""
    return {
        "git_revision": f"{head}+dirty" if head and dirty else head,
        "uncommitted_changes": dirty,
        "uncommitted_diff_sha256": hashlib.sha256(diff.encode()).hexdigest()[:16]
        if dirty
        else None,
    }


def git_revision() -> str | None:
    revision: str | None = code_state()["git_revision"]
    return revision


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_result(
    scenario: str,
    *,
    started_at: str,
    params: dict[str, Any],
    results: Any,
    tables: list[str],
    checks: list[dict[str, Any]],
    notes: list[str],
    code: dict[str, Any],
    results_dir: Path = RESULTS_DIR,
) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    document = {
        "scenario": scenario,
        "machine": machine(),
        "versions": versions(),
        **code,
        "started_at": started_at,
        "finished_at": now_iso(),
        "params": params,
        "checks": checks,
        "notes": notes,
        "results": results,
        "tables": tables,
    }
    path = results_dir / f"{scenario}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
    tmp.replace(path)
    return path


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "") -> str:
    """A Markdown table (readable in a terminal, pastable into docs/performance.md)."""
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

    out = [f"**{title}**", ""] if title else []
    out.append(line(headers))
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "MISSED")


SCENARIO_ORDER = ("memory", "latency", "throughput", "filtering", "ingest", "scrape", "soak")


def _describe_code(document: dict[str, Any]) -> str:
    revision = document.get("git_revision") or "unknown revision"
    dirty = document.get("uncommitted_changes") or []
    if not dirty:
        return f"git {revision}"
    return (
        f"git {revision}, uncommitted changes to {', '.join(dirty)} "
        f"(diff sha256 {document.get('uncommitted_diff_sha256')})"
    )


def summary(results_dir: Path = RESULTS_DIR) -> str:
    """The latest result of every scenario as Markdown, for docs/performance.md."""
    documents = []
    for name in SCENARIO_ORDER:
        path = results_dir / f"{name}.json"
        if path.exists():
            documents.append(json.loads(path.read_text()))
    if not documents:
        return "No results yet: run `python -m bench` first."
    first = documents[0]
    m, v = first["machine"], first["versions"]
    quick = any(d["params"].get("quick") for d in documents)
    lines = [
        f"Run {min(d['started_at'] for d in documents)} to "
        f"{max(d['finished_at'] for d in documents)}"
        + (" (**--quick**: small K, short windows; targets not judged)" if quick else "")
        + ".",
        "",
        f"- Machine: {m['cpu_model']}, {m['cpu_count']} CPUs, {m['memory_mb']:,} MB, "
        f"{m['platform']}, Python {m['python']}",
        "- Versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val),
    ]
    codes = {d["scenario"]: _describe_code(d) for d in documents}
    if len(set(codes.values())) == 1:
        lines.append(f"- Code: {next(iter(codes.values()))}")
    else:
        lines.append("- Code (it changed between scenarios):")
        lines += [f"  - {name}: {code}" for name, code in codes.items()]
    checks = [c for d in documents for c in d.get("checks", [])]
    if checks:
        lines += [
            "",
            table(
                ["target", "result", "measured"],
                [[c["name"], verdict(c["met"]), c["detail"]] for c in checks],
                "Targets",
            ),
        ]
    for d in documents:
        for block in d["tables"]:
            lines += ["", block]
        for note in d.get("notes", []):
            lines += ["", f"> {note}"]
    return "\n".join(lines)
