"""What a Dask worker runs for one job: the same worker process as on the server's machine.

A Dask worker needs ``openstrate_nb[local]`` installed and nothing of the server's: the
video comes as bytes (or, with a shared directory, as a path both can read), and the
artifacts go back as bytes (or stay in the shared directory). Progress goes back as Dask
events on the server's topic (``Worker.log_event``): the scheduler relays each one to the
server's client as it comes, and keeps the last ones, so an operator can read a job's
history with ``Client.get_events(topic)``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from ._worker_process import run_worker_process
from .pipeline.recorder import STAGES_DIR

__all__ = ["reconstruct_on_worker", "ARTIFACT_NAMES"]

#: the artifacts a done outcome names, with the extension each is stored under
ARTIFACT_NAMES = {"glb": "glb", "points": "ply", "cameras": "json"}
_STOP_CHECK_EVERY = 0.5  # seconds; each check asks the scheduler
_LOG_TAIL = 256 * 1024  # bytes of the pipeline's log sent back to the server's logs folder


def _pipeline_environment() -> dict[str, str]:
    """The worker's environment, less what Dask's nanny sets for its long-lived workers.

    The nanny sets OMP_NUM_THREADS=1 (and MKL, OpenBLAS), so that many small tasks do not
    oversubscribe a machine, and MALLOC_TRIM_THRESHOLD_=65536, so that a worker gives memory
    back. The reconstruction process is one short-lived job per worker that should run as it
    does on the server's own machine; with those settings its depth stage took 1.5x as long
    (benchmarks/README.md). A value the operator set otherwise is kept.
    """
    import dask

    env = dict(os.environ)
    for name, value in (dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {}).items():
        if env.get(name) == str(value):
            del env[name]
    return env


def reconstruct_on_worker(pipeline: str, video: bytes | str, video_ext: str, video_name: str | None, *,
                          job_id: str, topic: str, stop_event: str, time_limit: float,
                          shared_dir: str | None = None, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run one attempt of ``job_id`` here; the outcome, with artifacts as bytes (or shared paths)."""
    from distributed import Event, get_worker

    worker = get_worker()
    key = worker.get_current_task()

    def tell(event: dict[str, Any]) -> None:
        worker.log_event(topic, {"job": job_id, "key": str(key), "event": event})

    tell({"event": "started", "worker": str(worker.name or worker.address), "pid": os.getpid()})
    stop = Event(stop_event)
    last_check = [0.0, False]

    def should_stop() -> bool:
        now = time.monotonic()
        if now - last_check[0] >= _STOP_CHECK_EVERY:
            last_check[0], last_check[1] = now, stop.is_set()
        return bool(last_check[1])

    if shared_dir is not None:
        work = Path(shared_dir) / f"attempt-{os.getpid()}-{time.time_ns()}"
        work.mkdir(parents=True)
        video_path = Path(str(video))
    else:
        work = Path(tempfile.mkdtemp(prefix="openstrate-job-"))
        video_path = work / f"video{video_ext}"
        video_path.write_bytes(video if isinstance(video, bytes) else bytes(video))
    try:
        (work / "out").mkdir()
        log_path = work / "worker.log"
        outcome = run_worker_process(pipeline, video_path, work / "out", video_name, time_limit=time_limit,
                                     on_progress=tell, should_stop=should_stop, log_path=log_path,
                                     options=options, env=_pipeline_environment())
        tell({"event": outcome["event"]})
        outcome = {**outcome, "log": _tail(log_path)}
        if outcome["event"] in ("done", "failed"):  # a failed job's pictures say why, too
            outcome["stages"] = _pack(work / "out" / STAGES_DIR)
        if outcome["event"] == "done" and shared_dir is None:
            artifacts = dict(outcome["artifacts"])
            for name in ARTIFACT_NAMES:
                if artifacts.get(name):
                    artifacts[name] = Path(artifacts[name]).read_bytes()
            outcome = {**outcome, "artifacts": artifacts}
        return outcome
    finally:
        if shared_dir is None:
            shutil.rmtree(work, ignore_errors=True)


def _pack(folder: Path) -> dict[str, bytes]:
    """A folder's files as bytes by relative name (a few MB: thumbnails, depth maps)."""
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _tail(path: Path) -> bytes:
    try:
        with path.open("rb") as log:
            log.seek(max(0, path.stat().st_size - _LOG_TAIL))
            return log.read()
    except OSError:
        return b""
