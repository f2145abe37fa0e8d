"""Builders for alert tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alerts import services
from alerts.models import Channel

DOCS = Path(__file__).resolve().parents[2] / "docs" / "alerts.md"
SECRET = "s3cret-signing-key-0123456789"


def add_channel(kind: str, target: str, **fields: Any) -> Channel:
    if kind == "webhook":
        fields.setdefault("secret", SECRET)
    fields.setdefault("min_score", 0.5)
    fields.setdefault("now", datetime(2026, 11, 1, tzinfo=UTC))
    channel, _ = services.channel_create(kind=kind, target=target, **fields)
    return channel


def docs_verify() -> Callable[..., bool]:
    """The signature check exactly as docs/alerts.md gives it to users."""
    text = DOCS.read_text()
    match = re.search(r"<!-- verify-snippet -->\s*```python\n(.*?)```", text, re.S)
    assert match, "docs/alerts.md lost its verification snippet"
    namespace: dict[str, Any] = {}
    exec(compile(match.group(1), str(DOCS), "exec"), namespace)
    return namespace["verify"]
