"""Progress forwarding with a heartbeat, so long native calls still report about twice a
second, a timer per stage, and a forecast of the whole job.

The forecast is what lets a person read the bar as "how long is left": every stage has an
expected duration, predicted from what is known so far (the video's frames and size, then
the keyframes, then the placed views) with per-unit costs measured on the real footage of
``benchmarks/bench_realworld.py`` on the 2-core dev machine. The overall fraction is
expected work done over expected work, never decreasing; the time left is the expected
work still to do, with the running stage's own measured pace once it has counted a fifth
of its work (``benchmarks/bench_eta.py`` measures how honest it is).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Iterator

from ._result import ProgressCallback

#: The stages in the order they run, with what a person reads for each.
STAGES: tuple[tuple[str, str], ...] = (
    ("decoding", "reading the video"),
    ("keyframes", "choosing keyframes"),
    ("features", "finding features"),
    ("matching", "matching features"),
    ("mapping", "placing cameras"),
    ("depth", "measuring depth"),
    ("fusion", "fusing the depth maps"),
    ("meshing", "building the mesh"),
    ("texture", "texturing the mesh"),
    ("export", "writing the files"),
)
STAGE_NAMES = tuple(name for name, _ in STAGES)


def expected_seconds(*, frames: int, megapixels: float, keyframes: int, upsampled: bool, depth_views: int,
                     exhaustive: bool, match_overlap: int = 10) -> dict[str, float]:
    """Seconds each stage takes on the 2-core dev machine, from the work it has to do.

    Per-unit costs fitted on the sample and the real sets (castle30, dino48, poster_cube):
    decoding per frame and megapixel, keyframes per frame, SIFT per keyframe megapixel (four
    times the pixels when small frames are upsampled), matching per pair, mapping per
    keyframe, depth and fusion per depth view.
    """
    pairs = keyframes * (keyframes - 1) / 2 if exhaustive else keyframes * (match_overlap + 7)
    return {
        "decoding": 0.2 + 0.03 * frames * megapixels,
        "keyframes": 0.5 + 0.05 * frames,
        "features": 0.5 + 0.3 * keyframes * megapixels * (4 if upsampled else 1),
        "matching": 0.5 + 0.02 * pairs,
        "mapping": 0.5 + 0.22 * keyframes,
        "depth": 0.5 + 0.6 * depth_views,
        "fusion": 0.2 + 0.1 * depth_views,
        "meshing": 0.5 + 0.04 * depth_views,
        "texture": 0.5 + 0.1 * keyframes,
        "export": 0.9,
    }


class Progress:
    """Wraps the caller's ``report``; remembers the last call so a heartbeat can repeat it.

    When ``report`` also has an ``estimate(overall, eta_s, video_frames)`` method (the
    server's worker does), every report is preceded by the forecast of the whole job.
    """

    def __init__(self, report: ProgressCallback, interval: float = 0.5):
        self._report = report
        self._estimate = getattr(report, "estimate", None)
        self._interval = interval
        self._lock = threading.Lock()
        self._last: tuple[str, int, int] | None = None
        self._last_time = 0.0
        self.seconds: dict[str, float] = {}  # wall time per stage, in the order they ran
        self.forecast: dict[str, float] = {}  # expected seconds per stage (expect())
        self.video_frames: int | None = None
        self._stage_started: dict[str, float] = {}
        self._overall = 0.0

    def expect(self, seconds: dict[str, float]) -> None:
        """New expected durations for the stages not finished yet."""
        with self._lock:
            self.forecast.update({k: v for k, v in seconds.items() if k not in self.seconds})

    def __call__(self, stage: str, current: int, total: int) -> None:
        with self._lock:
            self._last = (stage, int(current), int(total))
            self._last_time = time.monotonic()
            # The forecast first, so the report it belongs to carries it.
            if self._estimate is not None and self.forecast and stage in self.forecast:
                overall, eta = self._outlook(stage, int(current), int(total))
                self._estimate(overall, eta, self.video_frames)
            self._report(stage, int(current), int(total))

    def _outlook(self, stage: str, current: int, total: int) -> tuple[float, float]:
        """(share of the expected work done, seconds left)."""
        forecast = self.forecast
        finished = [s for s in STAGE_NAMES if s in self.seconds and s != stage]
        expected_done = sum(forecast.get(s, 0.0) for s in finished)
        here = forecast[stage]
        elapsed = time.monotonic() - self._stage_started.get(stage, time.monotonic())
        counted = total > 0 and current > 0
        # Counted stages say how far they are; silent ones (one long COLMAP call) are judged
        # by time against what they were expected to take, short of done.
        share = min(1.0, current / total) if counted else min(0.95, elapsed / here)
        later = [s for s in STAGE_NAMES if s not in self.seconds and s != stage]
        expected_later = sum(forecast.get(s, 0.0) for s in later)
        # Once a counted stage is a fifth done, its own pace says best when it will end.
        # (A pace measured on earlier stages is not carried forward: on the real sets each
        # stage's error is its own, e.g. textureless views match 7x faster than predicted,
        # and scaling later stages by it made the forecast worse.)
        here_left = elapsed / share * (1.0 - share) if counted and share >= 0.2 else here * (1.0 - share)
        whole = expected_done + here + expected_later
        self._overall = max(self._overall, min(0.999, (expected_done + here * share) / whole))
        return self._overall, here_left + expected_later

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
        self._stage_started[name] = start
        try:
            with self.heartbeat(name, total):
                yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.monotonic() - start
