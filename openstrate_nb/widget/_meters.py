"""Small bookkeeping for progress display: throttling, transfer rates, elapsed time.

Every trait change is one websocket message to every open view, so background threads
report at most a few times a second (always the final value).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

__all__ = ["Throttle", "TransferMeter", "job_elapsed"]


class Throttle:
    """``ready()`` is true at most once per ``interval`` seconds, and always when ``final``."""

    def __init__(self, interval: float = 0.25):
        self.interval = interval
        self._last = float("-inf")

    def ready(self, final: bool = False) -> bool:
        now = time.monotonic()
        if final or now - self._last >= self.interval:
            self._last = now
            return True
        return False


class TransferMeter:
    """Bytes, percent and average speed of one hop (browser → kernel, or kernel → server)."""

    def __init__(self, total: int, interval: float = 0.25):
        self.total = int(total)
        self.sent = 0
        self._started = time.monotonic()
        self._throttle = Throttle(interval)

    def update(self, sent: int) -> dict[str, Any] | None:
        """The hop's new state when it is worth sending, else None."""
        self.sent = int(sent)
        return self.snapshot() if self._throttle.ready(final=self.sent >= self.total) else None

    def snapshot(self) -> dict[str, Any]:
        seconds = max(time.monotonic() - self._started, 1e-6)
        return {"sent": self.sent, "total": self.total, "rate": self.sent / seconds}


def _timestamp(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def job_elapsed(extra: dict[str, Any], watched_since: float, now: float | None = None) -> float:
    """Seconds the job has been running: from the server's own timestamps when it sends them
    (so a widget attached after a kernel restart shows the true age), else since we began watching."""
    now = time.time() if now is None else now
    start = _timestamp(extra.get("started_at")) or _timestamp(extra.get("created_at")) or watched_since
    end = _timestamp(extra.get("finished_at")) or now
    return max(0.0, end - start)
