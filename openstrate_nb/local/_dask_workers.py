"""Each attempt as a task on a Dask cluster (``openstrate-nb serve --dask ADDRESS``).

Dask places, queues and reruns the work; this module only submits, listens and collects.
Three Dask features carry the server's promises:

- **Progress**: the task logs each worker event on this server's topic and the client
  subscribes to it (``log_event``/``subscribe_topic``), so progress arrives as it happens,
  at the worker's own 0.2 s rate, with no polling and no queue object to clean up.
- **A lost worker**: the scheduler starts the task again on another worker by itself; its
  ``started`` event tells the runner, which counts an attempt (the same limit as local
  workers). A task whose video was on the lost worker ends in an error; the runner then
  submits it again from the server's copy.
- **A server restart**: each job's future is published under the job's name, so the
  scheduler keeps it when this client goes away, and the next server follows it again
  instead of running it twice.

Cancel sets a Dask ``Event`` the task watches, which kills its worker process.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from ._dask_task import ARTIFACT_NAMES, reconstruct_on_worker
from ._config import parse_local_address
from ._jobs import Attempt
from .pipeline.recorder import STAGES_DIR

__all__ = ["DaskWorkers"]

log = logging.getLogger("openstrate_nb.local")

#: attempts out on the cluster at once; the scheduler queues them, so this only bounds threads
_IN_FLIGHT = 64
_TICK = 0.1
_CONNECT_TIMEOUT = "10s"


class DaskWorkers:
    def __init__(self, address: Any, *, pipeline: str, namespace: str, logs_dir: Path,
                 shared_dir: Path | None = None):
        self.slots = _IN_FLIGHT
        self.logs_dir = logs_dir
        self.address = address
        self.pipeline = pipeline
        self.shared_dir = shared_dir
        #: names this server's datasets, events and topic apart from other servers on the cluster
        self.namespace = f"openstrate-{namespace}"
        self.topic = self.namespace
        self._client: Any = None
        self._cluster: Any = None
        self._inboxes: dict[str, queue.Queue[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    # -- lifetime --------------------------------------------------------------------------

    def start(self) -> None:
        from distributed import Client, LocalCluster

        self.logs_dir.mkdir(parents=True, exist_ok=True)
        workers = parse_local_address(self.address) if isinstance(self.address, str) else None
        try:
            if not isinstance(self.address, str):  # a cluster object: Dask Gateway, dask-jobqueue, ...
                self._client = Client(self.address, timeout=_CONNECT_TIMEOUT)
            elif workers is not None:
                # One thread per worker: a reconstruction already keeps all of a machine's cores busy.
                self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=":0", scheduler_port=0)
                self._client = Client(self._cluster)
            else:
                self._client = Client(self.address, timeout=_CONNECT_TIMEOUT)
        except OSError as exc:
            raise OSError(f"cannot reach the Dask scheduler at {self.address} ({exc}); start it "
                          "(dask scheduler) or check the address given to --dask.") from None
        self._client.subscribe_topic(self.topic, self._on_event)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def can_resume(self, job_id: str) -> bool:
        return self._dataset(job_id) in self._client.list_datasets()

    def forget_others(self, active_job_ids: set[str]) -> None:
        """Drop what a previous run left published for jobs that have since ended."""
        prefix = f"{self.namespace}-job-"
        for name in self._client.list_datasets():
            if str(name).startswith(prefix) and str(name).removeprefix(prefix) not in active_job_ids:
                self._client.unpublish_dataset(name)

    # -- one attempt -----------------------------------------------------------------------

    def run(self, attempt: Attempt) -> dict[str, Any]:
        inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        with self._lock:
            self._inboxes[attempt.job_id] = inbox
        try:
            if attempt.video is None:
                try:
                    future = self._client.get_dataset(self._dataset(attempt.job_id))
                except KeyError:  # gone since recover() looked (a scheduler restarted): run it again
                    return {"event": "crashed", "detail": "the cluster no longer has this job"}
                started = self._started_before(future.key)
            else:
                future = self._submit(attempt)
                started = False
            outcome = self._follow(attempt, future, inbox, started)
            log = outcome.pop("log", None)
            if log:
                with (self.logs_dir / f"{attempt.job_id}.log").open("ab") as file:
                    file.write(log)
            _unpack(outcome.pop("stages", None) or {}, attempt.work_dir / STAGES_DIR)
            if outcome["event"] == "done":
                outcome = self._collect(outcome, attempt.work_dir)
            return outcome
        finally:
            with self._lock:
                self._inboxes.pop(attempt.job_id, None)
            if attempt.stop_reason() != "server stopping" and self.shared_dir is not None:
                shutil.rmtree(self._shared_job_dir(attempt.job_id), ignore_errors=True)

    def _submit(self, attempt: Attempt) -> Any:
        assert attempt.video is not None
        if self.shared_dir is not None:
            folder = self._shared_job_dir(attempt.job_id)
            folder.mkdir(parents=True, exist_ok=True)
            video: Any = str(shutil.copyfile(attempt.video, folder / f"video{attempt.video.suffix}"))
            shared: str | None = str(folder)
        else:
            [video] = self._client.scatter([attempt.video.read_bytes()], hash=False)
            shared = None
        future = self._client.submit(
            reconstruct_on_worker, self.pipeline, video, attempt.video.suffix, attempt.video_name,
            job_id=attempt.job_id, topic=self.topic, stop_event=self._stop_event(attempt.job_id),
            time_limit=attempt.time_limit, shared_dir=shared, options=attempt.options,
            key=f"{self.namespace}-{attempt.job_id}-{uuid.uuid4().hex[:8]}", pure=False)
        self._client.publish_dataset(future, name=self._dataset(attempt.job_id), override=True)
        # Until a worker takes it, the job document says where it waits (the cluster's queue).
        attempt.progress({"event": "progress", "stage": "waiting for a Dask worker", "current": 0, "total": 0})
        return future

    def _follow(self, attempt: Attempt, future: Any, inbox: queue.Queue, started: bool) -> dict[str, Any]:
        """Relay the task's events until it ends, the job is cancelled or the server stops."""
        from distributed import Event

        while True:
            started = self._relay(attempt, future.key, inbox, started)
            reason = attempt.stop_reason()
            if reason == "cancelled":
                Event(self._stop_event(attempt.job_id), client=self._client).set()
                future.cancel()
                self._unpublish(attempt.job_id)
                return {"event": "stopped"}
            if reason is not None:
                return {"event": "stopped"}  # stays published: the next server follows it
            if future.done():
                break
            time.sleep(_TICK)
        try:
            outcome = future.result()
        except Exception as exc:  # the worker, or the video it held, was lost
            outcome = {"event": "crashed", "detail": f"{type(exc).__name__}: {exc}"}
        self._relay(attempt, future.key, inbox, started)
        self._unpublish(attempt.job_id)
        return outcome

    def _relay(self, attempt: Attempt, key: str, inbox: queue.Queue, started: bool) -> bool:
        while True:
            try:
                message = inbox.get_nowait()
            except queue.Empty:
                return started
            if message.get("key") != key:
                continue  # an earlier attempt's last words
            event = message.get("event") or {}
            if event.get("event") == "progress":
                attempt.progress(event)
            elif event.get("event") == "started":
                if started:
                    attempt.restarted(str(event.get("worker")))
                started = True

    def _collect(self, outcome: dict[str, Any], work_dir: Path) -> dict[str, Any]:
        """The artifacts, sent back as bytes or left in the shared folder, become files in
        the server's scratch folder (the shared one is emptied once the attempt is over)."""
        artifacts = dict(outcome.get("artifacts") or {})
        for name, ext in ARTIFACT_NAMES.items():
            value = artifacts.get(name)
            if not value:
                continue
            path = work_dir / f"{name}.{ext}"
            if isinstance(value, bytes):
                path.write_bytes(value)
            else:
                shutil.copyfile(value, path)
            artifacts[name] = str(path)
        return {**outcome, "artifacts": artifacts}

    def _on_event(self, event: tuple[float, Any]) -> None:
        """On the client's event loop: hand the message to the runner thread following its job."""
        _, message = event
        if not isinstance(message, dict):
            return
        with self._lock:
            inbox = self._inboxes.get(str(message.get("job")))
        if inbox is not None:
            inbox.put(message)

    def _started_before(self, key: str) -> bool:
        return any(isinstance(m, dict) and m.get("key") == key and (m.get("event") or {}).get("event") == "started"
                   for _, m in self._client.get_events(self.topic))

    # -- names -----------------------------------------------------------------------------

    def _dataset(self, job_id: str) -> str:
        return f"{self.namespace}-job-{job_id}"

    def _stop_event(self, job_id: str) -> str:
        return f"{self.namespace}-stop-{job_id}"

    def _shared_job_dir(self, job_id: str) -> Path:
        assert self.shared_dir is not None
        return self.shared_dir / self.namespace / job_id

    def _unpublish(self, job_id: str) -> None:
        try:
            self._client.unpublish_dataset(self._dataset(job_id))
        except KeyError:
            pass


def _unpack(packed: dict[str, bytes], folder: Path) -> None:
    """The stage artifacts a task sent back, written where the pipeline would have (names
    that would leave the folder are dropped)."""
    root = folder.resolve()
    for name, data in packed.items():
        path = (folder / name).resolve()
        if path.is_relative_to(root) and path != root:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
