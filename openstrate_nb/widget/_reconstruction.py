"""One run of the widget, on a daemon thread: video → job → progress → mesh.

A thread, not the kernel's asyncio loop: anything scheduled on that loop freezes while an
ordinary cell runs, while a plain thread that sets synced traits keeps the bar moving both
when the kernel is idle and when another cell blocks (measured; see docs/measured-facts.md).

The thread talks to the server only through the client, and to the widget only through
``sink``: ``sink._set(**traits)``, ``sink._set_job(job)``, ``sink._set_live(model)`` (the
live preview, where the server has one and ``live_preview`` asks for it), ``sink._set_result(mesh, path)``.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import cache
from .._provenance import PROVENANCE_KEY, describe
from ..api import (
    BadRequestError,
    CancelNotSupportedError,
    FileTooLargeError,
    Job,
    JobFailedError,
    JobStatus,
    NotFoundError,
    OpenStrate,
    OpenStrateError,
    PayloadTooLargeError,
    UnsupportedFileError,
)
from ._meters import Throttle, TransferMeter, job_elapsed
from ._routes import view_route

__all__ = ["Source", "Reconstruction", "Cancelled", "cached_job_record", "cache_server"]

_TICK = 0.1


#: What the pre-upload check refuses a video for (the pipeline's codes for its first stages).
CAPTURE_CODES = frozenset({"too_short", "too_dark", "too_blurred", "no_motion"})
#: Failures a retry cannot change: the pipeline is deterministic, so the same video gets
#: the same answer (the job document's ``code``).
FINAL_CODES = frozenset({"not_a_video", "no_video_stream", "damaged", "too_short", "too_dark", "too_blurred",
                         "no_motion", "not_enough_views", "no_depth", "out_of_memory"})
#: Refusals of the request itself (4xx, a file refused before sending), as opposed to
#: trouble on the way (connection, 5xx, timeouts), which a retry may get past.
FINAL_ERRORS: tuple[type[Exception], ...] = (BadRequestError, PayloadTooLargeError, UnsupportedFileError,
                                             FileTooLargeError, NotFoundError)


def cache_server(client: OpenStrate) -> str:
    """How the cache names the client's server: its lasting id if it has one, else its URL."""
    return cache.server_identity(client.base_url, client.server_id())


def cached_job_record(client: OpenStrate, video_key: str) -> dict[str, Any] | None:
    """The cache's record of this video's job on this server, if the server still has the
    job and it did not fail (a failed one is run again)."""
    server = cache_server(client)
    record = cache.lookup_job(video_key, server)
    if record is None:
        return None
    try:
        job = client.status(record["job_id"])
    except NotFoundError:
        cache.forget_job(video_key, server)
        return None
    return None if job.status == JobStatus.FAILED else record


class CaptureRefused(Exception):
    """The pre-upload check saw what the pipeline would refuse the video for."""


class Cancelled(Exception):
    """The user pressed Cancel (or called ``cancel()``)."""


class _Stopped(Exception):
    """The widget was closed; end quietly."""


@dataclass
class Source:
    """What to reconstruct, and what a Retry may reuse."""

    path: Path | None = None
    filename: str | None = None
    video_url: str | None = None
    job_id: str | None = None
    #: SHA-256 of the file (or the URL's key); computed on the way in for picker uploads
    video_key: str | None = None
    #: a picker temp file, deleted once the server holds the video
    temporary: bool = False
    #: the server's copy of the video once uploaded, so a Retry need not upload again
    upload_url: str | None = None
    #: the job's options (``{"marker_size_m": 0.1}``), sent only when given
    options: dict[str, Any] | None = None

    def cache_key(self) -> str | None:
        """The video's key in the cache; with options, a key of its own (other options, another job)."""
        if self.video_key is None or not self.options:
            return self.video_key
        return f"{self.video_key}+{json.dumps(self.options, sort_keys=True)}"

    def discard_temporary(self) -> None:
        if self.temporary and self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None


class Reconstruction(threading.Thread):
    def __init__(self, sink: Any, client: OpenStrate, source: Source, *, force: bool, use_cache: bool,
                 poll_interval: float, retry: bool = False, live_preview: bool = False,
                 check_first: bool = False):
        super().__init__(name="openstrate-widget", daemon=True)
        #: judge a local video with the pipeline's own first pass before sending it (``check_video``)
        self.check_first = check_first
        #: fetch the model so far for ``sink._set_live`` (a batch's rows do not show one)
        self.live_preview = live_preview
        self.sink = sink
        self.client = client
        self.source = source
        self.force = force or retry
        self.use_cache = use_cache
        self.poll_interval = poll_interval
        self.retry = retry
        self.cancel_event = threading.Event()
        #: the job being followed, once there is one (Cancel then stops it on the server)
        self.watching: str | None = None
        self.best_percent = -1.0
        #: the live preview last fetched (its URL changes with every new version)
        self.live_url: str | None = None
        self.stop_event = threading.Event()
        self.done = threading.Event()

    # -- the run ----------------------------------------------------------------------

    def run(self) -> None:
        try:
            job = self._watch(self._job_id())
            if job.status == JobStatus.COMPLETE:
                self._load_result(job)
                self.sink._set(phase="complete", can_retry=False)
            else:
                self.sink._set(phase="failed", error=job.error or "The reconstruction failed; the server gave no reason.",
                               can_retry=job.code not in FINAL_CODES)
        except Cancelled:
            self.source.discard_temporary()
            self.sink._set(phase="cancelled", notice=self._cancel_job(), can_retry=self._can_start_again())
        except _Stopped:
            self.source.discard_temporary()
        except Exception as exc:  # every failure ends on screen, not in a thread's traceback
            # Retry where trying again can change the outcome (the network, the server's
            # health), not for a refusal of the request itself (a file that is no video).
            retry = not isinstance(exc, (*FINAL_ERRORS, CaptureRefused)) and self._can_start_again()
            self.sink._set(phase="failed", error=_message(exc), can_retry=retry)
        finally:
            self.done.set()

    def _cancel_job(self) -> str:
        """Stop the server's job too, once there is one; say what became of it."""
        job_id = self.watching
        if job_id is None:
            return "Cancelled."
        try:
            self.client.cancel(job_id)
        except CancelNotSupportedError:
            return (f"Stopped following: this server cannot stop jobs, so job {job_id} goes on there "
                    f"(ReconstructWidget(job_id={job_id!r}) follows it again).")
        except OpenStrateError as exc:
            return f"Stopped following job {job_id}, but the server did not cancel it: {_message(exc)}"
        return f"Cancelled: the server stopped job {job_id}."

    def _can_start_again(self) -> bool:
        s = self.source
        return bool(s.upload_url or s.video_url or s.job_id or (s.path is not None and s.path.exists()))

    def _check(self) -> None:
        if self.stop_event.is_set():
            raise _Stopped
        if self.cancel_event.is_set():
            raise Cancelled

    # -- getting a job ------------------------------------------------------------------

    def _job_id(self) -> str:
        s = self.source
        if s.upload_url and self.retry:
            return self._submit(s.upload_url, s.cache_key())
        if s.job_id and not self.force and (s.temporary or s.path is None) and not s.video_url:
            return s.job_id  # a picked video already has its job (a Retry after a failed download)
        if s.video_url:
            s.video_key = s.video_key or cache.url_key(s.video_url)
            return self._cached_job(s.cache_key()) or self._submit(s.video_url, s.cache_key())
        if s.path is not None:
            self.sink._set(phase="hashing", notice="Checking the cache…")
            s.video_key = s.video_key or cache.file_sha256(s.path)
            cached = self._cached_job(s.cache_key())
            if cached:
                return cached
            self._check_capture(s.path)
            return self._upload(s.cache_key())
        if s.job_id:
            return s.job_id
        raise ValueError("Nothing to reconstruct: give a video path, video_url= or job_id=.")

    def _check_capture(self, path: Path) -> None:
        """Refuse, before a byte is sent, footage the pipeline would refuse for what the check
        sees (too short, too dark, too blurred, a camera that hardly moves). A file the check
        cannot read goes to the server, whose answer about formats is the one that counts."""
        if not self.check_first:
            return
        try:
            from ..local.pipeline.check import check_video
        except ImportError:
            return  # without the embedded server's tools (PyAV, OpenCV) there is nothing to check with
        self.sink._set(phase="checking", notice="Checking the video before sending it…")
        try:
            verdict = check_video(path)
        except (ImportError, OpenStrateError):
            return
        self._check()
        if not verdict.ok and verdict.code in CAPTURE_CODES:
            self.source.discard_temporary()
            raise CaptureRefused(f"{verdict.problem} (Checked here before uploading, so nothing was sent; "
                                 "ReconstructWidget(..., check=False) sends it anyway.)")
        self.sink._set(notice="")

    def _cached_job(self, video_key: str) -> str | None:
        if not self.use_cache or self.force:
            return None
        record = cached_job_record(self.client, video_key)
        if record is None:
            return None
        self.source.upload_url = self.source.upload_url or record.get("upload_url")
        self.source.discard_temporary()
        self.sink._set(from_cache=True, notice="Same video as before: attached to its job instead of uploading again.")
        return str(record["job_id"])

    def _upload(self, video_key: str) -> str:
        s = self.source
        assert s.path is not None
        size = s.path.stat().st_size
        meter = TransferMeter(size)
        self.sink._set(phase="uploading", notice="", server_hop=meter.snapshot())

        def progress(sent: int, total: int) -> None:
            # Raising here aborts the request mid-body: the only way to cancel a blocking upload.
            self._check()
            snap = meter.update(sent)
            if snap is not None:
                self.sink._set(server_hop=snap)

        upload = self.client.upload(s.path, filename=s.filename, on_progress=progress, options=s.options)
        self.sink._set(server_hop=meter.snapshot())
        s.upload_url = upload.url
        if upload.job_id:
            self._remember(video_key, upload.job_id)
            return upload.job_id
        # Stored but not started (the workers were unreachable): the contract's retry is reconstruct().
        if upload.url is None:
            raise RuntimeError(upload.reconstruction_error or "The server stored the video but started no job.")
        return self._submit(upload.url, video_key)

    def _submit(self, video_url: str, video_key: str | None) -> str:
        self._check()
        self.sink._set(phase="submitting", notice="")
        job = self.client.reconstruct(video_url, filename=self.source.filename, options=self.source.options)
        if video_key:
            self._remember(video_key, job.job_id)
        return job.job_id

    def _remember(self, video_key: str, job_id: str) -> None:
        self.sink._set(job_id=job_id)
        self.source.job_id = job_id
        if self.use_cache:
            cache.record_job(video_key, cache_server(self.client), job_id, upload_url=self.source.upload_url,
                             filename=self.source.filename)
        self.source.discard_temporary()

    # -- watching it --------------------------------------------------------------------

    def _watch(self, job_id: str) -> Job:
        """Follow the job with the client's own waiting rules (``client.watch``: backoff,
        ``Retry-After``, which faults are transient, unknown statuses), sleeping in short
        ticks so Cancel and close stay instant and the elapsed time keeps moving."""
        self.watching = job_id
        self.sink._set(job_id=job_id, phase="queued", error="", can_retry=False)
        watched_since = time.time()
        elapsed_throttle = Throttle(0.5)
        job: Job | None = None
        lost = False
        try:
            for poll in self.client.watch(job_id, poll_interval=self.poll_interval):
                if poll.error is not None:
                    lost = True
                    self.sink._set(notice=f"Cannot reach the server for {poll.unreachable_for:.0f} s "
                                          f"({_message(poll.error)}); retrying…")
                else:
                    job = poll.job
                    if lost:
                        lost = False
                        self.sink._set(notice="")
                    self._show_job(job, watched_since)
                if poll.delay is None:
                    return job  # type: ignore[return-value]
                until = time.monotonic() + poll.delay
                while time.monotonic() < until:
                    self._check()
                    if job is not None and elapsed_throttle.ready():
                        self.sink._set(elapsed=round(job_elapsed(job.extra, watched_since), 1))
                    self.stop_event.wait(min(_TICK, max(0.0, until - time.monotonic())))
                self._check()
        except JobFailedError as failed:
            self._show_job(failed.job, watched_since)
            return failed.job
        except NotFoundError:
            raise RuntimeError(f"The server at {self.client.base_url} has no job {job_id}; "
                               "check the job id and the server address.") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _show_job(self, job: Job, watched_since: float) -> None:
        self.sink._set_job(job)
        self._show_live_model(job)
        progress = job.progress
        if progress is not None:
            # One bar for the whole job, which only moves forward, whatever a server reports.
            self.best_percent = max(self.best_percent, round(progress * 100.0, 1))
        phase = {JobStatus.PENDING: "queued", JobStatus.PROCESSING: "reconstructing"}.get(job.status, "reconstructing")
        eta = job.eta_s
        self.sink._set(
            status=str(job.status),
            stage=job.stage or "",
            step=job.step or "",
            eta=-1.0 if eta is None else round(eta, 1),
            current_frame=job.current_frame or 0,
            total_frames=job.total_frames or 0,
            percent=self.best_percent,
            elapsed=round(job_elapsed(job.extra, watched_since), 1),
            **({} if job.is_terminal else {"phase": phase}),
        )

    def _show_live_model(self, job: Job) -> None:
        """Fetch the model so far when the server has a new one (its ``points_url`` changed).
        A preview that cannot be fetched is skipped: the bar and the result do not depend on it."""
        if not self.live_preview or job.status != JobStatus.PROCESSING or not job.points_url \
                or job.points_url == self.live_url:
            return
        self.live_url = job.points_url
        try:
            model = self.client.live_model(job)
        except OpenStrateError:
            return
        if model is not None:
            self.sink._set_live(model)

    # -- the result ---------------------------------------------------------------------

    def _load_result(self, job: Job) -> None:
        from .. import mesh as meshes  # trimesh and pythreejs load only once there is a mesh

        if not job.asset:
            raise RuntimeError(f"Job {job.job_id} is complete but names no GLB to download.")
        target = cache.mesh_path(cache_server(self.client), job.asset)
        if not target.exists():
            self.sink._set(phase="downloading")
            self.client.download(job, target)
        self._check()
        mesh = meshes.load_glb(target)
        view_url = job.view_url or self.client.view_url(job.asset)
        self.sink._set_result(mesh, target)
        record = mesh.metadata.get(PROVENANCE_KEY)
        self.sink._set(view_url=view_url, view_route=view_route(view_url), mesh_faces=int(len(mesh.faces)),
                       made_with=describe(record) if isinstance(record, dict) else "")


def _message(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or exc.__class__.__name__
