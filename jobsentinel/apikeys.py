"""API keys: which keys are valid, and how a request carries one. One rule for the REST API and
the WebSocket endpoint: `Authorization: Bearer KEY`, else `X-API-Key: KEY`, else `?api_key=KEY`
(for browsers, which cannot set headers on a WebSocket). The first way present is the one
judged. Keys are never logged (daphne's access log is written without query strings)."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from urllib.parse import parse_qs

from django.conf import settings
from django.http import HttpRequest

QUERY_PARAMETER = "api_key"


def keys_required() -> bool:
    return bool(settings.API_KEYS)


def is_valid_key(candidate: str | None) -> bool:
    if not candidate:
        return False
    # Compare against every key in constant time so timing does not reveal a prefix.
    matched = False
    for key in settings.API_KEYS:
        matched |= hmac.compare_digest(candidate.encode(), key.encode())
    return matched


def key_from_authorization(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def presented_key(
    *, authorization: str | None, x_api_key: str | None, query_string: str
) -> str | None:
    """The key a request carries, by the one rule (see the module docstring)."""
    bearer = key_from_authorization(authorization)
    if bearer:
        return bearer
    if x_api_key and x_api_key.strip():
        return x_api_key.strip()
    values = parse_qs(query_string).get(QUERY_PARAMETER)
    return values[0] if values else None


def key_from_asgi(headers: Iterable[tuple[bytes, bytes]], query_string: bytes) -> str | None:
    """The key of an ASGI connection (the WebSocket)."""
    found: dict[bytes, str] = {}
    for name, value in headers:
        lowered = name.lower()
        if lowered in (b"authorization", b"x-api-key") and lowered not in found:
            found[lowered] = value.decode("latin-1")
    return presented_key(
        authorization=found.get(b"authorization"),
        x_api_key=found.get(b"x-api-key"),
        query_string=query_string.decode("latin-1"),
    )


def key_from_request(request: HttpRequest) -> str | None:
    """The key of an HTTP request (the REST API)."""
    return presented_key(
        authorization=request.META.get("HTTP_AUTHORIZATION"),
        x_api_key=request.META.get("HTTP_X_API_KEY"),
        query_string=request.META.get("QUERY_STRING", ""),
    )
