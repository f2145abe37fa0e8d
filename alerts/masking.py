"""Targets hold secrets (Slack and Discord hook URLs are credentials; ntfy topics are guessable
names; SMTP URLs carry passwords): once saved they are only ever shown masked, and text that
leaves the sender (an error reason, a log line) has them scrubbed."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
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


# Libraries that log request URLs (httpx at INFO; Apprise and urllib3 at DEBUG, Apprise from
# its own threads): while a channel is being sent to, their lines that mention any piece of
# its target or secret are dropped.
CHATTY_LOGGERS = ("httpx", "httpcore.http11", "httpcore.connection", "apprise",
                  "urllib3.connectionpool")  # fmt: skip
MIN_PIECE = 6
_in_use: dict[str, int] = {}
_lock = threading.Lock()


def secret_pieces(*values: str) -> set[str]:
    """The value, its URL path, and each longer piece (host, user, token) of it."""
    pieces: set[str] = set()
    for value in values:
        if not value:
            continue
        pieces.add(value)
        path = urlsplit(value).path if "://" in value else ""
        if len(path) > 1:
            pieces.add(path)
        pieces.update(p for p in re.split(r"[/:@?&=#]+", value) if len(p) >= MIN_PIECE)
    return pieces


class _DropSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not _in_use:
            return True
        text = record.getMessage()
        with _lock:
            pieces = list(_in_use)
        return not any(piece in text for piece in pieces)


_filter = _DropSecrets()
for _name in CHATTY_LOGGERS:
    logging.getLogger(_name).addFilter(_filter)


@contextmanager
def secrets_in_use(*values: str) -> Iterator[None]:
    pieces = secret_pieces(*values)
    with _lock:
        for piece in pieces:
            _in_use[piece] = _in_use.get(piece, 0) + 1
    try:
        yield
    finally:
        with _lock:
            for piece in pieces:
                _in_use[piece] -= 1
                if not _in_use[piece]:
                    del _in_use[piece]
