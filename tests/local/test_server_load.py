"""Load: 50 concurrent uploads and 200 concurrent pollers; no errors, no lost job, memory bounded.

Figures (latency percentiles) are measured by benchmarks/bench_load.py, not asserted here.
"""

from __future__ import annotations

import asyncio
import time

import psutil
from anyio.from_thread import start_blocking_portal
from _media import glb_bytes, write_video

from openstrate_nb import AsyncOpenStrate


async def _upload_all(base_url, paths):
    async with AsyncOpenStrate(base_url, timeout=120) as client:
        return await asyncio.gather(*(client.upload(p) for p in paths))


async def _poll_until_done(base_url, job_ids, pollers, deadline):
    errors, polls = [], 0
    done: dict[str, str] = {}
    async with AsyncOpenStrate(base_url, timeout=60) as client:
        async def poller(n):
            nonlocal polls
            while time.monotonic() < deadline and len(done) < len(job_ids):
                job_id = job_ids[(n + polls) % len(job_ids)]
                try:
                    job = await client.status(job_id)
                except Exception as exc:  # every failure counts, whatever it is
                    errors.append(repr(exc))
                else:
                    if job.is_terminal:
                        done[job_id] = str(job.status)
                polls += 1
                await asyncio.sleep(0.05)

        await asyncio.gather(*(poller(n) for n in range(pollers)))
    return done, errors, polls


def test_50_uploads_and_200_pollers(start_server, tmp_path, monkeypatch):
    glb = tmp_path / "result.glb"
    glb.write_bytes(glb_bytes())
    monkeypatch.setenv("OPENSTRATE_TEST_GLB", str(glb))  # read by the worker processes
    server = start_server(workers=2, pipeline="_pipelines:instant_pipeline")
    paths = [write_video(tmp_path / f"clip{n:02d}.mp4", frames=4 + n % 5) for n in range(50)]
    process = psutil.Process()
    rss_before = process.memory_info().rss
    # A loop of its own in a thread: another test in the session may have left this thread's loop running.
    with start_blocking_portal() as portal:
        uploads = portal.call(_upload_all, server.base_url, paths)
    assert len({u.job_id for u in uploads}) == 50 and all(u.reconstruction_started for u in uploads)
    assert [u.size for u in uploads] == [p.stat().st_size for p in paths]
    job_ids = [u.job_id for u in uploads]
    with start_blocking_portal() as portal:
        done, errors, polls = portal.call(_poll_until_done, server.base_url, job_ids, 200, time.monotonic() + 300)
    assert errors == []
    assert done == {job_id: "complete" for job_id in job_ids}, f"{len(done)} of 50 finished"
    assert polls > 200
    growth_mb = (process.memory_info().rss - rss_before) / 2**20
    assert growth_mb < 200, growth_mb
