from __future__ import annotations

from tests.alerts.receivers import receiver, smtp_receiver

__all__ = ["receiver", "smtp_receiver"]
