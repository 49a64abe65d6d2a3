"""The ASGI app: the OpenStrate contract's routes, each a thin handler over store and runner."""

from __future__ import annotations

import contextlib
import functools
import hmac
import html
import uuid
from importlib import resources
from pathlib import Path
from typing import Any, AsyncIterator
from urllib.parse import urlencode, urlsplit

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .._viewer_page import viewer_page
from ._config import ServerConfig
from ._documents import job_document, upload_document
from ._fetch import FetchError, VideoFetcher, check_fetchable
from ._files import CONTENT_TYPES, MESH_EXTS, VIDEO_EXTS, FileStore, valid_asset
from ._ingest import UploadRejected, receive_upload
from ._preview import render_preview
from ._job_options import OptionsError, parse_job_options
from ._jobs import Executor, JobRunner
from ._local_workers import LocalWorkers
from ._stage_artifacts import artifact_path, read_manifest, stage_folder
from ._store import Store

__all__ = ["create_app", "OPENAPI_PATH"]

OPENAPI_PATH = "/openstrate-reconstruction-api.openapi.yaml"


class Service:
    """What the handlers share: configuration, store, files and runner."""

    def __init__(self, config: ServerConfig):
        self.config = config
        self.files = FileStore(config.data_dir)
        self.files.clear_tmp()
        self.store = Store(config.data_dir / "openstrate.sqlite3")
        self.server_id = self.store.server_id()
        fetcher = VideoFetcher(max_bytes=config.max_upload_bytes, allow_private=config.allow_private_urls)
        self.runner = JobRunner(self.store, self.files, _executor(config, self.server_id, self.files.root / "logs"),
                                time_limit=config.job_timeout, fetch=fetcher)

    def base(self, request: Request) -> str:
        return self.config.public_url or str(request.base_url).rstrip("/")

    def job_document(self, job: dict[str, Any], request: Request) -> dict[str, Any]:
        manifest = read_manifest(stage_folder(self.files, job))
        return job_document(job, self.base(request), self.page_query(), manifest)

    def page_query(self) -> str:
        """Links opened by browsers (iframes, new tabs) carry the token: they cannot send headers."""
        return "?" + urlencode({"token": self.config.token}) if self.config.token else ""


def _executor(config: ServerConfig, server_id: str, logs_dir: Path) -> Executor:
    """Where reconstructions run: worker processes here, or a Dask cluster (``--dask``)."""
    if not config.dask:
        return LocalWorkers(workers=config.workers, pipeline=config.pipeline, logs_dir=logs_dir)
    try:  # distributed loads only when a cluster is asked for
        from ._dask_workers import DaskWorkers
    except ImportError as exc:
        raise ImportError(f"--dask needs the 'dask' extra ({exc.name} is missing); install it with: "
                          'pip install "openstrate_nb[dask]"') from exc
    return DaskWorkers(config.dask, pipeline=config.pipeline, namespace=server_id, logs_dir=logs_dir,
                       shared_dir=config.shared_dir)


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _service(request: Request) -> Service:
    return request.app.state.service


def _asset(request: Request) -> dict[str, Any]:
    """The file record named ``{id}.{ext}`` by the path, validated before any path is built."""
    file_id, _, ext = request.path_params["name"].rpartition(".")
    if not valid_asset(file_id, ext.lower()):
        raise HTTPException(404, "no such file: ids are UUIDs with an extension such as .glb")
    record = _service(request).store.file(file_id, ext.lower())
    if record is None:
        raise HTTPException(404, "no such file on this server")
    return record


# -- public endpoints -----------------------------------------------------------------------


async def upload(request: Request) -> Response:
    service = _service(request)
    try:
        received = await receive_upload(request.headers.get("content-type", ""), request.stream(), service.files,
                                        service.config.max_upload_bytes)
    except UploadRejected as exc:
        return _error(exc.status_code, exc.message)
    try:
        options = parse_job_options(received.options) if received.kind == "video" else {}
    except OptionsError as exc:
        received.incoming.discard()  # refused whole: nothing kept of this upload
        return _error(400, str(exc))
    file_id = service.files.commit(received.incoming, received.ext)
    record = service.store.add_file(file_id, received.ext, received.kind, received.filename,
                                    received.incoming.size, received.incoming.sha256)
    doc = upload_document(record, service.base(request), service.page_query())
    if received.kind == "video":
        if service.runner.available:
            job = service.store.create_job(filename=received.filename, source_id=file_id, source_ext=received.ext,
                                           options=options)
            service.runner.submit(job["job_id"])
            doc.update(job_id=job["job_id"], reconstruction_started=True)
        else:
            doc.update(reconstruction_started=False,
                       reconstruction_error="this server runs no reconstruction workers (--workers 0).")
    return JSONResponse(doc)


async def reconstruct(request: Request) -> Response:
    service = _service(request)
    try:
        body = await request.json()
    except ValueError:
        return _error(400, 'send a JSON body such as {"video_url": "https://…/walk.mp4"}.')
    video_url = body.get("video_url") if isinstance(body, dict) else None
    if not isinstance(video_url, str) or not video_url.strip():
        return _error(400, "video_url is missing: give the URL of a video (an upload's url works).")
    filename = body.get("filename") if isinstance(body.get("filename"), str) else None
    try:
        options = parse_job_options(body.get("options"))
    except OptionsError as exc:
        return _error(400, str(exc))
    own = _own_file(video_url, request, service)
    if own is not None:
        record = service.store.file(*own)
        if record is None or record["kind"] != "video":
            return _error(400, "video_url names no video stored on this server; upload the video first.")
        job = service.store.create_job(filename=filename or record["filename"], source_id=own[0], source_ext=own[1],
                                       options=options)
    else:
        try:
            await anyio.to_thread.run_sync(
                lambda: check_fetchable(video_url, allow_private=service.config.allow_private_urls))
        except FetchError as exc:
            return _error(400, str(exc))
        name = filename or Path(urlsplit(video_url).path).name or "video"
        job = service.store.create_job(filename=name, source_url=video_url, options=options)
    if not service.runner.available:
        error = "this server runs no reconstruction workers (--workers 0); start it with --workers 1 or more."
        service.store.finish_job(job["job_id"], status="failed", code="no_workers", error=error)
        return _error(503, error, job_id=job["job_id"])
    service.runner.submit(job["job_id"])
    return JSONResponse({"job_id": job["job_id"], "status": "processing"})


def _own_file(video_url: str, request: Request, service: Service) -> tuple[str, str] | None:
    """``(id, ext)`` when ``video_url`` is this server's own ``/api/files/…`` URL."""
    parts = urlsplit(video_url)
    prefix = "/api/files/"
    if not parts.path.startswith(prefix):
        return None
    ours = {urlsplit(service.base(request)).netloc, request.headers.get("host", "")}
    port = urlsplit(str(request.base_url)).port
    same_server = (not parts.netloc or parts.netloc in ours
                   or (parts.hostname in ("127.0.0.1", "localhost", "::1") and parts.port == port))
    if not same_server:
        return None
    file_id, _, ext = parts.path[len(prefix):].rpartition(".")
    return (file_id, ext.lower()) if valid_asset(file_id, ext.lower()) else None


async def status(request: Request) -> Response:
    service = _service(request)
    job = service.store.job(request.path_params["job_id"])
    if job is None:
        return _error(404, "no such job on this server; check the job id (jobs live in the server's data directory).")
    return JSONResponse(service.job_document(job, request))


async def artifact(request: Request) -> Response:
    """One stage artifact of a job (extension of the embedded server; ``_stage_artifacts``)."""
    service = _service(request)
    job_id = request.path_params["job_id"]
    job = service.store.job(job_id)
    if job is None:
        return _error(404, "no such job on this server; check the job id (jobs live in the server's data directory).")
    folder = stage_folder(service.files, job)
    path = artifact_path(folder, read_manifest(folder), request.path_params["name"])
    if path is None:
        return _error(404, "this job has no such artifact; its job document lists the ones it has under 'artifacts'.")
    media = {".json": "application/json", ".jpg": "image/jpeg", ".ply": "application/octet-stream",
             ".npz": "application/octet-stream"}.get(path.suffix, "application/octet-stream")
    # Live files are rewritten while the job runs: a cache must ask again (the URL's ?v= changes too).
    return FileResponse(path, media_type=media, headers={"Cache-Control": "no-cache"})


async def cancel(request: Request) -> Response:
    """Stop a job (extension of the embedded server): it ends ``failed`` with code ``cancelled``."""
    service = _service(request)
    job_id = request.path_params["job_id"]
    if service.store.job(job_id) is None:
        return _error(404, "no such job on this server; check the job id (jobs live in the server's data directory).")
    await anyio.to_thread.run_sync(lambda: service.runner.cancel(job_id))
    job = service.store.job(job_id)
    assert job is not None
    if job["status"] == "complete" or (job["status"] == "failed" and job.get("code") != "cancelled"):
        return _error(409, f"the job already ended ({job['status']}), so there is nothing to cancel.")
    return JSONResponse(service.job_document(job, request))


async def files(request: Request) -> Response:
    record = _asset(request)
    file_id, ext = record["id"], record["ext"]
    return FileResponse(_service(request).files.path(file_id, ext), media_type=CONTENT_TYPES[ext],
                        filename=record["filename"], content_disposition_type="inline")


async def view(request: Request) -> Response:
    record = _asset(request)
    file_id, ext = record["id"], record["ext"]
    service = _service(request)
    # Relative to /view/: right whether the page is reached directly or under a proxy's
    # prefix (jupyter-server-proxy's {base}proxy/{port}/view/...), which absolute paths miss.
    url = f"../api/files/{file_id}.{ext}"
    if service.config.token:
        url += "?" + urlencode({"token": request.query_params.get("token", "")})
    if ext in VIDEO_EXTS:
        return HTMLResponse(_video_page(record["filename"], url))
    if ext not in MESH_EXTS:
        raise HTTPException(404, "only meshes (.glb .ply .stl) and videos have a viewer page")
    options = {"url": url, "format": ext, "name": record["filename"]}
    return HTMLResponse(viewer_page(options["name"], options, script_src="../static/viewer.js"))


def _video_page(name: str, url: str) -> str:
    title = html.escape(name)
    return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{title} · OpenStrate</title>"
            "<style>body{margin:0;background:#111;color:#eee;font:14px system-ui}video{width:100%;max-height:95vh}"
            f"</style></head><body><p style='margin:8px'>{title}</p>"
            f"<video controls preload=metadata src='{html.escape(url)}'></video></body></html>")


async def preview(request: Request) -> Response:
    record = _asset(request)
    file_id, ext = record["id"], record["ext"]
    service = _service(request)
    if ext not in MESH_EXTS + VIDEO_EXTS:
        raise HTTPException(404, "only meshes and videos have a preview image")
    cached = service.files.cache_dir / f"{file_id}.{ext}.png"
    if not cached.exists():
        try:
            png = await anyio.to_thread.run_sync(render_preview, service.files.path(file_id, ext), ext)
        except Exception:
            return _error(422, "this file could not be rendered as a preview image.")
        partial = cached.with_name(f"{cached.name}.{uuid.uuid4().hex[:8]}.part")  # one per concurrent render
        partial.write_bytes(png)
        partial.replace(cached)
    return FileResponse(cached, media_type="image/png")


@functools.cache
def _openapi_text() -> str:
    return resources.files("openstrate_nb.local").joinpath("openapi.yaml").read_text("utf-8")


async def openapi(request: Request) -> Response:
    return Response(_openapi_text(), media_type="application/yaml")


async def index(request: Request) -> Response:
    return JSONResponse({"service": "openstrate_nb embedded server", "openapi": OPENAPI_PATH,
                         "server_id": _service(request).server_id})


# -- internal endpoints ----------------------------------------------------------------------


async def internal(request: Request) -> Response:
    """The hosted service's workers report through these; this server's report over a pipe.

    They exist so that a caller gets a clear refusal, never a way to change a job.
    """
    if not request.headers.get("authorization"):
        return _error(401, "this endpoint is only for the reconstruction service's own workers.")
    return _error(403, "this endpoint is only for the reconstruction service's own workers.")


# -- errors as JSON -------------------------------------------------------------------------


async def http_error(request: Request, exc: HTTPException) -> Response:
    messages = {404: "not found", 405: "method not allowed"}
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail else messages.get(exc.status_code, "error")
    return _error(exc.status_code, detail)


async def server_error(request: Request, exc: Exception) -> Response:
    return _error(500, "the server hit an internal error; see its log.")


class RequireToken:
    """With ``--token``, every call but the viewer's script and the OpenAPI document needs it.

    Browsers cannot add headers to an iframe or a link, so ``?token=`` works as well as
    ``Authorization: Bearer``; the viewer page passes it on to the file it loads.
    """

    OPEN_PREFIXES = ("/static/", OPENAPI_PATH)

    def __init__(self, app, token: str):
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS" or scope["path"].startswith(self.OPEN_PREFIXES):
            return await self.app(scope, receive, send)
        request = Request(scope)
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip() or \
            request.query_params.get("token", "")
        if given and hmac.compare_digest(given.encode(), self.token):
            return await self.app(scope, receive, send)
        message = ("this server needs its access token: pass token= to OpenStrate (or set OPENSTRATE_TOKEN), "
                   "or add ?token=... to the link.")
        response = _error(401 if not given else 403, message)
        await response(scope, receive, send)


def create_app(config: ServerConfig) -> Starlette:
    static_dir = Path(str(resources.files("openstrate_nb").joinpath("static")))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        service = Service(config)
        app.state.service = service
        # Off the event loop: connecting to a Dask cluster blocks, and its client runs a loop of its own.
        try:
            await anyio.to_thread.run_sync(service.runner.start)
        except Exception as exc:
            app.state.startup_error = exc  # for LocalServer.start to raise in the caller's thread
            service.store.close()
            raise
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(service.runner.stop)
            service.store.close()

    routes = [
        Route("/", index),
        Route("/api/upload", upload, methods=["POST"]),
        Route("/api/reconstruct", reconstruct, methods=["POST"]),
        Route("/api/reconstruct/status/{job_id}", status),
        Route("/api/reconstruct/cancel/{job_id}", cancel, methods=["POST"]),
        Route("/api/reconstruct/artifacts/{job_id}/{name:path}", artifact),
        *(Route(f"/api/reconstruct/{action}/{{job_id}}", internal, methods=["POST"])
          for action in ("progress", "complete", "session")),
        Route("/api/files/{name}", files),
        Route("/view/{name}", view),
        Route("/api/preview/{name}", preview),
        Route(OPENAPI_PATH, openapi),
        Mount("/static", StaticFiles(directory=static_dir, check_dir=False), name="static"),
    ]
    middleware = [Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])]
    if config.token:
        middleware.append(Middleware(RequireToken, token=config.token))
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                     exception_handlers={HTTPException: http_error, Exception: server_error})
