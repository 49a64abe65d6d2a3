"""ETA honesty (issue 11): is the time left that the job shows at 25% and 50% the time that was left?

Each video is reconstructed in a fresh process with a ``report`` that records every
forecast the pipeline makes (overall share, seconds left), as the server's worker receives
them. At the first forecast at or past 25% and 50%, the seconds left shown are compared
with the seconds the job actually still took.

    .venv/bin/python benchmarks/bench_eta.py --realdata DIR [--videos a.mp4,b.mp4]

Default videos: the bundled sample, tests/data/castle_courtyard.mp4 and every ``*.mp4`` in
``--realdata`` (default ``$OPENSTRATE_REALDATA``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, sys, time
from pathlib import Path
from openstrate_nb.local.pipeline import reconstruct

class Recorder:
    def __init__(self):
        self.start, self.pending, self.points = time.monotonic(), None, []
    def estimate(self, overall, eta_s, video_frames):  # just before the report it belongs to
        self.pending = (overall, eta_s)
    def __call__(self, stage, current, total):
        if self.pending is not None:
            self.points.append((time.monotonic() - self.start, stage, *self.pending))
            self.pending = None

recorder = Recorder()
reconstruct(Path(sys.argv[1]), Path(sys.argv[2]), recorder)
print(json.dumps({"total_s": time.monotonic() - recorder.start, "points": recorder.points}))
"""


def measure(video: Path) -> dict:
    with tempfile.TemporaryDirectory() as work:
        done = subprocess.run([sys.executable, "-c", CHILD, str(video), work], capture_output=True, text=True,
                              timeout=1800, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def at_share(result: dict, share: float) -> tuple[float, str, float, float]:
    """(elapsed s, stage, seconds left shown, seconds actually left) at the first forecast >= share."""
    for elapsed, stage, overall, eta in result["points"]:
        if overall >= share:
            return elapsed, stage, eta, result["total_s"] - elapsed
    raise ValueError(f"the forecast never reached {share:.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realdata", type=Path, default=os.environ.get("OPENSTRATE_REALDATA"))
    parser.add_argument("--videos", default=None, help="comma-separated paths instead of the defaults")
    args = parser.parse_args()
    if args.videos:
        videos = [Path(v) for v in args.videos.split(",")]
    else:
        sys.path.insert(0, str(ROOT))
        from _common import real_footage

        videos = real_footage(args.realdata)
    print("| video | total s | at 25%: shown / actually left (error) | at 50%: shown / actually left (error) |")
    print("|---|---|---|---|")
    for video in videos:
        result = measure(video)
        cells = []
        for share in (0.25, 0.5):
            elapsed, stage, shown, left = at_share(result, share)
            cells.append(f"{shown:.0f} s / {left:.0f} s ({100 * (shown / left - 1):+.0f}%, at {elapsed:.0f} s in {stage})")
        print(f"| {video.stem} | {result['total_s']:.0f} | {cells[0]} | {cells[1]} |", flush=True)


if __name__ == "__main__":
    main()
