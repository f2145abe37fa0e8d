"""API-key authentication for the REST API: the same keys and the same rule as the WebSocket
(`jobsentinel.apikeys`): `Authorization: Bearer KEY`, `X-API-Key: KEY` or `?api_key=KEY`.
Prefer a header: a URL can end up in a proxy's log, browser history and Referer headers.
Keys are never logged.

This module must not import DRF views or drf-spectacular's AutoSchema: DRF imports it while
`rest_framework.views` itself is still loading. Its OpenAPI description is in `schema`.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from jobsentinel.apikeys import is_valid_key, key_from_request, keys_required

KEY_HEADER = "X-API-Key"
# Sent with every 401. Its presence is also what makes DRF answer 401 rather than 403.
CHALLENGE = 'Bearer realm="jobsentinel"'


class ApiKey:
    """`request.auth` of a request that presented a valid key. Holds nothing secret, so it
    is safe to print or log."""

    def __repr__(self) -> str:
        return "<ApiKey>"


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticates requests that carry a valid API key; no user is attached.

    Listed first among the authentication classes: DRF takes the first class's
    `authenticate_header` for the challenge, and a key-authenticated write must never reach
    SessionAuthentication's CSRF check (a key is not ambient, so CSRF cannot forge it).
    """

    def authenticate(self, request: Request) -> tuple[AnonymousUser, ApiKey] | None:
        if not keys_required():
            return None  # open API: a stray header is neither needed nor judged
        key = key_from_request(request)
        if key is None:
            return None  # maybe a session; the permission decides
        if not is_valid_key(key):
            raise exceptions.AuthenticationFailed("Invalid API key.")
        return AnonymousUser(), ApiKey()

    def authenticate_header(self, request: Request) -> str:
        return CHALLENGE
