"""Runs one attempt of a job in a worker process (``_worker``) and waits for its outcome.

Shared by both places a reconstruction runs: a thread of the embedded server (local
workers) and a task on a Dask worker (``_dask_task``). Either way the pipeline gets a
process of its own, so a cancel or a time limit is a kill, and a crash or a leak never takes
the caller down. Only the standard library here: a Dask worker imports this module.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any, Callable

__all__ = ["run_worker_process", "timeout_outcome"]

_POLL = 0.25  # seconds between looks at should_stop and the clock


def timeout_outcome(time_limit: float) -> dict[str, Any]:
    return {"event": "failed", "code": "timeout", "error": (
        f"the reconstruction took longer than this server's {time_limit / 60:g}-minute limit; "
        "use a shorter video or start the server with a larger --job-timeout.")}


def run_worker_process(pipeline: str, video: Path, work_dir: Path, video_name: str | None, *,
                       time_limit: float, on_progress: Callable[[dict[str, Any]], None],
                       should_stop: Callable[[], bool], log_path: Path | None = None,
                       options: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run the pipeline on ``video`` in a new process; return what became of it.

    The outcome is the worker's last word (``{"event": "done", "artifacts": ...}`` or
    ``{"event": "failed", "code", "error"}``), a timeout failure, ``{"event": "stopped"}``
    when ``should_stop`` turned true, or ``{"event": "crashed", "exitcode": N}`` when the
    process ended without a word. Progress events go to ``on_progress`` as they come.
    """
    log_file = log_path.open("ab") if log_path is not None else None
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "openstrate_nb.local._worker", pipeline, str(video), str(work_dir),
             *([video_name] if video_name else []), *(["--options", json.dumps(options)] if options else [])],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log_file,
            env={**(os.environ if env is None else env), "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
        )
    finally:
        if log_file is not None:
            log_file.close()  # the child holds its own copy
    events: queue.Queue[dict | None] = queue.Queue()
    threading.Thread(target=_read_events, args=(process.stdout, events), daemon=True).start()
    deadline = time.monotonic() + time_limit
    outcome: dict[str, Any] | None = None
    worker_ended = False  # otherwise it is killed: stopped, out of time, or an error here
    try:
        while True:
            if should_stop():
                outcome = {"event": "stopped"}
                break
            if time.monotonic() > deadline:
                outcome = timeout_outcome(time_limit)
                break
            try:
                event = events.get(timeout=_POLL)
            except queue.Empty:
                continue
            if event is None:  # the worker closed its stdout: it exited without a last word
                worker_ended = True
                break
            if event.get("event") == "progress":
                on_progress(event)
            elif event.get("event") in ("done", "failed"):
                outcome, worker_ended = event, True
                break
    finally:
        if not worker_ended:
            process.kill()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return outcome or {"event": "crashed", "exitcode": process.returncode}


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
