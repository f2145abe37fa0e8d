"""Targets hold secrets (Slack and Discord hook URLs are credentials; ntfy topics are guessable
names; SMTP URLs carry passwords): once saved they are only ever shown masked, and text that
leaves the sender (an error reason, a log line) has them scrubbed."""

from __future__ import annotations

from urllib.parse import urlsplit

SHOWN_TAIL = 4


def mask_target(kind: str, target: str) -> str:
    """`https://hooks.slack.com/…X9k2`: enough to recognise it, not enough to use it."""
    if kind == "email":
        return target
    parts = urlsplit(target)
    if parts.scheme in ("http", "https") and parts.hostname:
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        rest = (parts.path + ("?" + parts.query if parts.query else "")).rstrip("/")
        tail = rest[-SHOWN_TAIL:] if len(rest) > SHOWN_TAIL * 2 else ""
        return f"{parts.scheme}://{host}/…{tail}"
    scheme = target.split("://", 1)[0] if "://" in target else ""
    return f"{scheme}://…" if scheme else "…"


def scrub(text: str, *secrets: str) -> str:
    """Replace every secret (and its URL path, which httpx may quote alone) in `text`."""
    for secret in secrets:
        if not secret:
            continue
        text = text.replace(secret, "[redacted]")
        parts = urlsplit(secret)
        if parts.path and len(parts.path) > 1:
            text = text.replace(parts.path, "/[redacted]")
    return text
