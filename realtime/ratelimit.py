"""Per-connection message limits: two token buckets (per minute and per hour)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(slots=True)
class TokenBucket:
    capacity: float
    per_seconds: float
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = self.capacity
        self.updated = time.monotonic()

    def _refill(self, now: float) -> None:
        rate = self.capacity / self.per_seconds
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * rate)
        self.updated = now

    def take(self, now: float) -> bool:
        self._refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def seconds_until_token(self) -> float:
        rate = self.capacity / self.per_seconds
        return max(0.0, (1.0 - self.tokens) / rate)


class MessageRateLimiter:
    """`allow()` is True while both buckets have a token. Refused messages count as strikes;
    a client that keeps sending after being told is disconnected by the consumer."""

    def __init__(self, per_minute: int, per_hour: int, max_strikes: int = 10) -> None:
        self.minute = TokenBucket(per_minute, 60.0)
        self.hour = TokenBucket(per_hour, 3600.0)
        self.max_strikes = max_strikes
        self.strikes = 0

    def _take(self) -> bool:
        """One message from both buckets, or from neither: both are checked before either is
        spent, so a refusal by one bucket does not spend the other."""
        now = time.monotonic()
        self.minute._refill(now)
        self.hour._refill(now)
        if self.minute.tokens < 1.0 or self.hour.tokens < 1.0:
            return False
        self.minute.take(now)
        self.hour.take(now)
        return True

    def allow(self) -> bool:
        if self._take():
            self.strikes = 0
            return True
        self.strikes += 1
        return False

    def charge(self) -> float:
        """Spend one message of the allowance on work the server does for the client (a page
        of a replay): 0.0 when spent, else the seconds to wait for one. Never a strike: the
        client asked once, the server paces itself."""
        return 0.0 if self._take() else max(self.retry_after(), 0.01)

    @property
    def exhausted(self) -> bool:
        return self.strikes > self.max_strikes

    def retry_after(self) -> float:
        return round(max(self.minute.seconds_until_token(), self.hour.seconds_until_token()), 2)
