"""What the stage artifacts and the live preview cost (targets: <= 1.1x wall time, <= 50 MB
more disk per job).

    .venv/bin/python benchmarks/bench_stages.py [--rounds 1]

The bundled sample and the 20 s rendered walkthrough (bench_reconstruction.py renders it once
and keeps it), each reconstructed with ``PipelineOptions(stage_artifacts=False)`` and with
the default (artifacts and preview on), in a fresh process each, alternating which goes first
from round to round. Reported: the best wall time of each, their ratio, and the bytes under
the work directory's ``stages/`` (what a job keeps on the server).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run_once(video: str, stage_artifacts: bool) -> tuple[float, int, dict]:
    """Seconds of one reconstruction, bytes of its stage artifacts, and its seconds per stage."""
    from openstrate_nb.local.pipeline import PipelineOptions, reconstruct

    work = Path(tempfile.mkdtemp(prefix="bench-stages-"))
    try:
        started = time.perf_counter()
        artifacts = reconstruct(Path(video), work, lambda *a: None, options=PipelineOptions(stage_artifacts=stage_artifacts))
        seconds = time.perf_counter() - started
        stages = work / "stages"
        size = sum(p.stat().st_size for p in stages.rglob("*") if p.is_file()) if stages.exists() else 0
        return seconds, size, artifacts.stats["seconds"]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def in_fresh_process(video: Path, stage_artifacts: bool) -> tuple[float, int, dict]:
    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(run_once, str(video), stage_artifacts).result()


def main() -> None:
    import bench_reconstruction
    from _common import machine

    from openstrate_nb.local import sample_video

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    print(machine())
    videos = {"sample (8 s, 640x360)": sample_video(), "walkthrough (20 s, 960x540)": bench_reconstruction.video("walkthrough")}
    print("| video | without (s) | with (s) | ratio | artifacts on disk |")
    print("|---|---|---|---|---|")
    for label, video in videos.items():
        best = {False: float("inf"), True: float("inf")}
        size = 0
        for r in range(args.rounds):
            for flag in ((False, True) if r % 2 == 0 else (True, False)):
                seconds, bytes_, _ = in_fresh_process(video, flag)
                best[flag] = min(best[flag], seconds)
                size = max(size, bytes_)
                print(f"  {label} artifacts={flag}: {seconds:.1f} s, {bytes_ / 1e6:.1f} MB", flush=True)
        print(f"| {label} | {best[False]:.1f} | {best[True]:.1f} | {best[True] / best[False]:.2f}x | "
              f"{size / 1e6:.1f} MB |", flush=True)


if __name__ == "__main__":
    main()
