"""Live socket counts for this process: the caps of the guide and the health endpoint."""

from __future__ import annotations

from collections import Counter

from django.conf import settings


class ConnectionRegistry:
    def __init__(self) -> None:
        self.total = 0
        self.per_ip: Counter[str] = Counter()

    def try_add(self, ip: str) -> str | None:
        """Count a new connection; None if admitted, else why not."""
        if self.total >= settings.WS_MAX_CONNECTIONS:
            return "server connection limit reached"
        if self.per_ip[ip] >= settings.WS_MAX_CONNECTIONS_PER_IP:
            return "too many connections from this address"
        self.total += 1
        self.per_ip[ip] += 1
        return None

    def remove(self, ip: str) -> None:
        self.total = max(0, self.total - 1)
        self.per_ip[ip] -= 1
        if self.per_ip[ip] <= 0:
            del self.per_ip[ip]


registry = ConnectionRegistry()
