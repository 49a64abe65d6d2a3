"""Upload preparation: what may be sent, and a multipart body streamed from disk.

httpx can stream a multipart file itself, but it reports no progress and its async
iteration reads the file on the event loop; this small body does both right and keeps
memory flat whatever the file's size.
"""

from __future__ import annotations

import mimetypes
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, AsyncIterator, Callable, Iterator, Union

import anyio

from .._contract import CONTENT_TYPES, MAX_UPLOAD_BYTES, MESH_EXTENSIONS, VIDEO_EXTENSIONS, size_text
from ._exceptions import FileTooLargeError, MissingFileError, UnsupportedFileError

__all__ = [
    "VIDEO_EXTENSIONS",
    "MESH_EXTENSIONS",
    "ALLOWED_EXTENSIONS",
    "DEFAULT_MAX_UPLOAD_BYTES",
    "FileSource",
    "UploadProgress",
    "MultipartFileBody",
    "open_upload",
]

ALLOWED_EXTENSIONS = VIDEO_EXTENSIONS + MESH_EXTENSIONS
DEFAULT_MAX_UPLOAD_BYTES = MAX_UPLOAD_BYTES
CHUNK_SIZE = 1024 * 1024

FileSource = Union[str, "os.PathLike[str]", IO[bytes]]
#: ``on_progress(bytes_sent, bytes_total)``
UploadProgress = Callable[[int, int], None]

def content_type_for(filename: str) -> str:
    ext = Path(filename).suffix.lower()
    if ext in CONTENT_TYPES:
        return CONTENT_TYPES[ext]
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


@dataclass
class PreparedUpload:
    fileobj: IO[bytes]
    filename: str
    size: int
    owns_file: bool

    def close(self) -> None:
        if self.owns_file:
            self.fileobj.close()


def open_upload(source: FileSource, filename: str | None, max_bytes: int) -> PreparedUpload:
    """Check type and size before a byte is sent, and open the file if given a path."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = filename or path.name
        _check_extension(name)
        if not path.is_file():
            raise MissingFileError(f"No such file: {path}; check the path (relative paths start at {Path.cwd()}).")
        size = path.stat().st_size
        _check_size(name, size, max_bytes)
        return PreparedUpload(path.open("rb"), name, size, owns_file=True)
    name = filename or Path(getattr(source, "name", "") or "").name
    if not name:
        raise UnsupportedFileError("This file object has no name; pass filename='walk.mp4' so its type is known.")
    _check_extension(name)
    start = source.tell()
    size = source.seek(0, os.SEEK_END) - start
    source.seek(start)
    _check_size(name, size, max_bytes)
    return PreparedUpload(source, name, size, owns_file=False)


def _check_extension(name: str) -> None:
    ext = Path(name).suffix.lower()
    if ext not in ALLOWED_EXTENSIONS:
        raise UnsupportedFileError(
            f"{name!r} is not a type the service accepts; use a video ({' '.join(VIDEO_EXTENSIONS)}) "
            f"or a mesh ({' '.join(MESH_EXTENSIONS)})."
        )


def _check_size(name: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise FileTooLargeError(
            f"{name!r} is {size_text(size)}, over the {size_text(max_bytes)} upload cap; "
            "trim or re-encode the video, or raise max_upload_bytes if your server allows more."
        )


class MultipartFileBody:
    """A ``multipart/form-data`` body with one file field, read from disk chunk by chunk."""

    def __init__(self, upload: PreparedUpload, field: str = "file", on_progress: UploadProgress | None = None,
                 fields: dict[str, str] | None = None):
        self._upload = upload
        self._on_progress = on_progress
        self.boundary = uuid.uuid4().hex
        quoted = upload.filename.replace("\\", "\\\\").replace('"', "%22").replace("\r", "").replace("\n", "")
        # Small text fields (``options``) go before the file, so they cost nothing to stream.
        texts = "".join(f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                        for name, value in (fields or {}).items())
        self._head = (
            texts +
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{field}"; filename="{quoted}"\r\n'
            f"Content-Type: {content_type_for(upload.filename)}\r\n\r\n"
        ).encode()
        self._tail = f"\r\n--{self.boundary}--\r\n".encode()
        self._start = upload.fileobj.tell()

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Content-Type": f"multipart/form-data; boundary={self.boundary}",
            "Content-Length": str(len(self._head) + self._upload.size + len(self._tail)),
        }

    def _report(self, sent: int) -> None:
        if self._on_progress is not None:
            self._on_progress(sent, self._upload.size)

    def _rewind(self) -> None:
        # httpx may iterate a body twice (a redirect); every pass must send the same bytes.
        self._upload.fileobj.seek(self._start)

    def __iter__(self) -> Iterator[bytes]:
        self._rewind()
        yield self._head
        sent = 0
        self._report(0)
        while sent < self._upload.size:
            chunk = self._upload.fileobj.read(min(CHUNK_SIZE, self._upload.size - sent))
            if not chunk:
                raise OSError(f"{self._upload.filename!r} shrank while it was being uploaded.")
            sent += len(chunk)
            yield chunk
            self._report(sent)
        yield self._tail

    async def aiter_chunks(self) -> AsyncIterator[bytes]:
        """The same bytes for an async client (httpx takes any iterable as a sync body)."""
        self._rewind()
        yield self._head
        sent = 0
        self._report(0)
        read = self._upload.fileobj.read
        while sent < self._upload.size:
            chunk = await anyio.to_thread.run_sync(read, min(CHUNK_SIZE, self._upload.size - sent))
            if not chunk:
                raise OSError(f"{self._upload.filename!r} shrank while it was being uploaded.")
            sent += len(chunk)
            yield chunk
            self._report(sent)
        yield self._tail
