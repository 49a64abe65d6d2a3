"""Progress keeps flowing while a long native call runs (fast)."""

from __future__ import annotations

import threading

from openstrate_nb.local.pipeline._progress import Progress


def test_heartbeat_repeats_progress_during_a_silent_call():
    calls = []
    beats = threading.Event()

    def report(stage, current, total):
        calls.append((stage, current, total))
        if len([c for c in calls if c[0] == "mapping"]) >= 4:
            beats.set()

    progress = Progress(report, interval=0.05)
    progress("matching", 7, 7)
    with progress.heartbeat("mapping", 10):
        progress("mapping", 3, 10)
        assert beats.wait(timeout=30)  # the body is "silent": only the heartbeat reports
    mapping = [c for c in calls if c[0] == "mapping"]
    assert mapping[0] == ("mapping", 0, 10)
    assert all(c in {("mapping", 0, 10), ("mapping", 3, 10)} for c in mapping)

