"""50 concurrent uploads, then 200 concurrent pollers, against ``openstrate-nb serve``.

    python benchmarks/bench_load.py [--uploads 50] [--pollers 200] [--seconds 30] [--interval 1]

The server runs the real pipeline with one worker, so a reconstruction competes for the
two cores the whole time. Targets (issue 7): no errors, no lost job, status p95 < 200 ms,
server memory bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import psutil
from _common import machine, percentile, serve
from _media import write_video

from openstrate_nb import AsyncOpenStrate


async def run(base: str, paths: list[Path], pollers: int, seconds: float, interval: float) -> dict:
    async with AsyncOpenStrate(base, timeout=120) as client:
        start = time.perf_counter()
        uploads = await asyncio.gather(*(client.upload(p) for p in paths), return_exceptions=True)
        upload_seconds = time.perf_counter() - start
        upload_errors = [u for u in uploads if isinstance(u, BaseException)]
        job_ids = [u.job_id for u in uploads if not isinstance(u, BaseException)]
        latencies: list[float] = []
        errors: list[str] = []
        deadline = time.monotonic() + seconds

        async def poller(n: int) -> None:
            await asyncio.sleep(n * interval / pollers)
            while time.monotonic() < deadline:
                began = time.perf_counter()
                try:
                    await client.status(job_ids[n % len(job_ids)])
                except Exception as exc:
                    errors.append(repr(exc))
                latencies.append(time.perf_counter() - began)
                await asyncio.sleep(max(0.0, interval - (time.perf_counter() - began)))

        await asyncio.gather(*(poller(n) for n in range(pollers)))
        statuses = [(await client.status(j)).status for j in job_ids]
    return {"upload_seconds": upload_seconds, "upload_errors": upload_errors, "jobs": len(set(job_ids)),
            "latencies": latencies, "errors": errors, "statuses": statuses}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--pollers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = [write_video(tmp / f"clip{n:02d}.mp4", frames=30, size=(320, 240)) for n in range(args.uploads)]
        with serve(tmp / "data", "--workers", "1") as (base, process):
            server = psutil.Process(process.pid)
            rss_before = server.memory_info().rss
            result = asyncio.run(run(base, paths, args.pollers, args.seconds, args.interval))
            rss_after = server.memory_info().rss
        clip_kb = paths[0].stat().st_size / 1e3
    ms = [x * 1000 for x in result["latencies"]]
    counts = {s: result["statuses"].count(s) for s in sorted(set(map(str, result["statuses"])))}
    print(f"machine: {machine()}; real pipeline, 1 worker busy throughout")
    print(f"{args.uploads} concurrent uploads ({clip_kb:.0f} kB each): "
          f"{result['upload_seconds']:.1f} s, {len(result['upload_errors'])} errors, {result['jobs']} distinct jobs")
    print(f"{args.pollers} pollers every {args.interval:g} s for {args.seconds:g} s: {len(ms)} status calls, "
          f"{len(result['errors'])} errors, p50 {percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f} ms, "
          f"max {max(ms):.1f} ms (target p95 < 200 ms)")
    print(f"jobs at the end: {counts}; server RSS {rss_before / 2**20:.0f} -> {rss_after / 2**20:.0f} MB")


if __name__ == "__main__":
    main()
