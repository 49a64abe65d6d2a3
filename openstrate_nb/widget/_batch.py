"""Many videos from one cell: ``reconstruct_many`` and the ``BatchWidget`` it returns.

Each video is one ``Reconstruction`` thread, the same run a ``ReconstructWidget`` makes
(cache, upload, waiting rules, download), reporting into its row instead of a widget. A
dispatcher thread keeps at most ``concurrency`` of them running; a video that fails ends
its own row with its sentence, and the others go on.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any, Iterable

import anywidget
import traitlets as t

from ..api import VIDEO_EXTENSIONS, Job, JobStatus, OpenStrate, WaitTimeout
from ._front_end import front_end
from ._meters import job_elapsed
from ._reconstruction import Reconstruction, Source

__all__ = ["BatchWidget", "reconstruct_many", "video_sources"]

#: what a row shows, of everything a Reconstruction reports
_ROW_KEYS = ("phase", "status", "stage", "percent", "eta", "error", "notice", "job_id", "mesh_faces", "from_cache")
_DISPATCH_TICK = 0.1
_ENDED = ("complete", "failed", "cancelled")


def video_sources(videos: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Source]:
    """Paths, http(s) URLs or one folder (its videos, sorted by name) as sources; refuses
    missing files and empty folders before anything is sent."""
    if isinstance(videos, (str, os.PathLike)):
        given = Path(videos).expanduser()
        if given.is_dir():
            found = sorted(p for p in given.iterdir() if p.suffix.lower() in VIDEO_EXTENSIONS and p.is_file())
            if not found:
                raise ValueError(f"{given} has no videos ({', '.join(VIDEO_EXTENSIONS)}); "
                                 "give a folder of videos or a list of paths.")
            videos = found
        else:
            videos = [videos]
    sources, missing = [], []
    for video in videos:
        text = os.fspath(video)
        if text.startswith(("http://", "https://")):
            sources.append(Source(video_url=text, filename=Path(text.split("?")[0]).name or None))
        elif Path(text).expanduser().is_file():
            path = Path(text).expanduser().resolve()
            sources.append(Source(path=path, filename=path.name))
        else:
            missing.append(text)
    if missing:
        raise FileNotFoundError(f"no such video: {', '.join(missing)}; check the paths (nothing was sent).")
    if not sources:
        raise ValueError("no videos given; pass paths, URLs or a folder of videos.")
    return sources


class _Row:
    """What one video's Reconstruction reports (its ``sink``), kept for the batch."""

    def __init__(self, batch: BatchWidget, index: int):
        self.batch = batch
        self.index = index
        self.job: Job | None = None
        self.mesh_path: Path | None = None

    def _set(self, **traits: Any) -> None:
        self.batch._update_row(self.index, {k: v for k, v in traits.items() if k in _ROW_KEYS})

    def _set_job(self, job: Job) -> None:
        self.job = job

    def _set_result(self, mesh: Any, path: Path) -> None:
        self.mesh_path = path  # the mesh itself is loaded again on demand: 200 of them would not fit


class BatchWidget(anywidget.AnyWidget):
    """Reconstructions of many videos: one row each, an overall bar, results in order.

    >>> batch = reconstruct_many("clips/", concurrency=2)
    >>> batch.wait(); batch.to_records()
    """

    _esm = front_end("batch.js")

    #: one dict per video: name, phase, status, stage, percent, eta, error, notice, job_id, mesh_faces, from_cache
    rows = t.List(t.Dict()).tag(sync=True)
    #: videos reconstructed at once
    concurrency = t.Int(2).tag(sync=True)

    def __init__(self, videos: Any, *, base_url: str | None = None, client: OpenStrate | None = None,
                 concurrency: int = 2, force: bool = False, cache: bool = True, poll_interval: float = 2.0,
                 options: dict[str, Any] | None = None, **kwargs: Any):
        if not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"concurrency={concurrency!r}: give how many videos run at once, 1 or more.")
        if client is not None and base_url is not None:
            raise ValueError("Give base_url= or client=, not both (the client already has a base URL).")
        if options is not None and not isinstance(options, dict):
            raise TypeError('options must be a dict, such as {"marker_size_m": 0.1} for a printed scale marker.')
        sources = video_sources(videos)
        for source in sources:
            source.options = dict(options) if options else None
        super().__init__(concurrency=concurrency, **kwargs)
        self._owns_client = client is None
        self._client = client if client is not None else OpenStrate(base_url)
        self._lock = threading.RLock()
        self._sinks = [_Row(self, i) for i in range(len(sources))]
        self.rows = [{"name": s.filename or s.video_url or "", "phase": "idle", "percent": -1.0} for s in sources]
        self._runs = [Reconstruction(sink, self._client, source, force=force, use_cache=cache,
                                     poll_interval=poll_interval) for sink, source in zip(self._sinks, sources)]
        for run in self._runs:
            run.name = f"openstrate-batch-{run.source.filename}"
        self._stop = threading.Event()
        self._dispatcher = threading.Thread(target=self._dispatch, name="openstrate-batch", daemon=True)
        self._dispatcher.start()

    # -- what the user reads --------------------------------------------------------------

    @property
    def client(self) -> OpenStrate:
        return self._client

    @property
    def jobs(self) -> list[Job | None]:
        """Each video's job as last seen (None for a video that never got one), in order."""
        return [sink.job for sink in self._sinks]

    @property
    def mesh_paths(self) -> list[Path | None]:
        """Each completed video's GLB in the cache, else None."""
        return [sink.mesh_path for sink in self._sinks]

    @property
    def meshes(self) -> list[Any]:
        """Each completed video's mesh (trimesh), loaded now from its GLB, else None."""
        from ..mesh import load_glb

        return [load_glb(path) if path is not None else None for path in self.mesh_paths]

    @property
    def done(self) -> bool:
        return all(run.done.is_set() for run in self._runs)

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per video, for ``pandas.DataFrame(batch.to_records())``."""
        records = []
        for row, sink in zip(self.rows, self._sinks):
            job = sink.job
            records.append({
                "video": row.get("name"), "status": row.get("phase"), "job_id": row.get("job_id") or None,
                "faces": row.get("mesh_faces") or None, "error": row.get("error") or None,
                "from_cache": bool(row.get("from_cache")),
                "seconds": _job_seconds(job), "mesh_path": str(sink.mesh_path) if sink.mesh_path else None,
            })
        return records

    def wait(self, timeout: float | None = None) -> list[Job | None]:
        """Block until every video has ended (complete, failed or cancelled); the jobs, in order.

        A failed video does not raise: its row and ``to_records()`` say why. ``WaitTimeout``
        after ``timeout`` seconds; Ctrl-C stops waiting, never the jobs.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        for run in self._runs:
            while not run.done.wait(0.2):
                if deadline is not None and time.monotonic() >= deadline:
                    raise WaitTimeout(run.source.job_id or "(batch)", float(timeout or 0), run.sink.job)
        return self.jobs

    def cancel(self) -> None:
        """Stop every video not yet ended (the server's jobs too); finished ones stay."""
        with self._lock:
            self._stop.set()
            for index, run in enumerate(self._runs):
                if run.is_alive():
                    run.cancel_event.set()
                elif not run.done.is_set():
                    run.done.set()  # never started, and now never will
                    self._update_row(index, {"phase": "cancelled", "notice": "Cancelled before it started."})

    def close(self) -> None:
        if not hasattr(self, "_runs"):  # refused in __init__: nothing was started
            return super().close()
        self._stop.set()
        for run in self._runs:
            run.stop_event.set()
        if self._owns_client:
            self._client.close()
        super().close()

    # -- the dispatcher and the rows -------------------------------------------------------

    def _dispatch(self) -> None:
        waiting = list(self._runs)
        while waiting:
            with self._lock:  # cancel() decides under the same lock which runs never start
                if self._stop.is_set():
                    return
                running = sum(1 for run in self._runs if run.is_alive())
                while waiting and running < self.concurrency:
                    waiting.pop(0).start()
                    running += 1
            time.sleep(_DISPATCH_TICK)

    def _update_row(self, index: int, changes: dict[str, Any]) -> None:
        if not changes:
            return
        with self._lock:
            rows = [dict(row) for row in self.rows]
            rows[index].update(changes)
            self.rows = rows

    def __repr__(self) -> str:
        phases = [row.get("phase") for row in self.rows]
        return (f"<BatchWidget {len(phases)} videos: {phases.count('complete')} complete, "
                f"{phases.count('failed')} failed, {sum(p not in _ENDED for p in phases)} to go>")


def _job_seconds(job: Job | None) -> float | None:
    """How long the server worked on the job, once it has ended."""
    if job is None or job.status not in (JobStatus.COMPLETE, JobStatus.FAILED) or not job.extra.get("finished_at"):
        return None
    return round(job_elapsed(job.extra, watched_since=0.0), 1)


def reconstruct_many(videos: Any, *, base_url: str | None = None, client: OpenStrate | None = None,
                     concurrency: int = 2, force: bool = False, cache: bool = True,
                     poll_interval: float = 2.0, options: dict[str, Any] | None = None) -> BatchWidget:
    """Reconstruct many videos (paths, http(s) URLs, or a folder of videos), ``concurrency`` at once.

    Returns a :class:`BatchWidget` at once (display it for one row per video and an overall
    bar); ``.wait()`` blocks until all have ended, ``.to_records()`` gives a table. Videos
    already reconstructed on this server attach to their jobs (``force=True`` runs them again).
    ``options`` go with every video's job, e.g. ``{"marker_size_m": 0.1}``.
    """
    return BatchWidget(videos, base_url=base_url, client=client, concurrency=concurrency, force=force,
                       cache=cache, poll_interval=poll_interval, options=options)
