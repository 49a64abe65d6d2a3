"""Progress forwarding with a heartbeat, so long native calls still report about twice a
second, and a timer per stage."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Iterator

from ._result import ProgressCallback


class Progress:
    """Wraps the caller's ``report``; remembers the last call so a heartbeat can repeat it."""

    def __init__(self, report: ProgressCallback, interval: float = 0.5):
        self._report = report
        self._interval = interval
        self._lock = threading.Lock()
        self._last: tuple[str, int, int] | None = None
        self._last_time = 0.0
        self.seconds: dict[str, float] = {}  # wall time per stage, in the order they ran

    def __call__(self, stage: str, current: int, total: int) -> None:
        with self._lock:
            self._last = (stage, int(current), int(total))
            self._last_time = time.monotonic()
            self._report(stage, int(current), int(total))

    def throttled(self, stage: str, current: int, total: int, every: float = 0.2) -> None:
        """Report unless the last report is more recent than ``every`` seconds (tight loops)."""
        if time.monotonic() - self._last_time >= every or current >= total:
            self(stage, current, total)

    @contextmanager
    def heartbeat(self, stage: str, total: int) -> Iterator[None]:
        """While the body runs (typically one long C++ call), report ``stage`` at least twice a second,
        repeating the last count reported for it."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self._interval):
                last = self._last
                current, of = (last[1], last[2]) if last and last[0] == stage else (0, total)
                self(stage, current, of)

        if not self._last or self._last[0] != stage:
            self(stage, 0, total)
        thread = threading.Thread(target=beat, name=f"progress-{stage}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    @contextmanager
    def stage(self, name: str, total: int) -> Iterator[None]:
        """Run one stage: report it (with a heartbeat while the body is silent) and time it."""
        start = time.monotonic()
        try:
            with self.heartbeat(name, total):
                yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.monotonic() - start
