"""``openstrate-nb reconstruct a.mp4 b.mp4 ...``: send every video, then follow all the jobs at once.

All videos go to the server first, so its workers (or its Dask cluster) run them side by
side; then one line per video is printed each time its stage changes or it ends, because
several redrawn bars cannot share one terminal line. A video that fails says why and the
others go on; the exit status is 1 if any failed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ..api import Job, OpenStrate, OpenStrateError
from ._submit import start_job

__all__ = ["run_many"]


def _print(message: str = "") -> None:
    print(message, flush=True)


def run_many(client: OpenStrate, videos: list[str], out: Path, timeout: float | None,
             options: dict[str, Any] | None = None) -> int:
    names = [Path(v.split("?")[0]).name or v for v in videos]
    jobs: dict[int, str] = {}
    failures: dict[int, str] = {}
    for index, (video, name) in enumerate(zip(videos, names)):
        try:
            jobs[index] = start_job(client, video, options)
            _print(f"{name}: job {jobs[index]}")
        except (OpenStrateError, OSError, ValueError) as exc:
            failures[index] = str(exc)
            _print(f"{name}: not sent: {exc}")
    results = _follow(client, {i: (names[i], job_id) for i, job_id in jobs.items()}, timeout, failures)
    out.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    for index, job in sorted(results.items()):
        stem = Path(names[index]).stem
        if stem in used:  # two videos of one name from different folders
            stem = f"{stem}-{job.job_id[:8]}"
        used.add(stem)
        try:
            glb = client.download(job, out / f"{stem}.glb")
            _print(f"{names[index]}: mesh {glb}")
        except OpenStrateError as exc:
            failures[index] = f"the download failed: {exc}"
    done = len(videos) - len(failures)
    _print(f"{done} of {len(videos)} reconstructed" + (f"; {len(failures)} failed:" if failures else ""))
    for index, reason in sorted(failures.items()):
        _print(f"  {names[index]}: {reason}")
    return 1 if failures else 0


def _follow(client: OpenStrate, jobs: dict[int, tuple[str, str]], timeout: float | None,
            failures: dict[int, str]) -> dict[int, Job]:
    """Poll every job until it ends (or ``timeout``); the completed ones."""
    deadline = None if timeout is None else time.monotonic() + timeout
    interval = client.poll_interval if client.poll_interval is not None else 2.0
    shown: dict[int, tuple[str, str]] = {}
    complete: dict[int, Job] = {}
    waiting = dict(jobs)
    while waiting:
        for index, (name, job_id) in list(waiting.items()):
            try:
                job = client.status(job_id)
            except OpenStrateError as exc:
                line, key = f"cannot read its status ({exc}); retrying", ("unreachable", "")
            else:
                if job.is_terminal:
                    del waiting[index]
                    if job.status == "complete":
                        complete[index] = job
                    else:
                        failures[index] = job.error or "the reconstruction failed; the server gave no reason."
                percent = f" {job.progress * 100:.0f}%" if job.progress is not None and not job.is_terminal else ""
                line = f"{job.status}{percent}" + (f" ({job.stage})" if job.stage and not job.is_terminal else "")
                key = (str(job.status), job.stage or "")
            # A line per change of stage (not per percent), so a log stays readable.
            if shown.get(index) != key:
                shown[index] = key
                _print(f"{name}: {line}")
        if deadline is not None and time.monotonic() > deadline:
            for index, (name, job_id) in waiting.items():
                failures[index] = (f"still running after {timeout:g} s (job {job_id} goes on: "
                                   f"openstrate-nb status {job_id})")
            break
        if waiting:
            time.sleep(interval)
    return complete
