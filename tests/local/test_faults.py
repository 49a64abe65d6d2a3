"""The server killed (SIGKILL) in the middle of an upload, a download and a job, then restarted.

The server runs as ``openstrate-nb serve`` in a process of its own so it can really die.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import psutil
import pytest
from _media import fake_mp4

from openstrate_nb import APIConnectionError, OpenStrate


def _running_worker(server, client, job_id):
    """Wait until the job's worker runs the pipeline; its process, as a one-item list."""
    deadline = time.monotonic() + 30
    while client.status(job_id).stage != "thinking":
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.05)
    workers = [p for p in psutil.Process(server.process.pid).children() if "_worker" in " ".join(p.cmdline())]
    assert len(workers) == 1
    return workers


def test_killed_during_an_upload_the_client_says_so_and_nothing_half_written_remains(served, tmp_path):
    server = served("--workers", "0", "--max-upload-mb", "500")
    big = fake_mp4(tmp_path / "big.mp4", 120 * 1024 * 1024)
    killed = threading.Event()

    def on_progress(sent, total):
        if sent > total // 4 and not killed.is_set():
            killed.set()
            server.kill()

    with pytest.raises(APIConnectionError, match="Could not talk to"):
        OpenStrate(server.base_url, max_upload_bytes=500 * 2**20).upload(big, on_progress=on_progress)
    assert killed.is_set()
    server.start()  # same port, same data directory
    assert list((server.data_dir / "tmp").iterdir()) == []
    assert list((server.data_dir / "files").iterdir()) == []


def test_killed_during_a_download_the_client_resumes_after_the_restart(served, tmp_path):
    server = served("--workers", "0")
    data = b"glTF" + os.urandom(40 * 1024 * 1024)
    (tmp_path / "big.glb").write_bytes(data)
    with OpenStrate(server.base_url, max_retries=10) as client:
        upload = client.upload(tmp_path / "big.glb")
        seen = []
        killed = threading.Event()

        def on_progress(received, total):
            seen.append(received)
            if received > len(data) // 5 and not killed.is_set():
                killed.set()
                server.kill()
                threading.Thread(target=server.start, daemon=True).start()

        path = client.download(upload, tmp_path / "copy.glb", on_progress=on_progress)
    assert killed.is_set() and path.read_bytes() == data
    assert seen == sorted(seen), "progress went back to zero: the download restarted instead of resuming"


def test_killed_during_a_job_the_restarted_server_runs_it_again(served, video):
    server = served("--pipeline", "_pipelines:sleeping_pipeline")
    client = OpenStrate(server.base_url, poll_interval=0.05)
    upload = client.upload(video)
    workers = _running_worker(server, client, upload.job_id)
    server.kill()
    workers[0].wait(10)  # the worker dies with its server, not orphaned
    server.args = ("--pipeline", "_pipelines:quick_pipeline")
    server.start()
    job = client.wait(upload.job_id, timeout=60)
    assert job.status == "complete" and job.extra["attempts"] == 2
    assert httpx.get(job.glb_asset_url).content[:4] == b"glTF"


def test_the_worker_process_killed_mid_job_is_retried(served, video):
    server = served("--pipeline", "_pipelines:sleeping_pipeline", "--job-timeout", "0.5")
    client = OpenStrate(server.base_url, poll_interval=0.05)
    upload = client.upload(video)
    (worker,) = _running_worker(server, client, upload.job_id)
    worker.send_signal(signal.SIGKILL)
    deadline = time.monotonic() + 30
    while client.status(upload.job_id).extra["attempts"] < 2:
        assert time.monotonic() < deadline, "the job was not retried"
        time.sleep(0.05)
    job = client.status(upload.job_id)
    assert job.status in ("pending", "processing")
