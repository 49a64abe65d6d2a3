"""``OpenStrate`` and ``AsyncOpenStrate``: one client, sync and async twins side by side.

Everything that is not I/O (URLs, error mapping, polling decisions, upload and download
bookkeeping) lives in ``_BaseClient`` or the noun modules, so each twin method is only
the calls and the sleeps.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import time
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterator, NamedTuple, Union
from urllib.parse import urljoin, urlsplit

import anyio
import numpy as np
import httpx

from .._version import __version__
from ._downloads import DownloadProgress, PartialDownload, destination_for
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    CancelNotSupportedError,
    InvalidResponseError,
    NotFoundError,
    PayloadTooLargeError,
    ServerError,
    WorkerUnavailableError,
    error_message_from_body,
)
from ._live import LiveModel, parse_camera_poses, parse_points_ply
from ._models import Job, JobStatus, Upload
from ._polling import TRANSIENT_STATUS_CODES, PollPolicy, WaitState, parse_retry_after
from ._uploads import DEFAULT_MAX_UPLOAD_BYTES, FileSource, MultipartFileBody, UploadProgress, open_upload

__all__ = ["OpenStrate", "AsyncOpenStrate", "DEFAULT_BASE_URL", "DEFAULT_TIMEOUT"]

DEFAULT_BASE_URL = "https://openstrate.com"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = f"openstrate-nb/{__version__} httpx/{httpx.__version__}"

AssetRef = Union[str, Job, Upload]
OnUpdate = Callable[[Job], None]
#: ``on_error(error, unreachable_for)``: a poll the server did not answer, and the seconds since it last did
OnError = Callable[[Exception, float], None]


class Poll(NamedTuple):
    """One poll of :meth:`OpenStrate.watch`: the job (or the transient fault) and the seconds to
    wait before the next poll (None once the job is complete)."""

    job: Job | None
    error: Exception | None
    delay: float | None
    #: seconds since the server last answered (0 while it answers)
    unreachable_for: float

_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    404: NotFoundError,
    413: PayloadTooLargeError,
    503: WorkerUnavailableError,
}


class _BaseClient:
    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
        poll_interval: float | None = None,
        max_retries: int = 5,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        self.base_url = (base_url or os.environ.get("OPENSTRATE_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        if urlsplit(self.base_url).scheme not in ("http", "https"):
            raise ValueError(f"base_url {self.base_url!r} is not an http(s) URL; use e.g. https://openstrate.com.")
        self.timeout = timeout
        self.max_upload_bytes = max_upload_bytes
        self.poll_interval = poll_interval
        self.max_retries = max_retries
        self._headers = {"User-Agent": USER_AGENT, **(headers or {})}
        # The hosted service needs no key; an embedded server started with --token does.
        token = token or os.environ.get("OPENSTRATE_TOKEN")
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._server_id: str | None | bool = False  # False: not asked yet

    # -- URLs -------------------------------------------------------------------------

    def url(self, path_or_url: str) -> str:
        """An absolute URL: relative paths are resolved against the base URL."""
        return urljoin(self.base_url + "/", path_or_url)

    def file_url(self, asset: str, ext: str = "glb") -> str:
        return self.url(f"/api/files/{_asset_name(asset, ext)}")

    def view_url(self, asset: str, ext: str = "glb") -> str:
        return self.url(f"/view/{_asset_name(asset, ext)}")

    def preview_url(self, asset: str, ext: str = "glb") -> str:
        return self.url(f"/api/preview/{_asset_name(asset, ext)}")

    def _download_url(self, ref: AssetRef) -> str:
        if isinstance(ref, Job):
            if not (ref.glb_asset_url or ref.asset):
                raise ValueError(f"Job {ref.job_id} has no result to download yet (status {ref.status}).")
            return ref.glb_asset_url or self.file_url(ref.asset)  # type: ignore[arg-type]
        if isinstance(ref, Upload):
            if not ref.url:
                raise ValueError(f"Upload {ref.id} has no url to download.")
            return ref.url
        if "/" in ref or ref.startswith(("http:", "https:")):
            return self.url(ref)
        return self.file_url(ref)

    # -- responses --------------------------------------------------------------------

    def _policy(self, poll_interval: float | None) -> PollPolicy:
        interval = poll_interval if poll_interval is not None else self.poll_interval
        return PollPolicy.fixed(interval) if interval is not None else PollPolicy()

    @staticmethod
    def _status_error(response: httpx.Response) -> APIStatusError:
        message, body = error_message_from_body(
            response.status_code, response.reason_phrase, response.content, response.headers.get("content-type", "")
        )
        code = response.status_code
        cls = _STATUS_ERRORS.get(code) or (ServerError if code >= 500 else APIStatusError)
        return cls(message, status_code=code, body=body, response=response)

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise self._status_error(response)
        try:
            return response.json()
        except ValueError:
            raise InvalidResponseError(
                f"{response.request.url} answered {response.status_code} with a body that is not JSON; "
                "check that base_url points at an OpenStrate server."
            ) from None

    @staticmethod
    def _parse_server_id(response: httpx.Response) -> str | None:
        """The ``server_id`` of the root document, or None from a server that has none."""
        if response.status_code != 200 or "json" not in response.headers.get("content-type", ""):
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        value = body.get("server_id") if isinstance(body, dict) else None
        return value if isinstance(value, str) and value else None

    def _job(self, response: httpx.Response, job_id: str | None = None) -> Job:
        return Job.from_dict(self._json(response), base_url=self.base_url, job_id=job_id)

    def _upload(self, response: httpx.Response) -> Upload:
        return Upload.from_dict(self._json(response), base_url=self.base_url)

    @contextlib.contextmanager
    def _transport_errors(self) -> Iterator[None]:
        try:
            yield
        except httpx.TimeoutException as exc:
            raise APITimeoutError(f"{self.base_url} did not answer in time ({exc!r}); try again or raise timeout=.") from exc
        except httpx.TransportError as exc:
            raise APIConnectionError(
                f"Could not talk to {self.base_url} ({exc.__class__.__name__}: {exc}); "
                "check the address, or start a local server with `openstrate-nb serve`."
            ) from exc

    def _is_transient(self, exc: Exception) -> bool:
        if isinstance(exc, APIStatusError):
            return exc.status_code in TRANSIENT_STATUS_CODES or exc.status_code == 429
        return isinstance(exc, APIConnectionError)

    @staticmethod
    def _retry_after(response: httpx.Response | None) -> float | None:
        return parse_retry_after(response.headers.get("retry-after")) if response is not None else None

    def _backoff(self, attempt: int) -> float:
        return min(10.0, 0.25 * 2**attempt) * (0.5 + random.random() / 2)


def _incomplete(url: str, part: PartialDownload) -> str:
    return f"The download of {url} stopped at {part.received} of {part.total} bytes after every retry; try again."


def _option_fields(options: dict[str, Any] | None) -> dict[str, str]:
    """The upload's ``options`` form field: JSON, and only when there are options."""
    if not options:
        return {}
    if not isinstance(options, dict):
        raise TypeError('options must be a dict, such as {"marker_size_m": 0.1}.')
    return {"options": json.dumps(options)}


def _reconstruct_payload(video_url: str, filename: str | None, options: dict[str, Any] | None) -> dict[str, Any]:
    _option_fields(options)  # the same check as for an upload
    return {"video_url": video_url, **({"filename": filename} if filename else {}),
            **({"options": options} if options else {})}


def _artifact_targets(job: Job, folder: str | os.PathLike[str]) -> list[tuple[str, Path]]:
    """(URL, file) for each of the job's artifacts, kept inside ``folder`` whatever the names."""
    root = Path(folder)
    if not job.artifacts:
        raise ValueError(f"job {job.job_id} lists no stage artifacts: only the embedded server makes them, "
                         "for jobs it ran with this version (check job.artifacts first).")
    targets = []
    for name, url in job.artifacts.items():
        parts = PurePosixPath(name).parts
        if not parts or PurePosixPath(name).is_absolute() or ".." in parts:
            continue  # a name that would leave the folder is not the server's to choose
        targets.append((url, root.joinpath(*parts)))
    return targets


def _live_model(points_and_colors: tuple[np.ndarray, np.ndarray], poses: np.ndarray, job: Job) -> LiveModel:
    facts = job.extra.get("preview") if isinstance(job.extra.get("preview"), dict) else {}
    stage = facts.get("stage") if isinstance(facts.get("stage"), str) else None
    return LiveModel(*points_and_colors, poses, stage, dict(facts))


def _asset_name(asset: str, ext: str) -> str:
    asset = asset.rsplit("/", 1)[-1]
    return asset if "." in asset else f"{asset}.{ext.lstrip('.')}"


class OpenStrate(_BaseClient):
    """Blocking client for the OpenStrate reconstruction API.

    >>> client = OpenStrate()                      # OPENSTRATE_BASE_URL or https://openstrate.com
    >>> job = client.wait(client.upload("walk.mp4").job_id)
    >>> client.download(job, "walk.glb")
    """

    def __init__(self, base_url: str | None = None, *, transport: httpx.BaseTransport | None = None, **kwargs: Any):
        super().__init__(base_url, **kwargs)
        self._http = httpx.Client(timeout=self.timeout, headers=self._headers, transport=transport, follow_redirects=True)

    def __enter__(self) -> OpenStrate:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def upload(self, file: FileSource, *, filename: str | None = None, on_progress: UploadProgress | None = None,
               options: dict[str, Any] | None = None) -> Upload:
        """Upload a video (which starts a reconstruction) or a mesh, streamed from disk.

        ``options`` (the embedded server's extension) go with the video's job, such as
        ``{"marker_size_m": 0.1}`` for a printed scale marker; sent only when given.
        """
        prepared = open_upload(file, filename, self.max_upload_bytes)
        try:
            body = MultipartFileBody(prepared, on_progress=on_progress, fields=_option_fields(options))
            with self._transport_errors():
                response = self._http.post(self.url("/api/upload"), content=body, headers=body.headers)
            return self._upload(response)
        finally:
            prepared.close()

    def reconstruct(self, video_url: str, *, filename: str | None = None, options: dict[str, Any] | None = None) -> Job:
        """Start a reconstruction of a video the server can fetch (e.g. an upload's ``url``),
        with ``options`` as for :meth:`upload`."""
        payload = _reconstruct_payload(video_url, filename, options)
        with self._transport_errors():
            response = self._http.post(self.url("/api/reconstruct"), json=payload)
        return self._job(response)

    def status(self, job_id: str) -> Job:
        return self._status(job_id)[0]

    def cancel(self, job_id: str) -> Job:
        """Stop a job: it ends ``failed`` with ``code == "cancelled"`` and its worker is gone.

        An extension of the embedded server; elsewhere raises ``CancelNotSupportedError``
        (the job goes on). A job that already ended raises ``APIStatusError`` (409).
        """
        if self.server_id() is None:
            raise CancelNotSupportedError(self.base_url, job_id)
        with self._transport_errors():
            response = self._http.post(self.url(f"/api/reconstruct/cancel/{job_id}"))
        return self._job(response, job_id)

    def server_id(self) -> str | None:
        """The server's lasting identity, or None (the hosted service has none).

        An embedded server keeps its id with its data directory, across restarts and ports;
        the widget's cache of finished jobs is keyed by it. Asked once per client.
        """
        if self._server_id is False:
            with self._transport_errors():
                response = self._http.get(self.url("/"))
            self._server_id = self._parse_server_id(response)
        return self._server_id  # type: ignore[return-value]

    def _status(self, job_id: str) -> tuple[Job, float | None]:
        with self._transport_errors():
            response = self._http.get(self.url(f"/api/reconstruct/status/{job_id}"))
        return self._job(response, job_id), self._retry_after(response)

    def wait(self, job_id: str, *, timeout: float | None = None, poll_interval: float | None = None,
             on_update: OnUpdate | None = None, on_error: OnError | None = None) -> Job:
        """Poll until the job is ``complete`` (returned) or ``failed`` (``JobFailedError``).

        ``on_update(job)`` sees every change; ``on_error(error, unreachable_for)`` every poll
        the server did not answer (retried with backoff), with the seconds since it last did.
        """
        for poll in self.watch(job_id, timeout=timeout, poll_interval=poll_interval, on_update=on_update):
            if poll.delay is None:
                return poll.job  # type: ignore[return-value]
            if poll.error is not None and on_error is not None:
                on_error(poll.error, poll.unreachable_for)
            time.sleep(poll.delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def watch(self, job_id: str, *, timeout: float | None = None, poll_interval: float | None = None,
              on_update: OnUpdate | None = None) -> Iterator[Poll]:
        """The polls of :meth:`wait` for callers that sleep their own way (the widget, which
        must stay interruptible): each answer or transient fault, and how long to wait before
        the next poll; the last one, once complete, has ``delay`` None. Raises as ``wait`` does."""
        state = WaitState(job_id, self._policy(poll_interval), timeout, on_update)
        while True:
            try:
                job, retry_after = self._status(job_id)
            except (APIConnectionError, APIStatusError) as exc:
                if not self._is_transient(exc):
                    raise
                delay = state.after_error(self._retry_after(getattr(exc, "response", None)))
                yield Poll(None, exc, delay, state.unreachable_for)
                continue
            delay = state.after_job(job, retry_after)
            yield Poll(job, None, delay, 0.0)
            if delay is None:
                return

    def download(self, url_or_asset: AssetRef, dest: str | os.PathLike[str] | None = None, *,
                 on_progress: DownloadProgress | None = None) -> Path:
        """Stream a file to ``dest`` atomically, resuming with ``Range`` if the connection drops."""
        url = self._download_url(url_or_asset)
        with PartialDownload(destination_for(url, dest), on_progress) as part:
            for attempt in range(self.max_retries + 1):
                try:
                    with self._transport_errors(), self._http.stream("GET", url, headers=part.request_headers()) as r:
                        if r.status_code >= 400:
                            r.read()
                            raise self._status_error(r)
                        part.start(r.status_code, r.headers)
                        for chunk in r.iter_bytes():
                            part.write(chunk)
                    if part.complete:
                        break
                except (APIConnectionError, APIStatusError) as exc:
                    if not self._is_transient(exc) or attempt == self.max_retries:
                        raise
                time.sleep(self._backoff(attempt))
            else:
                raise APIConnectionError(_incomplete(url, part))
        return part.target


    def live_model(self, job: Job) -> LiveModel | None:
        """The model so far of a running job, where the server offers a live preview
        (``points_url`` while processing: the embedded server); None otherwise."""
        if job.status != JobStatus.PROCESSING or not job.points_url:
            return None
        points = self._get_bytes(job.points_url)
        poses = parse_camera_poses(self._get_bytes(job.cameras_url)) if job.cameras_url else np.zeros((0, 4, 4))
        return _live_model(parse_points_ply(points), poses, job)

    def _get_bytes(self, url: str) -> bytes:
        with self._transport_errors():
            response = self._http.get(url)
        if response.status_code >= 400:
            raise self._status_error(response)
        return response.content

    def download_artifacts(self, job: Job | str, folder: str | os.PathLike[str]) -> Path:
        """Every stage artifact of ``job`` into ``folder`` (names keep their subfolders:
        ``keyframes/…jpg``); returns the folder. For ``openstrate_nb.figures``."""
        job = self.status(job) if isinstance(job, str) else job
        for url, target in _artifact_targets(job, folder):
            target.parent.mkdir(parents=True, exist_ok=True)
            self.download(url, target)
        return Path(folder)


class AsyncOpenStrate(_BaseClient):
    """The ``asyncio``/``trio`` twin of :class:`OpenStrate`, with the same methods."""

    def __init__(self, base_url: str | None = None, *, transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any):
        super().__init__(base_url, **kwargs)
        self._http = httpx.AsyncClient(timeout=self.timeout, headers=self._headers, transport=transport, follow_redirects=True)

    async def __aenter__(self) -> AsyncOpenStrate:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def upload(self, file: FileSource, *, filename: str | None = None,
                     on_progress: UploadProgress | None = None, options: dict[str, Any] | None = None) -> Upload:
        prepared = open_upload(file, filename, self.max_upload_bytes)
        try:
            body = MultipartFileBody(prepared, on_progress=on_progress, fields=_option_fields(options))
            with self._transport_errors():
                response = await self._http.post(self.url("/api/upload"), content=body.aiter_chunks(), headers=body.headers)
            return self._upload(response)
        finally:
            prepared.close()

    async def reconstruct(self, video_url: str, *, filename: str | None = None,
                          options: dict[str, Any] | None = None) -> Job:
        payload = _reconstruct_payload(video_url, filename, options)
        with self._transport_errors():
            response = await self._http.post(self.url("/api/reconstruct"), json=payload)
        return self._job(response)

    async def status(self, job_id: str) -> Job:
        return (await self._status(job_id))[0]

    async def cancel(self, job_id: str) -> Job:
        """Stop a job (see :meth:`OpenStrate.cancel`)."""
        if await self.server_id() is None:
            raise CancelNotSupportedError(self.base_url, job_id)
        with self._transport_errors():
            response = await self._http.post(self.url(f"/api/reconstruct/cancel/{job_id}"))
        return self._job(response, job_id)

    async def server_id(self) -> str | None:
        """The server's lasting identity, or None (see :meth:`OpenStrate.server_id`)."""
        if self._server_id is False:
            with self._transport_errors():
                response = await self._http.get(self.url("/"))
            self._server_id = self._parse_server_id(response)
        return self._server_id  # type: ignore[return-value]

    async def _status(self, job_id: str) -> tuple[Job, float | None]:
        with self._transport_errors():
            response = await self._http.get(self.url(f"/api/reconstruct/status/{job_id}"))
        return self._job(response, job_id), self._retry_after(response)

    async def wait(self, job_id: str, *, timeout: float | None = None, poll_interval: float | None = None,
                   on_update: OnUpdate | None = None, on_error: OnError | None = None) -> Job:
        state = WaitState(job_id, self._policy(poll_interval), timeout, on_update)
        while True:
            try:
                job, retry_after = await self._status(job_id)
            except (APIConnectionError, APIStatusError) as exc:
                if not self._is_transient(exc):
                    raise
                delay = state.after_error(self._retry_after(getattr(exc, "response", None)))
                if on_error is not None:
                    on_error(exc, state.unreachable_for)
            else:
                delay = state.after_job(job, retry_after)
                if delay is None:
                    return job
            await anyio.sleep(delay)

    async def download(self, url_or_asset: AssetRef, dest: str | os.PathLike[str] | None = None, *,
                       on_progress: DownloadProgress | None = None) -> Path:
        url = self._download_url(url_or_asset)
        with PartialDownload(destination_for(url, dest), on_progress) as part:
            for attempt in range(self.max_retries + 1):
                try:
                    with self._transport_errors():
                        async with self._http.stream("GET", url, headers=part.request_headers()) as r:
                            if r.status_code >= 400:
                                await r.aread()
                                raise self._status_error(r)
                            part.start(r.status_code, r.headers)
                            async for chunk in r.aiter_bytes():
                                part.write(chunk)
                    if part.complete:
                        break
                except (APIConnectionError, APIStatusError) as exc:
                    if not self._is_transient(exc) or attempt == self.max_retries:
                        raise
                await anyio.sleep(self._backoff(attempt))
            else:
                raise APIConnectionError(_incomplete(url, part))
        return part.target

    async def live_model(self, job: Job) -> LiveModel | None:
        if job.status != JobStatus.PROCESSING or not job.points_url:
            return None
        points = await self._get_bytes(job.points_url)
        poses = parse_camera_poses(await self._get_bytes(job.cameras_url)) if job.cameras_url else np.zeros((0, 4, 4))
        return _live_model(parse_points_ply(points), poses, job)

    async def _get_bytes(self, url: str) -> bytes:
        with self._transport_errors():
            response = await self._http.get(url)
        if response.status_code >= 400:
            raise self._status_error(response)
        return response.content

    async def download_artifacts(self, job: Job | str, folder: str | os.PathLike[str]) -> Path:
        job = await self.status(job) if isinstance(job, str) else job
        for url, target in _artifact_targets(job, folder):
            target.parent.mkdir(parents=True, exist_ok=True)
            await self.download(url, target)
        return Path(folder)
