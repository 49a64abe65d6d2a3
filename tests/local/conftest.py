"""The bundled sample reconstructed by real server processes, once per session.

Two ``openstrate-nb serve`` processes (their own ports and data directories: one local
worker, and a Dask LocalCluster of two worker processes) run the real pipeline on the sample
at the same time. Each run keeps what a client saw: every job document polled twice a
second, the live preview's points as they were served, the result's files, and the stage
artifacts downloaded afterwards.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from _servers import ServerProcess

from openstrate_nb import Job, OpenStrate
from openstrate_nb.local import sample_video


@dataclass
class SampleRun:
    job: Job
    #: the result's files by kind: glb_asset, points, cameras
    files: dict[str, bytes]
    #: every job document polled while waiting
    seen: list[Job]
    #: the stage artifacts, downloaded into this folder once the job completed
    artifacts: Path
    #: (job document, PLY bytes) of each new live preview fetched while processing
    live: list[tuple[Job, bytes]] = field(default_factory=list)


@pytest.fixture(scope="session")
def sample_jobs(tmp_path_factory) -> dict:
    """{1: SampleRun on one local worker, "dask": SampleRun on a two-process Dask cluster}."""
    options = {1: ("--workers", "1"), "dask": ("--dask", "local:2")}
    servers = {name: ServerProcess(tmp_path_factory.mktemp(f"repro-{name}"), *args).start()
               for name, args in options.items()}

    def reconstruct(name, server: ServerProcess) -> SampleRun:
        with OpenStrate(server.base_url, poll_interval=0.5) as client:
            seen: list[Job] = []
            live: list[tuple[Job, bytes]] = []

            def on_update(job: Job) -> None:
                seen.append(job)
                if job.status == "processing" and job.points_url and (not live or live[-1][0].points_url != job.points_url):
                    answer = httpx.get(job.points_url)
                    if answer.status_code == 200:  # 404 only in the instant the job ends and its files move
                        live.append((job, answer.content))

            job = client.wait(client.upload(sample_video()).job_id, timeout=600, on_update=on_update)
            files = {kind: httpx.get(job.to_dict()[f"{kind}_url"]).content
                     for kind in ("glb_asset", "points", "cameras")}
            folder = client.download_artifacts(job, tmp_path_factory.mktemp(f"artifacts-{name}"))
            return SampleRun(job, files, seen, folder, live)

    try:
        with ThreadPoolExecutor(len(servers)) as pool:
            yield dict(zip(servers, pool.map(reconstruct, servers, servers.values())))
    finally:
        for server in servers.values():
            server.stop()
