"""A stop at any moment loses nothing; a killed worker or a runaway job never leaves a job stuck."""

from __future__ import annotations

import time

import httpx
import pytest

from openstrate_nb import JobFailedError, OpenStrate
from openstrate_nb.local import start


def _wait_for_stage(base_url, job_id, predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = httpx.get(f"{base_url}/api/reconstruct/status/{job_id}").json()
        if predicate(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job never reached the state: {job}")


def test_stop_during_a_job_then_restart_finishes_it_and_keeps_everything(tmp_path, video):
    data = tmp_path / "data"
    with start(data_dir=data, pipeline="_pipelines:sleeping_pipeline") as first:
        with OpenStrate(first.base_url) as client:
            done_mesh = client.upload(video.with_suffix(".mp4"))  # a video whose job will be interrupted
            _wait_for_stage(first.base_url, done_mesh.job_id, lambda j: j["stage"] == "thinking")
    # Restart on the same data directory with a pipeline that finishes.
    with start(data_dir=data, pipeline="_pipelines:quick_pipeline") as second:
        with OpenStrate(second.base_url, poll_interval=0.05) as client:
            job = client.wait(done_mesh.job_id, timeout=60)
            assert job.status == "complete" and job.extra["attempts"] == 2
            assert httpx.get(second.base_url + f"/api/files/{done_mesh.asset}").content == video.read_bytes()
    # And a third start serves the finished result unchanged.
    with start(data_dir=data, workers=0) as third:
        again = httpx.get(f"{third.base_url}/api/reconstruct/status/{job.job_id}").json()
        assert again["status"] == "complete" and again["glb_asset_url"].endswith(job.asset)
        assert httpx.get(again["glb_asset_url"]).content[:4] == b"glTF"
    assert list((data / "tmp").iterdir()) == []


def test_a_killed_worker_is_retried_then_the_job_fails_with_a_reason(start_server, video):
    server = start_server(pipeline="_pipelines:crashing_pipeline")
    with OpenStrate(server.base_url, poll_interval=0.05) as client:
        upload = client.upload(video)
        with pytest.raises(JobFailedError, match="stopped unexpectedly") as err:
            client.wait(upload.job_id, timeout=60)
    assert err.value.job.extra["attempts"] == 3
    # The server still answers and runs other work.
    assert httpx.get(f"{server.base_url}/api/reconstruct/status/{upload.job_id}").status_code == 200


def test_a_job_over_the_time_limit_fails_and_its_worker_is_gone(start_server, video):
    import psutil

    server = start_server(pipeline="_pipelines:sleeping_pipeline", job_timeout=1.5)
    with OpenStrate(server.base_url, poll_interval=0.05) as client:
        upload = client.upload(video)
        with pytest.raises(JobFailedError, match="longer than this server's") as err:
            client.wait(upload.job_id, timeout=60)
    assert "--job-timeout" in err.value.error
    workers = [p for p in psutil.Process().children(recursive=True) if "openstrate_nb.local._worker" in " ".join(p.cmdline())
               and "sleeping_pipeline" in " ".join(p.cmdline())]
    assert workers == []


def test_a_job_whose_video_vanished_fails_clearly(tmp_path, video):
    data = tmp_path / "data"
    with start(data_dir=data, pipeline="_pipelines:sleeping_pipeline") as first:
        upload = OpenStrate(first.base_url).upload(video)
        _wait_for_stage(first.base_url, upload.job_id, lambda j: j["status"] == "processing")
    (data / "files" / upload.asset).unlink()
    with start(data_dir=data) as second, OpenStrate(second.base_url, poll_interval=0.05) as client:
        with pytest.raises(JobFailedError, match="no longer on this server; upload it again"):
            client.wait(upload.job_id, timeout=30)
