"""A terminal progress bar: one line redrawn in place, or plain lines when not a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from .._contract import size_text

__all__ = ["ProgressBar"]


def time_left(seconds: float) -> str:
    """A forecast in words, without false precision (as the widget says it)."""
    if seconds < 10:
        return "a few seconds left"
    if seconds < 60:
        return f"about {round(seconds / 5) * 5} s left"
    return f"about {round(seconds / 60)} min left"


class ProgressBar:
    def __init__(self, label: str, stream: TextIO | None = None, width: int = 28, min_interval: float = 0.1):
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.min_interval = min_interval
        self.interactive = self.stream.isatty()
        self._last_draw = 0.0
        self._last_text = ""
        self._started = time.monotonic()

    def update(self, fraction: float | None, detail: str = "", *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < (self.min_interval if self.interactive else 2.0):
            return
        if fraction is None:
            bar = "·" * self.width
            percent = "  ?%"
        else:
            fraction = min(1.0, max(0.0, fraction))
            filled = int(round(fraction * self.width))
            bar = "█" * filled + "░" * (self.width - filled)
            percent = f"{fraction * 100:3.0f}%"
        text = f"{self.label:<12} {bar} {percent}  {detail}"
        if text == self._last_text and not force:
            return
        self._last_draw, self._last_text = now, text
        if self.interactive:
            self.stream.write("\r\033[K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def bytes(self, done: int, total: int | None) -> None:
        elapsed = max(1e-6, time.monotonic() - self._started)
        speed = f"{size_text(done / elapsed)}/s"
        size = f"{size_text(done)} / {size_text(total)}" if total else size_text(done)
        self.update(done / total if total else None, f"{size}  {speed}", force=bool(total and done >= total))

    def close(self, detail: str | None = None) -> None:
        if detail is not None:
            self.update(1.0, detail, force=True)
        if self.interactive and self._last_text:
            self.stream.write("\n")
            self.stream.flush()
