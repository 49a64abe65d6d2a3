"""``ReconstructWidget``: a video in, a mesh out, with the progress of every step on screen.

Composition: the widget itself is the anywidget (picker, both upload bars, reconstruction
progress, the ``/view`` iframe), so its traits (``job_id``, ``status``, ...) live on the
object the user holds and can be observed. Displaying it shows an ``ipywidgets.VBox`` of
that anywidget and a box that receives the pythreejs ``Renderer`` once the mesh is loaded:
pythreejs widgets cannot be nested inside an anywidget's DOM, but a VBox composes any
widgets, and the whole stays one output that survives a page reload.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import ipywidgets
import numpy as np
import traitlets as t

from .._contract import size_text
from ..api import (VIDEO_EXTENSIONS, Job, JobFailedError, JobStatus, LiveModel, MissingFileError, OpenStrate,
                   OpenStrateError, WaitTimeout)
from ._receiver import MAX_CHUNK_BYTES, ChunkReceiver, UploadRefused
from ._reconstruction import Reconstruction, Source, cached_job_record
from ._front_end import front_end
from ._meters import TransferMeter

if TYPE_CHECKING:  # pragma: no cover
    import pythreejs
    import trimesh

    from ._measuring import MeasureTool

__all__ = ["ReconstructWidget"]

# One list of phases for the kernel and the page (js/src/widget imports the same file).
_PHASES = json.loads((Path(__file__).with_name("phases.json")).read_text("utf-8"))
_BUSY_PHASES = frozenset(_PHASES["busy"])
_WAIT_SLICE = 0.1
DEFAULT_MAX_FACES = 30_000  # same as openstrate_nb.mesh's (see there why), without importing trimesh here
# The kernel's 3D view: as wide as the widget (the browser reports it), no taller than the iframe.
_VIEW_WIDTH = (240, 1600, 640)  # least, most, before the browser has said
_VIEW_HEIGHT = 420
_PREVIEW_MAX_POINTS = 100_000  # ~1.6 MB to the browser per update, drawn smoothly by three.js r97


class _Busy(RuntimeError):
    """A second video was picked while the first is still on its way."""


class ReconstructWidget(anywidget.AnyWidget):
    """Reconstruct a walkthrough video into a 3D mesh, from a picker or from code.

    >>> w = ReconstructWidget()                      # pick or drop a video
    >>> w = ReconstructWidget("walk.mp4")            # a file beside the kernel: "Run all" reproduces it
    >>> w = ReconstructWidget(video_url="https://…/walk.mp4")
    >>> w = ReconstructWidget(job_id="…")            # attach again, e.g. after a kernel restart
    >>> w.wait(); w.mesh, w.scene, w.job

    The server is ``base_url=``, else ``$OPENSTRATE_BASE_URL``, else https://openstrate.com.
    The same video on the same server attaches to its finished job (``force=True`` runs it again).
    A video on the kernel's machine is first judged by the pipeline's own first pass
    (``check_video``): footage it would refuse (too short, too dark, too blurred, a camera that
    hardly moves) is refused before it is sent (``check=False`` sends it anyway).
    """

    _esm = front_end("widget.js")
    #: the most recently created widget, for ``%openstrate export``
    _latest: weakref.ReferenceType[ReconstructWidget] | None = None

    #: where the widget is: one of phases.json's (a misspelt phase fails here, not silently in the page)
    phase = t.Enum(list(_PHASES["labels"]), default_value="idle").tag(sync=True)
    status = t.Unicode("").tag(sync=True)
    stage = t.Unicode("").tag(sync=True)
    current_frame = t.Int(0).tag(sync=True)
    total_frames = t.Int(0).tag(sync=True)
    #: 0..100 of the whole job, never going back; -1 while the server has not said how far it is
    percent = t.Float(-1.0).tag(sync=True)
    #: "Step 3 of 10: finding features" where the server numbers its steps
    step = t.Unicode("").tag(sync=True)
    #: seconds left as the server forecasts them, -1 when it does not
    eta = t.Float(-1.0).tag(sync=True)
    elapsed = t.Float(0.0).tag(sync=True)
    error = t.Unicode("").tag(sync=True)
    notice = t.Unicode("").tag(sync=True)
    job_id = t.Unicode("").tag(sync=True)
    filename = t.Unicode("").tag(sync=True)
    view_url = t.Unicode("").tag(sync=True)
    #: how the page reaches view_url when the server is on the kernel's machine (see _routes.py)
    view_route = t.Dict({}).tag(sync=True)
    mesh_faces = t.Int(0).tag(sync=True)
    #: points of the model so far in the 3D view while the job runs (the live preview), 0 without one
    preview_points = t.Int(0).tag(sync=True)
    from_cache = t.Bool(False).tag(sync=True)
    #: one line on how the result was made (its provenance), shown under the result
    made_with = t.Unicode("").tag(sync=True)
    can_retry = t.Bool(False).tag(sync=True)
    #: {"sent", "total", "rate"} of the browser → kernel and kernel → server hops
    kernel_hop = t.Dict({}).tag(sync=True)
    server_hop = t.Dict({}).tag(sync=True)
    # The picker's protocol, decided here so kernel and browser always agree.
    accept = t.Unicode(",".join(VIDEO_EXTENSIONS)).tag(sync=True)
    #: the upload cap as the picker states it before a file is picked ("100 MiB")
    max_upload = t.Unicode("").tag(sync=True)
    chunk_bytes = t.Int(MAX_CHUNK_BYTES).tag(sync=True)
    max_in_flight = t.Int(3).tag(sync=True)

    def __init__(self, video: str | os.PathLike[str] | None = None, *, video_url: str | None = None,
                 job_id: str | None = None, base_url: str | None = None, client: OpenStrate | None = None,
                 force: bool = False, cache: bool = True, poll_interval: float = 2.0,
                 max_faces: int = DEFAULT_MAX_FACES, options: dict[str, Any] | None = None, check: bool = True,
                 **kwargs: Any):
        super().__init__(**kwargs)
        #: judge a video with the pipeline's own first pass before sending it (needs the local extra)
        self._check_first = bool(check)
        if options is not None and not isinstance(options, dict):
            raise TypeError('options must be a dict, such as {"marker_size_m": 0.1} for a printed scale marker.')
        #: the server-side options every video of this widget is sent with
        self._options = dict(options or {})
        if client is not None and base_url is not None:
            raise ValueError("Give base_url= or client=, not both (the client already has a base URL).")
        self._owns_client = client is None
        self._client = client if client is not None else OpenStrate(base_url)
        self._force = force
        self._use_cache = cache
        self._poll_interval = poll_interval
        self._max_faces = max_faces
        self._lock = threading.RLock()
        self._reconstruction: Reconstruction | None = None
        self._source: Source | None = None
        self._receiver: ChunkReceiver | None = None
        self._kernel_meter: TransferMeter | None = None
        self._job: Job | None = None
        self._mesh: trimesh.Trimesh | None = None
        # The one renderer this widget draws every result in (see _three.show_in for why one).
        self._renderer: pythreejs.Renderer | None = None
        # Its double-click measuring, and the readout shown under it.
        self._measure: MeasureTool | None = None
        #: the stage the live preview shown comes from (the view is framed again when it changes)
        self._preview_stage: str | None = None
        self._mesh_path: Path | None = None
        self._preview_png: bytes | None = None
        self._display_ids: list[str] = []
        # What the browser last said about where the widget is drawn (see _on_view).
        self._view_width = _VIEW_WIDTH[2]
        self._dark = False
        self.max_upload = size_text(self._client.max_upload_bytes)
        # Wrapping: the view on its own line as before, the measuring readout (full width) under it.
        self._scene_box = ipywidgets.Box(layout=ipywidgets.Layout(width="100%", flex_flow="row wrap"))
        self._scene_box.add_class("osnb-scene")
        # One card around the widget and the 3D view: style.css draws its border.
        self._container = ipywidgets.VBox([self, self._scene_box])
        self._container.add_class("osnb-card")
        self.on_msg(self._on_browser_message)
        ReconstructWidget._latest = weakref.ref(self)

        if isinstance(video, str) and video.startswith(("http://", "https://")):
            video, video_url = None, video
        given = [name for name, value in (("video", video), ("video_url", video_url), ("job_id", job_id)) if value]
        if len(given) > 1:
            raise ValueError(f"Give one of a video path, video_url= or job_id=, not {' and '.join(given)}.")
        if video is not None:
            self.submit(video)
        elif video_url:
            self._start(Source(video_url=video_url, filename=Path(video_url.split("?")[0]).name or None))
        elif job_id:
            self.attach(job_id)

    # -- what the user reads --------------------------------------------------------------

    @property
    def client(self) -> OpenStrate:
        return self._client

    @property
    def job(self) -> Job | None:
        """The last job document the server sent."""
        return self._job

    @property
    def mesh(self) -> trimesh.Trimesh | None:
        """The full-resolution result (every face), once complete."""
        return self._mesh

    @property
    def scene(self) -> pythreejs.Renderer | None:
        """The pythreejs view of the result (decimated to ``max_faces`` for display)."""
        return self._renderer if self._mesh is not None else None

    @property
    def mesh_path(self) -> Path | None:
        """The downloaded GLB in the cache directory."""
        return self._mesh_path

    @property
    def video_url(self) -> str | None:
        """The URL the server fetched the video from (for a ``video_url=`` run), else None."""
        source = self._source
        return source.video_url if source is not None else None

    @property
    def video_sha256(self) -> str | None:
        """SHA-256 of the video file this widget sent (None for a ``video_url`` or an attached job)."""
        source = self._source
        if source is None or source.video_url or source.path is None:
            return None
        return source.video_key

    def set_scale(self, point_a: Any, point_b: Any, metres: float) -> trimesh.Trimesh:
        """Give the result real-world size: ``point_a`` and ``point_b`` (on the mesh) are
        ``metres`` apart. ``w.mesh`` becomes the scaled copy (``mesh_summary`` then reports
        metres); the copy is returned."""
        from ..scale import scale_mesh

        if self._mesh is None:
            raise RuntimeError("There is no result to scale yet: wait() for the reconstruction first.")
        self._mesh = scale_mesh(self._mesh, point_a, point_b, metres)
        if self._measure is not None:
            self._measure.rescaled(self._mesh)  # the readout now says metres
        return self._mesh

    @property
    def measurement(self) -> float | None:
        """The distance last measured in the 3D view (double-click two points of the mesh), in
        metres once the scale is known (else in the mesh's units), or None."""
        measuring = self._measure.measuring if self._measure is not None and self._mesh is not None else None
        return measuring.distance if measuring is not None else None

    def export_html(self, path: str | os.PathLike[str], *, title: str | None = None) -> Path:
        """Write one self-contained HTML page of the result that opens offline, from disk."""
        from ..export import export_html

        return export_html(self, path, title=title)

    @property
    def container(self) -> ipywidgets.VBox:
        """What displaying this widget shows: the widget, then the 3D view once there is one."""
        return self._container

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = self._container._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):
            # What a page without a kernel shows (GitHub, nbviewer): a sentence, not an object
            # repr, and once there is a result, a picture of it.
            bundle["text/plain"] = self.summary()
            if self._preview_png is not None:
                bundle["image/png"] = self._preview_png
        return bundle

    def _ipython_display_(self) -> None:
        from IPython.display import display

        # Each output gets an id, so the picture can be added to it when the result arrives.
        display_id = uuid.uuid4().hex
        self._display_ids.append(display_id)
        display(self._repr_mimebundle_(), raw=True, display_id=display_id)

    def _refresh_displays(self) -> None:
        """Put the current summary and picture into every output that shows this widget.

        Frontends that keep every output addressable take it at once; nbclient (nbconvert,
        papermill, nbval) takes it from the cell that runs ``wait()``, which calls this again.
        """
        if not self._display_ids:
            return
        from IPython.display import update_display

        bundle = self._repr_mimebundle_()
        for display_id in self._display_ids:
            update_display(bundle, raw=True, display_id=display_id)

    def summary(self) -> str:
        """One line: the video, where the run is, and the result once there is one."""
        what = self.filename or "no video picked yet"
        if self.phase == "complete":
            return f"OpenStrate reconstruction of {what}: {self.mesh_faces:,} faces (job {self.job_id})."
        if self.phase == "failed":
            return f"OpenStrate reconstruction of {what} failed: {self.error}"
        return f"OpenStrate reconstruction of {what}: {self.phase} (run the notebook to see the result)."

    # -- what the user does -----------------------------------------------------------------

    def submit(self, video: str | os.PathLike[str], *, force: bool | None = None) -> None:
        """Reconstruct a video file that the kernel can read (no browser involved)."""
        path = Path(video).expanduser()
        if path.suffix.lower() not in VIDEO_EXTENSIONS:
            raise ValueError(f"{path.name!r} is not a video this service reconstructs ({' '.join(VIDEO_EXTENSIONS)}).")
        if not path.is_file():
            raise MissingFileError(f"No such video: {path} (relative paths start at {Path.cwd()}).")
        self._start(Source(path=path, filename=path.name), force=force)

    def attach(self, job_id: str) -> None:
        """Follow an existing job, e.g. after a kernel restart (the id is in ``job_id``)."""
        self._start(Source(job_id=job_id))

    def retry(self) -> None:
        """Run again after a failure: re-submit the uploaded video, or upload it again."""
        source = self._source
        if source is None:
            raise RuntimeError("Nothing to retry: this widget has not started a reconstruction.")
        job = self._job
        if job is not None and job.status != JobStatus.FAILED:
            # The job is fine (a download or the connection failed): follow it again, don't re-run it.
            self._start(source, force=False)
            return
        if job is not None and not source.upload_url and isinstance(job.extra.get("video_url"), str):
            source.upload_url = job.extra["video_url"]  # attached by job id: the server says where its video is
        self._start(source, retry=True)

    def cancel(self) -> None:
        """Stop: an upload (its temp file is removed), or the server's job once there is one
        (on servers that can cancel; elsewhere the widget stops following and says so)."""
        with self._lock:
            if self._receiver is not None:
                upload_id = self._receiver.upload_id
                self._abort_receiving("Cancelled.", phase="cancelled")
                self.send({"type": "abort", "id": upload_id, "message": "Cancelled."})
                return
        if self._reconstruction is not None and self._reconstruction.is_alive():
            self._reconstruction.cancel_event.set()

    def wait(self, timeout: float | None = None) -> Job:
        """Block until the reconstruction ends, with the progress bar still live.

        Returns the completed job; raises ``JobFailedError`` if it failed and ``WaitTimeout``
        after ``timeout`` seconds. Ctrl-C (interrupt) stops waiting, never the server's job.
        """
        reconstruction = self._reconstruction
        if reconstruction is None:
            raise RuntimeError("Nothing to wait for yet: pick a video (the picker needs the kernel idle, so do it "
                               "before running wait()), or pass a path, video_url= or job_id=.")
        deadline = None if timeout is None else time.monotonic() + timeout
        # Short slices: Ctrl-C is delivered between them, and the reconstruction thread keeps the bar live.
        while not reconstruction.done.wait(_WAIT_SLICE):
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeout(self.job_id or "(not started)", float(timeout or 0), self._job)
        if self.phase == "complete" and self._job is not None:
            self._refresh_displays()
            return self._job
        if self.phase == "failed" and self._job is not None and self._job.status == JobStatus.FAILED:
            raise JobFailedError(self._job)
        raise OpenStrateError(self.error or self.notice or f"The reconstruction ended {self.phase}.")

    def close(self) -> None:
        """Stop background work, remove temp files, and close the widgets."""
        if self._reconstruction is not None:
            # A running reconstruction removes its temp file as it stops; a finished one left it for Retry.
            self._reconstruction.stop_event.set()
            if not self._reconstruction.is_alive() and self._source is not None:
                self._source.discard_temporary()
        with self._lock:
            if self._receiver is not None:
                self._receiver.abort()
                self._receiver = None
        if self._owns_client:
            self._client.close()
        self._scene_box.close()
        self._container.close()
        if self._renderer is not None:
            self._renderer.close()
        super().close()

    # -- runs ---------------------------------------------------------------------------------

    def _start(self, source: Source, *, force: bool | None = None, retry: bool = False) -> None:
        if self._reconstruction is not None and self._reconstruction.is_alive():
            raise RuntimeError("This widget is already working on a video; wait() for it or create another widget.")
        source.options = source.options or self._options or None
        self._source = source
        self._scene_box.children = ()
        self._job = self._mesh = self._mesh_path = self._preview_png = None
        self._set(phase="starting", status="", stage="", error="", notice="", percent=-1.0, elapsed=0.0, step="", eta=-1.0,
                  current_frame=0, total_frames=0, view_url="", view_route={}, mesh_faces=0, preview_points=0, from_cache=False, can_retry=False, made_with="",
                  filename=source.filename or "", server_hop={}, **({} if source.temporary else {"kernel_hop": {}}),
                  **({"job_id": source.job_id} if source.job_id else {}))
        self._reconstruction = Reconstruction(self, self._client, source, force=self._force if force is None else force,
                                              use_cache=self._use_cache, poll_interval=self._poll_interval,
                                              retry=retry, live_preview=True, check_first=self._check_first)
        self._reconstruction.start()

    # The reconstruction thread's sink: called from that thread.

    def _set(self, **traits: Any) -> None:
        with self._lock, self.hold_sync():
            for name, value in traits.items():
                setattr(self, name, value)

    def _set_job(self, job: Job) -> None:
        self._job = job

    def _set_live(self, model: LiveModel) -> None:
        """The model so far (``client.live_model``): shown in the 3D view until the result comes."""
        from .. import _three

        points, colors = model.points, model.colors
        if len(points) > _PREVIEW_MAX_POINTS:  # the view stays light whatever the server sends
            keep = np.sort(np.random.default_rng(0).choice(len(points), _PREVIEW_MAX_POINTS, replace=False))
            points, colors = points[keep], colors[keep]
        preview = _three.preview_object(points, colors, model.world_from_camera)
        framed = np.concatenate([points, model.world_from_camera[:, :3, 3].astype(np.float32)])  # cameras in view too
        with self._lock:
            if self._mesh is not None:
                return  # the result is already shown
        width, height = _view_size(self._view_width)
        if self._renderer is None:
            self._renderer = _three.renderer_for(preview, framed, width=width, height=height, dark=self._dark)
        else:
            # Framed anew when the stage changes: the sparse model, then the denser surface.
            _three.show_preview_in(self._renderer, preview, framed, frame=model.stage != self._preview_stage)
            if self._measure is not None:
                self._measure.hide()  # the last result's marks
        self._preview_stage = model.stage
        self._set(preview_points=int(len(points)))
        with self._lock:
            self._scene_box.children = (self._renderer,)

    def _set_result(self, mesh: trimesh.Trimesh, path: Path) -> None:
        from .. import _three
        from ..mesh import display_arrays
        from ..preview import picture_of, png_bytes
        from ._measuring import MeasureTool

        # One decimated copy for both pictures: the live 3D view and the still preview.
        arrays = display_arrays(mesh, self._max_faces)
        width, height = _view_size(self._view_width)
        if self._renderer is None:
            self._renderer = _three.renderer_for(_three.mesh_object(arrays), arrays["positions"], width=width,
                                                 height=height, dark=self._dark, start=arrays.get("filmed_from"))
        else:
            _three.resize(self._renderer, width, height)
            _three.set_dark(self._renderer, self._dark)
            _three.show_in(self._renderer, _three.mesh_object(arrays), arrays["positions"], arrays.get("filmed_from"))
        if self._measure is None:  # the view may have begun as a live preview, without a mesh to pick
            self._measure = MeasureTool(self._renderer)
        self._preview_stage = None
        preview = png_bytes(picture_of(arrays, width=480, height=320), colours=256)  # a saved notebook carries it
        self._measure.show(mesh, arrays["positions"])
        with self._lock:
            self._mesh, self._mesh_path, self._preview_png = mesh, path, preview
            self._scene_box.children = (self._renderer, self._measure.readout)
        self._refresh_displays()

    def _on_view(self, width: Any, dark: Any) -> None:
        """The browser says how wide the widget is drawn and whether the page is dark."""
        from .. import _three

        if isinstance(width, (int, float)) and width > 0:
            self._view_width = int(width)
        self._dark = bool(dark)
        renderer = self._renderer
        if renderer is not None:
            _three.resize(renderer, *_view_size(self._view_width))
            _three.set_dark(renderer, self._dark)

    # -- the picker's messages --------------------------------------------------------------

    def _on_browser_message(self, _widget: Any, content: dict[str, Any], buffers: list[Any]) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        try:
            if kind == "upload_start":
                self._begin_receiving(content)
            elif kind == "chunk":
                self._receive_chunk(content, buffers)
            elif kind == "upload_end":
                self._finish_receiving(content)
            elif kind == "cancel":
                self.cancel()
            elif kind == "retry":
                self.retry()
            elif kind == "view":
                self._on_view(content.get("width"), content.get("dark"))
        except _Busy as exc:
            # Leave the running job's display alone; only that picker's upload is refused.
            self.send({"type": "abort", "id": content.get("id"), "message": str(exc)})
        except (UploadRefused, OSError, RuntimeError) as exc:
            self._abort_receiving(str(exc), phase="failed")
            self.send({"type": "abort", "id": content.get("id"), "message": str(exc)})

    def _begin_receiving(self, content: dict[str, Any]) -> None:
        with self._lock:
            if self.phase in _BUSY_PHASES or (self._reconstruction is not None and self._reconstruction.is_alive()):
                raise _Busy("This widget is already working on a video; create another ReconstructWidget() "
                            "for a second one.")
            if self._receiver is not None:
                self._receiver.abort()
            receiver = ChunkReceiver.open(str(content.get("id")), str(content.get("name", "")),
                                          content.get("size"), max_bytes=self._client.max_upload_bytes)
            self._receiver = receiver
            sha256 = content.get("sha256")
            if not (self._use_cache and not self._force and isinstance(sha256, str) and len(sha256) == 64):
                self._ready(receiver)
                return
            self._set(phase="hashing", error="", notice="Checking the cache…", filename=receiver.filename,
                      job_id="", kernel_hop={}, server_hop={})
        # Asking the server takes a round trip (seconds to a remote one): never on the
        # kernel's thread, which must stay free for the next message and the user's cells.
        threading.Thread(target=self._attach_or_receive, args=(receiver, sha256.lower()), daemon=True,
                         name="openstrate-cache-check").start()

    def _ready(self, receiver: ChunkReceiver) -> None:
        """Ask the browser for the bytes (called with the lock held)."""
        self._kernel_meter = TransferMeter(receiver.size)
        self._scene_box.children = ()  # a new video replaces the last result's view
        self._set(phase="receiving", error="", notice="", filename=receiver.filename, job_id="",
                  status="", stage="", percent=-1.0, view_url="", view_route={}, can_retry=False,
                  kernel_hop=self._kernel_meter.snapshot(), server_hop={})
        self.send({"type": "ready", "id": receiver.upload_id})

    def _attach_or_receive(self, receiver: ChunkReceiver, sha256: str) -> None:
        """Attach to the job the cache knows for the browser's hash, or ask for the bytes."""
        try:
            known = cached_job_record(self._client, Source(video_key=sha256, options=self._options or None).cache_key())
        except OpenStrateError:
            known = None  # the server is unreachable now: receive the bytes; the run will say so
        with self._lock:
            if self._receiver is not receiver:
                return  # cancelled (or replaced) while the server was asked
            if known is None:
                self._ready(receiver)
                return
            self._receiver = None
        receiver.abort()
        self.send({"type": "known", "id": receiver.upload_id})
        self._start(Source(job_id=str(known["job_id"]), filename=receiver.filename, video_key=sha256,
                           upload_url=known.get("upload_url")))
        self._set(from_cache=True, kernel_hop={},
                  notice="Same video as before: attached to its job; nothing was sent again.")

    def _receive_chunk(self, content: dict[str, Any], buffers: list[Any]) -> None:
        with self._lock:
            receiver = self._receiver
            if receiver is None or receiver.upload_id != str(content.get("id")):
                # A chunk still in flight when the upload was cancelled: drop it.
                return
            if len(buffers) != 1:
                raise UploadRefused("A chunk arrived without its bytes; pick the video again.")
            received = receiver.write(int(content.get("offset", -1)), buffers[0])
            snap = self._kernel_meter.update(received) if self._kernel_meter else None
            if snap is not None:
                self._set(kernel_hop=snap)
        self.send({"type": "ack", "id": receiver.upload_id, "index": content.get("index"), "received": received})

    def _finish_receiving(self, content: dict[str, Any]) -> None:
        with self._lock:
            receiver = self._receiver
            if receiver is None or receiver.upload_id != str(content.get("id")):
                return
            self._receiver = None
            received = receiver.finish()
            if self._kernel_meter is not None:
                self._set(kernel_hop=self._kernel_meter.snapshot())
        self.send({"type": "received", "id": receiver.upload_id})
        self._start(Source(path=received.path, filename=received.filename, video_key=received.sha256,
                           temporary=True))

    def _abort_receiving(self, message: str, *, phase: str) -> None:
        with self._lock:
            if self._receiver is not None:
                self._receiver.abort()
                self._receiver = None
            self._set(phase=phase, error="" if phase == "cancelled" else message,
                      notice=message if phase == "cancelled" else "")


def _view_size(width: int) -> tuple[int, int]:
    least, most, _ = _VIEW_WIDTH
    width = max(least, min(most, int(width)))
    return width, min(_VIEW_HEIGHT, round(width * 0.66))
