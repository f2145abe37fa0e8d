"""Who may use the API: everyone when no keys are configured, else key holders and
logged-in users (the WebSocket's rule, plus the session a browser already has)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from jobs.api.authentication import ApiKey
from jobsentinel.apikeys import keys_required


class ApiAccess(BasePermission):
    # A request with no credentials at all gets DRF's 401 (with the Bearer challenge) instead.
    message = "An API key or a logged-in session is required."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not keys_required():
            # Open by design: without keys the server binds to loopback only by default.
            return True
        if isinstance(request.auth, ApiKey):
            return True
        return bool(request.user and request.user.is_authenticated)
