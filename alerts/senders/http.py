"""The one HTTP client of the senders: a short timeout, no redirects (a hook URL that
redirects is misconfigured, and following it could send the message somewhere else)."""

from __future__ import annotations

from typing import Any

import httpx
from django.conf import settings

from alerts.senders.outcome import Outcome, from_response, from_transport_error

USER_AGENT = f"JobSentinel/{settings.VERSION} (alerts)"


def post(url: str, *, headers: dict[str, str] | None = None, **body: Any) -> Outcome:
    timeout = httpx.Timeout(settings.ALERTS_TIMEOUT_SECONDS)
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            response = client.post(
                url, headers={"User-Agent": USER_AGENT, **(headers or {})}, **body
            )
    except httpx.HTTPError as exc:
        return from_transport_error(exc)
    return from_response(response)
