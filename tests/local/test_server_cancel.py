"""Cancel (an extension of the embedded server): the job ends ``failed``/``cancelled`` and its worker is gone."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from openstrate_nb import APIStatusError, CancelNotSupportedError, NotFoundError, OpenStrate

SLEEPING = "_pipelines:sleeping_pipeline"


def _worker_pids(job_id: str) -> set[int]:
    """This process's worker children running ``job_id`` (Linux /proc; the job's folder is on the command line)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == os.getpid() and b"openstrate_nb.local._worker" in command and job_id.encode() in command:
            found.add(int(entry.name))
    return found


def _running(client: OpenStrate, job_id: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.status(job_id)
        if job.stage == "thinking":
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never started")


def _gone(job_id: str, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _worker_pids(job_id):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(sys.platform != "linux", reason="finds worker processes through /proc")
def test_a_running_job_is_cancelled_and_its_worker_killed(start_server, video):
    server = start_server(pipeline=SLEEPING)
    with OpenStrate(server.base_url) as client:
        job_id = client.upload(video).job_id
        _running(client, job_id)
        assert _worker_pids(job_id)
        job = client.cancel(job_id)
        # The answer already says so; the worker follows at once (SIGKILL).
        assert (job.status, job.code) == ("failed", "cancelled")
        assert "cancelled" in job.error
        assert _gone(job_id)
        assert client.status(job_id).code == "cancelled"
        assert client.cancel(job_id).code == "cancelled"  # again: the same answer, no error


def test_a_queued_job_never_starts(start_server, video):
    server = start_server(pipeline=SLEEPING, workers=1)
    with OpenStrate(server.base_url) as client:
        first = client.upload(video).job_id
        _running(client, first)
        second = client.upload(video).job_id
        assert client.status(second).status == "pending"
        assert client.cancel(second).code == "cancelled"
        client.cancel(first)
        time.sleep(0.5)  # time enough for the freed worker to pick up a job if it wrongly would
        after = client.status(second)
        assert (after.status, after.code, after.extra["attempts"]) == ("failed", "cancelled", 0)


def test_ended_and_unknown_jobs_cannot_be_cancelled(client, video):
    job = client.wait(client.upload(video).job_id, timeout=120)
    with pytest.raises(APIStatusError) as ended:
        client.cancel(job.job_id)
    assert ended.value.status_code == 409 and "already ended (complete)" in str(ended.value)
    with pytest.raises(NotFoundError):
        client.cancel("00000000-0000-0000-0000-000000000000")


def test_a_server_that_cannot_cancel_says_so_and_the_job_goes_on():
    # The hosted service's root is a web page, not a document with a server_id.
    calls = []

    def hosted(request):
        calls.append(request.method)
        return httpx.Response(200, text="<html>OpenStrate</html>", headers={"content-type": "text/html"})

    with pytest.raises(CancelNotSupportedError, match="cannot stop jobs, so job j1 goes on there"):
        OpenStrate("http://t", transport=httpx.MockTransport(hosted)).cancel("j1")
    assert calls == ["GET"]  # nothing was posted


def test_the_cli_cancels_a_job(start_server, video):
    server = start_server(pipeline=SLEEPING)
    with OpenStrate(server.base_url) as client:
        job_id = client.upload(video).job_id
        _running(client, job_id)
    done = subprocess.run([sys.executable, "-m", "openstrate_nb.cli", "cancel", job_id, "--base-url", server.base_url],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{job_id}: failed (cancelled)"
