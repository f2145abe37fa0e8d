"""The one HTTP client of the senders: a short timeout, no redirects (a hook URL that
redirects is misconfigured, and following it could send the message somewhere else)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from django.conf import settings

from alerts.senders.outcome import Outcome, from_response, from_transport_error

USER_AGENT = f"JobSentinel/{settings.VERSION} (alerts)"

_local = threading.local()


class _SilentWhileSending(logging.Filter):
    """httpx logs every request's full URL at INFO; an alert's URL is a credential."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_local, "sending", False)


logging.getLogger("httpx").addFilter(_SilentWhileSending())


@contextmanager
def _sending() -> Iterator[None]:
    _local.sending = True
    try:
        yield
    finally:
        _local.sending = False


def post(url: str, *, headers: dict[str, str] | None = None, **body: Any) -> Outcome:
    timeout = httpx.Timeout(settings.ALERTS_TIMEOUT_SECONDS)
    try:
        with _sending(), httpx.Client(timeout=timeout, follow_redirects=False) as client:
            response = client.post(
                url, headers={"User-Agent": USER_AGENT, **(headers or {})}, **body
            )
    except httpx.HTTPError as exc:
        return from_transport_error(exc)
    return from_response(response)
