"""Runs reconstruction jobs in worker processes, never on the API's event loop.

``workers`` threads each take a job id from the queue, spawn one process for it, relay
its progress into the store, enforce the time limit, and register its artifacts as
files. A job survives everything short of losing the data directory: a stopped server
leaves it ``processing``, and ``recover`` queues it again at the next start; a killed
worker is retried; each job runs at most ``max_attempts`` times, then fails with a reason.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any, Callable

from ._fetch import FetchError
from ._files import FileStore
from ._store import ACTIVE_STATUSES, Store

__all__ = ["JobRunner"]

log = logging.getLogger("openstrate_nb.local")


class JobRunner:
    def __init__(self, store: Store, files: FileStore, *, workers: int, pipeline: str, time_limit: float,
                 fetch: Callable[[str, Path], Path], max_attempts: int = 3):
        self.store = store
        self.files = files
        self.workers = workers
        self.pipeline = pipeline
        self.time_limit = time_limit
        self.max_attempts = max_attempts
        self._fetch = fetch
        self._queue: queue.Queue[str] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._processes: dict[str, subprocess.Popen] = {}
        self._cancelled: set[str] = set()
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return self.workers > 0 and not self._stop.is_set()

    def start(self) -> None:
        self.recover()
        for n in range(self.workers):
            thread = threading.Thread(target=self._loop, name=f"openstrate-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def recover(self) -> None:
        """Queue again every job a previous run left pending or processing."""
        for job in self.store.jobs_with_status(*ACTIVE_STATUSES):
            if job["status"] == "processing":
                self.store.update_job(job["job_id"], status="pending", stage="queued (server restarted)")
            self._queue.put(job["job_id"])

    def submit(self, job_id: str) -> None:
        self._queue.put(job_id)

    def cancel(self, job_id: str) -> bool:
        """End a pending or running job now (its worker is killed); False if it had already ended."""
        with self._lock:
            if not self.store.cancel_job(job_id):
                return False
            self._cancelled.add(job_id)
            process = self._processes.get(job_id)
            if process is not None:
                process.kill()
        return True

    def stop(self, timeout: float = 5.0) -> None:
        """Kill running workers; their jobs stay ``processing`` until ``recover``."""
        self._stop.set()
        with self._lock:
            for process in self._processes.values():
                process.kill()
        for thread in self._threads:
            thread.join(timeout)

    # -- what a worker reports, read from its pipe -------------------------------------------

    def apply_progress(self, event: dict[str, Any], job_id: str) -> None:
        """A worker's progress event (with the pipeline's forecast, when it gives one)."""
        def number(key: str) -> float | None:
            value = event.get(key)
            return float(value) if isinstance(value, (int, float)) else None

        frames = number("video_frames")
        self.store.record_progress(job_id, str(event.get("stage", "")), int(number("current") or 0),
                                   int(number("total") or 0), number("overall"), number("eta_s"),
                                   int(frames) if frames else None)

    # -- the loop --------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job_id = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self._run(job_id)
            except Exception:  # a bug here must not stop the worker thread
                log.exception("job %s", job_id)
                if not self._stop.is_set():
                    self.store.finish_job(job_id, status="failed", code="internal_error",
                                          error="the server hit an internal error while running this job; try again.")

    def _run(self, job_id: str) -> None:
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
        try:
            video = self._source_video(job, work_dir)
            if video is not None:
                self._run_process(job_id, video, work_dir, job.get("filename"))
        finally:
            if not self._stop.is_set():
                shutil.rmtree(work_dir, ignore_errors=True)
            with self._lock:
                self._cancelled.discard(job_id)

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

    def _run_process(self, job_id: str, video: Path, work_dir: Path, video_name: str | None = None) -> None:
        log_path = self.files.root / "logs" / f"{job_id}.log"
        log_path.parent.mkdir(exist_ok=True)
        with self._lock:
            if self._stop.is_set() or job_id in self._cancelled:
                return
            with log_path.open("ab") as log_file:
                process = subprocess.Popen(
                    [sys.executable, "-m", "openstrate_nb.local._worker", self.pipeline, str(video), str(work_dir),
                     *([video_name] if video_name else [])],
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log_file,
                    env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
                )
            self._processes[job_id] = process
        events: queue.Queue[dict | None] = queue.Queue()
        threading.Thread(target=_read_events, args=(process.stdout, events), daemon=True).start()
        deadline = time.monotonic() + self.time_limit
        outcome: dict | None = None
        try:
            while outcome is None and not self._stop.is_set():
                if time.monotonic() > deadline:
                    process.kill()
                    outcome = {"event": "failed", "code": "timeout", "error": (
                        f"the reconstruction took longer than this server's {self.time_limit / 60:g}-minute limit; "
                        "use a shorter video or start the server with a larger --job-timeout.")}
                    break
                try:
                    event = events.get(timeout=0.25)
                except queue.Empty:
                    continue
                if event is None:  # the worker closed its stdout: it exited
                    break
                if event.get("event") == "progress":
                    self.apply_progress(event, job_id)
                elif event.get("event") in ("done", "failed"):
                    outcome = event
        finally:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            with self._lock:
                self._processes.pop(job_id, None)
        if self._stop.is_set():
            return  # left processing on purpose: the next start runs it again
        with self._lock:
            if job_id in self._cancelled:
                return  # already ended as cancelled; whatever the worker said comes too late
        if outcome is None:
            self._crashed(job_id, process.returncode)
        elif outcome["event"] == "failed":
            self.store.finish_job(job_id, status="failed", code=str(outcome.get("code") or "failed"),
                                  error=str(outcome.get("error") or "the reconstruction failed."))
        else:
            self._register(job_id, outcome.get("artifacts") or {})

    def _crashed(self, job_id: str, exitcode: int | None) -> None:
        job = self.store.job(job_id)
        assert job is not None
        log.warning("worker for job %s exited with %s (attempt %s)", job_id, exitcode, job["attempts"])
        if job["attempts"] < self.max_attempts:
            self.store.update_job(job_id, status="pending", stage="queued (worker restarted)")
            self._queue.put(job_id)
        else:
            self.store.finish_job(job_id, status="failed", code="worker_crashed", error=(
                f"the reconstruction worker stopped unexpectedly (exit code {exitcode}) {job['attempts']} times; "
                "the video may be too large for this machine's memory: try a shorter one."))

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


def _read_events(stream: IO[bytes], events: queue.Queue) -> None:
    """Forward a worker's JSON lines; None marks the end of its output."""
    try:
        for line in stream:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                events.put(event)
    finally:
        stream.close()
        events.put(None)
