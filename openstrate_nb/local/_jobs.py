"""Runs reconstruction jobs away from the API's event loop, on local workers or a Dask cluster.

Runner threads each take a job id from the queue, claim the job, hand one attempt to the
executor (``LocalWorkers``: a process on this machine; ``DaskWorkers``: a task on a Dask
cluster), relay its progress into the store and register its artifacts as files. A job
survives everything short of losing the data directory: a stopped server leaves it
``processing``, and ``recover`` runs it again at the next start (or, on a cluster that still
runs it, follows it again); a lost worker is retried; each job runs at most ``max_attempts``
times, then fails with a reason. The store is the only truth about jobs; executors keep none.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from ._fetch import FetchError
from ._files import FileStore
from ._stage_artifacts import keep_stages
from ._store import ACTIVE_STATUSES, Store

__all__ = ["JobRunner", "Attempt", "Executor"]

log = logging.getLogger("openstrate_nb.local")


@dataclass
class Attempt:
    """One try at a job, as an executor sees it."""

    job_id: str
    #: the video on this machine; None when following a run the cluster already has
    video: Path | None
    video_name: str | None
    #: this machine's scratch folder for the job; an executor puts the artifacts here
    work_dir: Path
    time_limit: float
    #: a worker's progress event
    progress: Callable[[dict[str, Any]], None]
    #: the cluster began the job again after losing a worker
    restarted: Callable[[str], None]
    #: None while the attempt should go on, else "cancelled" or "server stopping"
    stop_reason: Callable[[], str | None]
    #: the client's options for the pipeline (checked by ``_job_options``)
    options: dict[str, Any] = field(default_factory=dict)


class Executor(Protocol):
    #: how many attempts may be out at once (one runner thread each)
    slots: int

    def start(self) -> None: ...
    def close(self) -> None: ...
    def can_resume(self, job_id: str) -> bool: ...
    def forget_others(self, active_job_ids: set[str]) -> None: ...

    def run(self, attempt: Attempt) -> dict[str, Any]:
        """The attempt's outcome: done (artifacts as paths under ``work_dir``), failed,
        stopped, or crashed (the worker was lost)."""


class JobRunner:
    def __init__(self, store: Store, files: FileStore, executor: Executor, *, time_limit: float,
                 fetch: Callable[[str, Path], Path], max_attempts: int = 3):
        self.store = store
        self.files = files
        self.executor = executor
        self.time_limit = time_limit
        self.max_attempts = max_attempts
        self._fetch = fetch
        #: (job id, follow a run the cluster has) items; None wakes a runner thread to stop
        self._queue: queue.Queue[tuple[str, bool] | None] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        #: jobs ended while an attempt was out: cancelled, or failed for too many restarts
        self._ended: dict[str, dict[str, Any] | None] = {}
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return self.executor.slots > 0 and not self._stop.is_set()

    def start(self) -> None:
        self.executor.start()
        self.recover()
        for n in range(self.executor.slots):
            thread = threading.Thread(target=self._loop, name=f"openstrate-runner-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def recover(self) -> None:
        """Queue again every job a previous run left pending or processing; follow the ones
        a cluster is still running instead of starting them again."""
        active = self.store.jobs_with_status(*ACTIVE_STATUSES)
        self.executor.forget_others({job["job_id"] for job in active})
        for job in active:
            resume = job["status"] == "processing" and self.executor.can_resume(job["job_id"])
            log.info("job %s: %s", job["job_id"], "following it again on the cluster" if resume else "queued again")
            if job["status"] == "processing" and not resume:
                self.store.update_job(job["job_id"], status="pending", stage="queued (server restarted)")
            self._queue.put((job["job_id"], resume))

    def submit(self, job_id: str) -> None:
        self._queue.put((job_id, False))

    def cancel(self, job_id: str) -> bool:
        """End a pending or running job now (its attempt is stopped); False if it had already ended."""
        with self._lock:
            if not self.store.cancel_job(job_id):
                return False
            self._ended[job_id] = None
        return True

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the attempts out; their jobs stay ``processing`` until ``recover``."""
        self._stop.set()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)
        self.executor.close()

    # -- what a worker reports -------------------------------------------------------------

    def apply_progress(self, event: dict[str, Any], job_id: str) -> None:
        """A worker's progress event (with the pipeline's forecast, when it gives one)."""
        def number(key: str) -> float | None:
            value = event.get(key)
            return float(value) if isinstance(value, (int, float)) else None

        frames = number("video_frames")
        self.store.record_progress(job_id, str(event.get("stage", "")), int(number("current") or 0),
                                   int(number("total") or 0), number("overall"), number("eta_s"),
                                   int(frames) if frames else None)

    def _restarted(self, job_id: str, worker: str) -> None:
        """The cluster lost the worker running this job and began it again: that is an attempt."""
        attempts = self.store.count_attempt(job_id)
        log.warning("job %s started again on %s (attempt %s)", job_id, worker, attempts)
        if attempts > self.max_attempts:
            with self._lock:
                self._ended[job_id] = self._too_many_crashes(attempts - 1, None)

    def _stop_reason(self, job_id: str) -> str | None:
        if self._stop.is_set():
            return "server stopping"
        with self._lock:
            return "cancelled" if job_id in self._ended else None

    # -- the loop --------------------------------------------------------------------------

    def _loop(self) -> None:
        # A blocking wait: an idle runner thread costs nothing, even 64 of them (a cluster's).
        while True:
            item = self._queue.get()
            if item is None or self._stop.is_set():
                return  # a job taken here stays pending in the store: the next start runs it
            job_id, resume = item
            try:
                self._run(job_id, resume)
            except Exception:  # a bug here must not stop the runner thread
                log.exception("job %s", job_id)
                if not self._stop.is_set():
                    self.store.finish_job(job_id, status="failed", code="internal_error",
                                          error="the server hit an internal error while running this job; try again.")

    def _run(self, job_id: str, resume: bool) -> None:
        if resume:
            job = self.store.job(job_id)
            if job is None or job["status"] != "processing":
                return
        else:
            if not self.store.claim_job(job_id):
                return
            job = self.store.job(job_id)
            assert job is not None
            if job["attempts"] > self.max_attempts:
                self.store.finish_job(job_id, status="failed", code="interrupted", error=(
                    f"the reconstruction was interrupted {job['attempts'] - 1} times (server stopped or worker "
                    "crashed); upload the video again, perhaps a shorter one."))
                return
        work_dir = self.files.job_dir(job_id)
        shutil.rmtree(work_dir, ignore_errors=True)
        work_dir.mkdir(parents=True)
        again = False
        try:
            video = None if resume else self._source_video(job, work_dir)
            if resume or video is not None:
                outcome = self.executor.run(Attempt(
                    job_id, video, job.get("filename"), work_dir, self.time_limit,
                    progress=lambda event: self.apply_progress(event, job_id),
                    restarted=lambda worker: self._restarted(job_id, worker),
                    stop_reason=lambda: self._stop_reason(job_id), options=job.get("options") or {}))
                again = self._conclude(job_id, outcome, work_dir)
        finally:
            if not self._stop.is_set():
                shutil.rmtree(work_dir, ignore_errors=True)
            with self._lock:
                self._ended.pop(job_id, None)
        if again:  # only now: the next attempt must not find this one's scratch folder going away
            self._queue.put((job_id, False))

    def _source_video(self, job: dict[str, Any], work_dir: Path) -> Path | None:
        if job["source_id"]:
            path = self.files.path(job["source_id"], job["source_ext"])
            if path.is_file():
                return path
            self.store.finish_job(job["job_id"], status="failed", code="source_missing",
                                  error="the uploaded video is no longer on this server; upload it again.")
            return None
        self.store.update_job(job["job_id"], stage="downloading")
        try:
            return self._fetch(job["source_url"], work_dir)
        except FetchError as exc:
            self.store.finish_job(job["job_id"], status="failed", code="fetch_failed", error=str(exc))
            return None

    def _conclude(self, job_id: str, outcome: dict[str, Any], work_dir: Path) -> bool:
        """Record the outcome; True when the job should run again."""
        if self._stop.is_set():
            return False  # left processing on purpose: the next start runs it again (or follows it)
        with self._lock:
            ended = job_id in self._ended
            failure = self._ended.get(job_id)
        if failure is not None:  # too many restarts on the cluster
            self.store.finish_job(job_id, status="failed", **failure)
        elif ended:
            return False  # already ended as cancelled; whatever the worker said comes too late
        elif outcome["event"] == "crashed":
            return self._crashed(job_id, outcome.get("exitcode"), outcome.get("detail"))
        elif outcome["event"] == "failed":
            keep_stages(self.files, job_id, work_dir)  # what was measured says why it failed
            self.store.finish_job(job_id, status="failed", code=str(outcome.get("code") or "failed"),
                                  error=str(outcome.get("error") or "the reconstruction failed."))
        elif outcome["event"] == "done":
            keep_stages(self.files, job_id, work_dir)
            self._register(job_id, outcome.get("artifacts") or {})
        return False

    def _crashed(self, job_id: str, exitcode: int | None, detail: str | None) -> bool:
        job = self.store.job(job_id)
        assert job is not None
        log.warning("worker for job %s ended without a result (%s; attempt %s)", job_id,
                    detail or f"exit code {exitcode}", job["attempts"])
        if job["attempts"] < self.max_attempts:
            self.store.update_job(job_id, status="pending", stage="queued (worker restarted)")
            return True
        self.store.finish_job(job_id, status="failed", **self._too_many_crashes(job["attempts"], exitcode))
        return False

    @staticmethod
    def _too_many_crashes(attempts: int, exitcode: int | None) -> dict[str, str]:
        how = f" (exit code {exitcode})" if exitcode is not None else ""
        return {"code": "worker_crashed", "error": (
            f"the reconstruction worker stopped unexpectedly{how} {attempts} times; "
            "the video may be too large for this machine's memory: try a shorter one.")}

    def _register(self, job_id: str, artifacts: dict[str, Any]) -> None:
        result: dict[str, Any] = {"stats": artifacts.get("stats") or {}}
        if artifacts.get("provenance"):
            result["provenance"] = artifacts["provenance"]
        job = self.store.job(job_id) or {}
        stem = Path(job.get("filename") or "reconstruction").stem
        for key, ext, kind in (("glb", "glb", "mesh"), ("points", "ply", "points"), ("cameras", "json", "cameras")):
            if artifacts.get(key):
                file_id, size, digest = self.files.add_copy(Path(artifacts[key]), ext)
                self.store.add_file(file_id, ext, kind, f"{stem}.{ext}", size, digest)
                result[key] = file_id
        self.store.finish_job(job_id, status="complete", result=result)
