"""Each attempt in a worker process on this machine: the default, and all a laptop needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._jobs import Attempt
from ._worker_process import run_worker_process

__all__ = ["LocalWorkers"]


class LocalWorkers:
    def __init__(self, *, workers: int, pipeline: str, logs_dir: Path):
        #: reconstructions at once (one process each)
        self.slots = workers
        self.pipeline = pipeline
        self.logs_dir = logs_dir

    def start(self) -> None:
        self.logs_dir.mkdir(parents=True, exist_ok=True)

    def close(self) -> None:
        pass  # each process ends with its attempt

    def can_resume(self, job_id: str) -> bool:
        return False  # a process does not outlive the server that started it

    def forget_others(self, active_job_ids: set[str]) -> None:
        pass

    def run(self, attempt: Attempt) -> dict[str, Any]:
        assert attempt.video is not None
        return run_worker_process(
            self.pipeline, attempt.video, attempt.work_dir, attempt.video_name, time_limit=attempt.time_limit,
            on_progress=attempt.progress, should_stop=lambda: attempt.stop_reason() is not None,
            log_path=self.logs_dir / f"{attempt.job_id}.log", options=attempt.options)
