"""``openstrate-nb serve --dask``: a real Dask cluster of separate processes runs the jobs.

The cluster is a ``dask scheduler`` and two ``dask worker`` processes (each in a session
of its own, so a test can SIGKILL a worker with its pipeline process), the server an
``openstrate-nb serve`` process. The workers run the quick test pipeline, slowed per frame
so a job lasts long enough to be interrupted.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import distributed
import psutil
import pytest
from _servers import ServerProcess

from openstrate_nb import JobFailedError, OpenStrate

QUICK = "_pipelines:quick_pipeline"
SECONDS_PER_FRAME = 0.25  # the 12-frame test video then takes about 3 s on a worker


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DaskCluster:
    """A scheduler and named workers, each a process group of its own."""

    def __init__(self, tmp: Path):
        self.address = f"tcp://127.0.0.1:{_free_port()}"
        self.tmp = tmp
        self.workers: dict[str, subprocess.Popen] = {}
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
                    "OPENSTRATE_TEST_FRAME_DELAY": str(SECONDS_PER_FRAME)}
        port = self.address.rsplit(":", 1)[1]
        self.scheduler = self._spawn("scheduler", [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host",
                                                   "127.0.0.1", "--port", port, "--dashboard-address", ":0"])
        self.client = distributed.Client(self.address, timeout="30s")

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        log = (self.tmp / f"{name}.log").open("ab")
        return subprocess.Popen(command, stdout=log, stderr=log, env=self.env, start_new_session=True)

    def add_worker(self, name: str) -> None:
        self.workers[name] = self._spawn(name, [
            sys.executable, "-m", "distributed.cli.dask_worker", self.address, "--name", name, "--nthreads", "1",
            "--host", "127.0.0.1", "--dashboard-address", ":0", "--local-directory", str(self.tmp / name)])
        self.wait_for_workers()

    def wait_for_workers(self) -> None:
        self.client.wait_for_workers(len(self.workers), timeout=60)

    def kill_worker(self, name: str) -> None:
        """SIGKILL the worker's whole group: nanny, worker and the pipeline process it runs."""
        process = self.workers.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        deadline = time.monotonic() + 30
        while len(self.client.scheduler_info()["workers"]) > len(self.workers):
            assert time.monotonic() < deadline, "the scheduler never noticed the killed worker"
            time.sleep(0.1)

    def events(self, server_id: str) -> list[dict]:
        return [message for _, message in self.client.get_events(f"openstrate-{server_id}")]

    def close(self) -> None:
        self.client.close()
        for process in [*self.workers.values(), self.scheduler]:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cluster = DaskCluster(tmp_path_factory.mktemp("dask"))
    try:
        cluster.add_worker("w1")
        cluster.add_worker("w2")
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def two_workers(cluster):
    """Both workers up before the test, whatever the one before it killed."""
    for name in ("w1", "w2"):
        if name not in cluster.workers:
            cluster.add_worker(name)
    return cluster


def _done_events(cluster: DaskCluster, server_id: str, job_id: str) -> list[dict]:
    return [m for m in cluster.events(server_id) if m.get("job") == job_id and m["event"]["event"] == "done"]


def _pipeline_processes(job_video_dir_hint: str = "openstrate-job-") -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        if "openstrate_nb.local._worker" in command and job_video_dir_hint in command:
            found.append(process)
    return found


def _wait_for(predicate, timeout=60, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_four_uploads_complete_on_the_cluster_with_the_results_of_local_workers(two_workers, served, server, video):
    dask_server = served("--dask", two_workers.address, "--pipeline", QUICK)
    with OpenStrate(dask_server.base_url, poll_interval=0.05) as client:
        jobs = [client.upload(video).job_id for _ in range(4)]
        # Progress reaches the job document live, as with local workers: several values before the end.
        seen = set()
        while (job := client.status(jobs[0])).status != "complete":
            assert not job.is_terminal, job.error
            if job.progress is not None:
                seen.add(round(job.progress, 2))
            time.sleep(0.1)
        assert len(seen) >= 3, seen
        finished = [client.wait(job_id, timeout=120) for job_id in jobs]
        glbs = {hashlib.sha256(httpx.get(job.glb_asset_url).content).hexdigest() for job in finished}
        server_id = client.server_id()
    # Both workers took part (each runs one job at a time).
    workers = {m["event"]["worker"] for m in two_workers.events(server_id) if m["event"]["event"] == "started"}
    assert workers == {"w1", "w2"}
    # The same GLB as the local workers make of the same video.
    with OpenStrate(server.base_url, poll_interval=0.05) as local:
        local_job = local.wait(local.upload(video).job_id, timeout=60)
        assert glbs == {hashlib.sha256(httpx.get(local_job.glb_asset_url).content).hexdigest()}
    assert all(job.extra["attempts"] == 1 for job in finished)


def test_a_worker_killed_mid_job_leaves_the_job_to_the_other(two_workers, served, video):
    dask_server = served("--dask", two_workers.address, "--pipeline", QUICK)
    with OpenStrate(dask_server.base_url, poll_interval=0.05) as client:
        job_id = client.upload(video).job_id
        server_id = client.server_id()
        started = _wait_for(lambda: [m for m in two_workers.events(server_id)
                                     if m.get("job") == job_id and m["event"]["event"] == "started"],
                            what="the job to start on a worker")
        _wait_for(lambda: (client.status(job_id).progress or 0) > 0.05, what="progress on the worker")
        victim = started[0]["event"]["worker"]
        pipeline_pid = _wait_for(lambda: [p.pid for p in _pipeline_processes()], what="the pipeline process")
        two_workers.kill_worker(victim)
        job = client.wait(job_id, timeout=120)
    assert job.status == "complete" and job.extra["attempts"] == 2
    starts = [m["event"]["worker"] for m in two_workers.events(server_id)
              if m.get("job") == job_id and m["event"]["event"] == "started"]
    assert starts[0] == victim and starts[-1] != victim
    assert len(_done_events(two_workers, server_id, job_id)) == 1
    assert not any(psutil.pid_exists(pid) for pid in pipeline_pid), "the killed worker's pipeline lives on"
    # No half files: the video, the GLB and the cameras, nothing in the scratch folders.
    data = dask_server.data_dir
    assert sorted(p.suffix for p in (data / "files").iterdir()) == [".glb", ".json", ".mp4"]
    assert list((data / "tmp").iterdir()) == [] and list((data / "jobs").iterdir()) == []


def test_jobs_survive_a_killed_server_and_run_once(two_workers, served, video):
    first = served("--dask", two_workers.address, "--pipeline", QUICK)
    with OpenStrate(first.base_url, poll_interval=0.05) as client:
        jobs = [client.upload(video).job_id for _ in range(2)]
        server_id = client.server_id()
        _wait_for(lambda: {m["job"] for m in two_workers.events(server_id) if m["event"]["event"] == "started"}
                  == set(jobs), what="both jobs to start on the cluster")
    first.kill()
    second = ServerProcess(first.data_dir, "--dask", two_workers.address, "--pipeline", QUICK)
    second.port = first.port
    second.base_url = first.base_url
    second.start()
    try:
        with OpenStrate(second.base_url, poll_interval=0.05) as client:
            finished = [client.wait(job_id, timeout=120) for job_id in jobs]
    finally:
        second.stop()
    assert [job.status for job in finished] == ["complete", "complete"]
    # Followed again, not started again: one attempt each, one run to completion each.
    assert [job.extra["attempts"] for job in finished] == [1, 1]
    assert [len(_done_events(two_workers, server_id, job_id)) for job_id in jobs] == [1, 1]
    assert not [name for name in two_workers.client.list_datasets() if server_id in str(name)]


def test_cancel_reaches_the_task_and_the_time_limit_holds(two_workers, served, video, tmp_path):
    from _media import write_video

    long_video = write_video(tmp_path / "long.mp4", frames=40)  # 10 s of work on a worker
    dask_server = served("--dask", two_workers.address, "--pipeline", QUICK, "--job-timeout", "0.05")
    with OpenStrate(dask_server.base_url, poll_interval=0.05) as client:
        cancelled = client.upload(video).job_id
        _wait_for(lambda: _pipeline_processes(), what="the pipeline process")
        client.cancel(cancelled)
        _wait_for(lambda: not _pipeline_processes(), timeout=10, what="the cancelled job's process to end")
        assert client.status(cancelled).code == "cancelled"
        late = client.upload(long_video).job_id  # 10 s of work against a 3 s limit
        with pytest.raises(JobFailedError, match="longer than this server's"):
            client.wait(late, timeout=60)
    _wait_for(lambda: not _pipeline_processes(), timeout=10, what="the timed-out job's process to end")


def test_without_dask_the_server_never_imports_distributed(tmp_path, video):
    script = (
        "import sys\n"
        "from openstrate_nb import OpenStrate\n"
        "from openstrate_nb.local import start\n"
        f"with start(data_dir={str(tmp_path)!r}, pipeline={QUICK!r}) as s, OpenStrate(s.base_url) as c:\n"
        f"    assert c.wait(c.upload({str(video)!r}).job_id, timeout=60).status == 'complete'\n"
        "assert 'distributed' not in sys.modules and 'dask' not in sys.modules, 'dask was imported'\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=120)


def test_a_local_cluster_from_python(tmp_path, video):
    from openstrate_nb.local import start

    with start(data_dir=tmp_path, pipeline=QUICK, dask="local:1") as server:
        with OpenStrate(server.base_url, poll_interval=0.05) as client:
            assert client.wait(client.upload(video).job_id, timeout=90).status == "complete"


@pytest.mark.parametrize("address, message", [
    ("local:0", "give local:N with N worker processes"),
    ("local:two", "give local:N with N worker processes"),
])
def test_a_malformed_local_cluster_is_refused_before_starting(tmp_path, address, message):
    from openstrate_nb.local import start

    with pytest.raises(ValueError, match=message):
        start(data_dir=tmp_path, dask=address)


def test_an_unreachable_scheduler_is_named_when_the_server_starts(tmp_path):
    from openstrate_nb.local import start

    with pytest.raises(RuntimeError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9 .*--dask"):
        start(data_dir=tmp_path, dask="tcp://127.0.0.1:9")


def test_a_shared_folder_carries_videos_and_results_instead_of_dask(two_workers, served, video, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    dask_server = served("--dask", two_workers.address, "--pipeline", QUICK, "--shared-dir", str(shared))
    with OpenStrate(dask_server.base_url, poll_interval=0.05) as client:
        job_id = client.upload(video).job_id
        # The worker reads the video from the shared folder, not from a temporary copy of its own.
        _wait_for(lambda: [p for p in psutil.process_iter(["cmdline"])
                           if str(shared) in " ".join(p.info["cmdline"] or [])], what="a worker reading the shared video")
        job = client.wait(job_id, timeout=60)
    assert job.status == "complete"
    assert httpx.get(job.glb_asset_url).content[:4] == b"glTF"
    assert [p for p in shared.rglob("*") if p.is_file()] == []  # emptied once the result is registered


def test_a_shared_folder_without_dask_is_refused(tmp_path):
    out = subprocess.run([sys.executable, "-m", "openstrate_nb.cli", "serve", "--shared-dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)})
    assert out.returncode == 1
    assert "--shared-dir is the folder a Dask cluster shares with the server; give --dask too." in out.stderr


def test_a_cluster_object_from_python(tmp_path, video):
    """As with a Dask Gateway or dask-jobqueue cluster: the server is given the cluster object
    (here a LocalCluster of threads in this process; each task still runs its own process)."""
    from openstrate_nb.local import start

    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        with start(data_dir=tmp_path, pipeline=QUICK, dask=cluster) as server:
            with OpenStrate(server.base_url, poll_interval=0.05) as client:
                assert client.wait(client.upload(video).job_id, timeout=60).status == "complete"
