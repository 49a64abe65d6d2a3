"""The embedded server under load: status latency while a reconstruction runs, and upload ingest.

    python benchmarks/bench_server.py [--pollers 100] [--seconds 20] [--size-mb 200]

1. Status latency: the real pipeline reconstructs the bundled sample video while
   ``--pollers`` concurrent clients each poll its status every ``--interval`` seconds
   (0.5 s by default: ten times the pace the service asks for); p50/p95/max.
2. Ingest: the same file sent with ``curl -F`` to ``/api/upload`` and to a bare ASGI app on
   the same stack (uvicorn + Starlette) that only discards the body. Target ratio >= 0.7.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _common import fake_mp4, free_port, machine, percentile, serve, wait_until_up

from openstrate_nb.local import sample_video


async def poll_status(base: str, job_id: str, pollers: int, seconds: float,
                      interval: float) -> tuple[list[float], int, str]:
    latencies: list[float] = []
    errors = 0
    last_status = ""
    limits = httpx.Limits(max_connections=pollers, max_keepalive_connections=pollers)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
        deadline = time.monotonic() + seconds

        async def poller(offset: float) -> None:
            nonlocal errors, last_status
            await asyncio.sleep(offset)
            while time.monotonic() < deadline and last_status in ("", "pending", "processing"):
                start = time.perf_counter()
                r = await http.get(f"/api/reconstruct/status/{job_id}")
                elapsed = time.perf_counter() - start
                if r.status_code != 200:
                    errors += 1
                else:
                    last_status = r.json()["status"]
                    if last_status == "processing":  # only what was measured while the CPU was busy
                        latencies.append(elapsed)
                await asyncio.sleep(max(0.0, interval - (time.perf_counter() - start)))

        await asyncio.gather(*(poller(i * interval / pollers) for i in range(pollers)))
    return latencies, errors, last_status


def curl_upload(url: str, path: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["curl", "-sS", "-o", "/dev/null", "-F", f"file=@{path}", url], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pollers", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        with serve(tmp / "data", "--max-upload-mb", str(args.size_mb * 2)) as (base, _):
            with sample_video().open("rb") as f:
                job_id = httpx.post(f"{base}/api/upload", files={"file": ("sample.mp4", f)}, timeout=60).json()["job_id"]
            while httpx.get(f"{base}/api/reconstruct/status/{job_id}").json()["status"] != "processing":
                time.sleep(0.1)
            latencies, errors, status = asyncio.run(poll_status(base, job_id, args.pollers, args.seconds, args.interval))
            stage = httpx.get(f"{base}/api/reconstruct/status/{job_id}").json().get("stage")
            ms = [x * 1000 for x in latencies]
            print(f"status latency, {args.pollers} pollers every {args.interval:g} s for up to {args.seconds:g} s, "
                  "counting only answers while the reconstruction ran "
                  f"(job {status} at the end, stage {stage}): {len(ms)} requests, {errors} errors, "
                  f"p50 {percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f} ms, max {max(ms):.1f} ms")

        big = fake_mp4(tmp / "big.mp4", args.size_mb * 1024 * 1024)
        mb = big.stat().st_size / 1e6
        ours, bare = [], []
        with serve(tmp / "ingest", "--workers", "0", "--max-upload-mb", str(args.size_mb * 2)) as (base, _):
            port = free_port()
            baseline = subprocess.Popen([sys.executable, "-m", "uvicorn", "_bare_asgi:app", "--port", str(port),
                                         "--log-level", "warning"], cwd=Path(__file__).parent)
            try:
                wait_until_up(f"http://127.0.0.1:{port}/")
                for _ in range(args.rounds):
                    ours.append(curl_upload(f"{base}/api/upload", big))
                    bare.append(curl_upload(f"http://127.0.0.1:{port}/api/upload", big))
                    for stored in (tmp / "ingest" / "files").iterdir():
                        stored.unlink()
            finally:
                baseline.terminate()
                baseline.wait(10)
        print(f"ingest of {mb:.0f} MB, best of {args.rounds}: /api/upload {mb / min(ours):.0f} MB/s "
              f"(parsed, hashed, stored), bare ASGI {mb / min(bare):.0f} MB/s; "
              f"ratio {min(bare) / min(ours):.2f} (target >= 0.7)")


if __name__ == "__main__":
    main()
