"""Jobs on a Dask cluster against local workers: throughput, and what the Dask path adds per job.

    python benchmarks/bench_dask.py [--copies 8] [--overhead-jobs 8]

1. Throughput: ``--copies`` uploads of the bundled sample, all at once, to
   ``openstrate-nb serve`` with local workers (``--workers 1``, ``2``) and with a Dask
   LocalCluster (``--dask local:1``, ``local:2``), in one run; jobs per minute from the
   first upload to the last completion.
2. Overhead per job: the same paths with a pipeline that only copies a real result GLB
   (tests/_pipelines.py ``instant_pipeline``), one job at a time, so what is left is the
   path itself: scattering the video, scheduling, the worker process, the GLB coming back.
   The Dask path's extra seconds per job, as a share of the sample's own wall time
   (target <= 5%).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from _common import machine, serve

from openstrate_nb import OpenStrate
from openstrate_nb.local import sample_video

TESTS = Path(__file__).resolve().parents[1] / "tests"
PATHS = {"local workers": "--workers", "Dask LocalCluster": "--dask"}


def _server_args(path: str, workers: int) -> list[str]:
    return [PATHS[path], f"local:{workers}" if path == "Dask LocalCluster" else str(workers)]


def throughput(path: str, workers: int, copies: int, video: Path, glb_out: Path) -> float:
    """Jobs per minute for ``copies`` uploads sent at once."""
    with tempfile.TemporaryDirectory() as data, serve(Path(data), *_server_args(path, workers)) as (base, _):
        with OpenStrate(base, poll_interval=0.5) as client:
            started = time.perf_counter()
            jobs = [client.upload(video, filename=f"copy{i}.mp4").job_id for i in range(copies)]
            finished = [client.wait(job_id, timeout=3600) for job_id in jobs]
            seconds = time.perf_counter() - started
            if not glb_out.exists():
                client.download(finished[0], glb_out)
    return copies / (seconds / 60)


def seconds_per_job(path: str, jobs: int, video: Path, glb: Path) -> list[float]:
    """Upload-to-complete seconds of ``jobs`` jobs one after another, with the copying pipeline."""
    os.environ["OPENSTRATE_TEST_GLB"] = str(glb)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])
    times = []
    with tempfile.TemporaryDirectory() as data, serve(Path(data), *_server_args(path, 1), "--pipeline",
                                                      "_pipelines:instant_pipeline") as (base, _):
        with OpenStrate(base, poll_interval=0.02) as client:
            client.wait(client.upload(video).job_id, timeout=120)  # warm: imports, the cluster's first task
            for _ in range(jobs):
                started = time.perf_counter()
                client.wait(client.upload(video).job_id, timeout=120)
                times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--overhead-jobs", type=int, default=8)
    args = parser.parse_args()
    video = sample_video()
    print(f"machine: {machine()}; video: {video.name} ({video.stat().st_size / 2**20:.1f} MiB)")
    with tempfile.TemporaryDirectory() as scratch:
        glb = Path(scratch) / "sample.glb"
        rates = {}
        for workers in (1, 2):
            for path in PATHS:
                rates[path, workers] = throughput(path, workers, args.copies, video, glb)
                print(f"throughput  {path:18s} {workers} worker(s): {rates[path, workers]:5.2f} jobs/min "
                      f"({args.copies} copies)", flush=True)
        sample_seconds = 60 / rates["local workers", 1]
        per_job = {path: seconds_per_job(path, args.overhead_jobs, video, glb) for path in PATHS}
        glb_mib = glb.stat().st_size / 2**20
    for path, times in per_job.items():
        print(f"path alone  {path:18s} median {statistics.median(times):.3f} s per job "
              f"(min {min(times):.3f}, max {max(times):.3f}; {len(times)} jobs, a {glb_mib:.1f} MiB GLB back)")
    extra = statistics.median(per_job["Dask LocalCluster"]) - statistics.median(per_job["local workers"])
    print(f"Dask path overhead: {extra:+.3f} s per job = {100 * extra / sample_seconds:+.2f}% of the sample's "
          f"{sample_seconds:.1f} s (target <= 5%)")
    for workers in (1, 2):
        ratio = rates["Dask LocalCluster", workers] / rates["local workers", workers]
        print(f"throughput ratio Dask/local, {workers} worker(s): {ratio:.3f}")


if __name__ == "__main__":
    main()
