"""``POST /api/upload`` bodies parsed as a stream, straight to disk.

Starlette's ``request.form()`` would spool the whole file before we could look at it;
here the cap is enforced while the bytes arrive (413 the moment it is crossed, partial
file removed) and the type is decided from the first bytes, not the name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import AsyncIterator

from python_multipart.multipart import MultipartParser, parse_options_header

from .._contract import size_text
from ._files import MESH_EXTS, SNIFF_BYTES, VIDEO_EXTS, FileStore, IncomingFile, sniff
from ._job_options import MAX_OPTIONS_BYTES

__all__ = ["UploadRejected", "ReceivedFile", "receive_upload"]

ALLOWED = " ".join(f".{e}" for e in VIDEO_EXTS + MESH_EXTS)


class UploadRejected(Exception):
    def __init__(self, status_code: int, message: str):
        super().__init__(message)
        self.status_code = status_code
        self.message = message


@dataclass
class ReceivedFile:
    incoming: IncomingFile
    filename: str
    ext: str  # decided by content
    #: the ``options`` form field, as sent (checked by the caller)
    options: str | None = None

    @property
    def kind(self) -> str:
        return "video" if self.ext in VIDEO_EXTS else "mesh"


def display_name(raw: str) -> str:
    """The last path component of a client's file name, for display only."""
    name = PureWindowsPath(PurePosixPath(raw).name).name.strip()
    return "".join(ch for ch in name if ch.isprintable())[:255] or "upload"


class _FilePart:
    """Collects the ``file`` field of the multipart body, and the small ``options`` field;
    other fields are ignored."""

    def __init__(self, store: FileStore, max_bytes: int):
        self.store = store
        self.max_bytes = max_bytes
        self.headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""
        self.in_file = False
        self.name_ext = ""
        self.filename = ""
        self.head = b""
        self.incoming: IncomingFile | None = None
        self.files_seen = 0
        self.error: UploadRejected | None = None
        self.in_options = False
        self.options: bytes | None = None

    # python-multipart callbacks -------------------------------------------------------

    def on_part_begin(self) -> None:
        self.headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self._field.strip().lower()] = self._value.strip()
        self._field = self._value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.in_file = options.get(b"name") == b"file" and self.files_seen == 0
        self.in_options = options.get(b"name") == b"options"
        if self.in_options:
            self.options = b""
        if not self.in_file:
            return
        self.files_seen += 1
        self.filename = display_name(options.get(b"filename", b"").decode("utf-8", "replace"))
        self.name_ext = PurePosixPath(self.filename).suffix.lower().lstrip(".")
        if self.name_ext not in VIDEO_EXTS + MESH_EXTS:
            self.fail(400, f"{self.filename!r} is not an allowed type; send one of {ALLOWED}.")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.in_options and self.options is not None and not self.error:
            self.options += data[start:end]
            if len(self.options) > MAX_OPTIONS_BYTES:
                self.fail(400, f"the options field is over {MAX_OPTIONS_BYTES} bytes; send only the options you need.")
            return
        if not self.in_file or self.error:
            return
        chunk = memoryview(data)[start:end]
        if self.incoming is None:
            self.head += bytes(chunk)
            if len(self.head) < SNIFF_BYTES:
                return
            self._start_file()
            return
        if self.incoming is not None and not self.error:
            self._write(chunk)

    def on_part_end(self) -> None:
        if self.in_file and self.incoming is None and not self.error:
            self._start_file()
        self.in_file = False

    # -----------------------------------------------------------------------------------

    def _start_file(self) -> None:
        if not self.head:
            self.fail(400, f"{self.filename!r} is empty; choose a video file with content.")
            return
        # Refuse a wrong type from its first bytes, before the rest is read; only a binary
        # STL needs the total size to be recognised.
        if self.name_ext != "stl" and not _matches_name(sniff(self.head), self.name_ext):
            self.fail(400, _not_what_it_says(self.filename, self.name_ext))
            return
        self.incoming = self.store.incoming()
        self._write(self.head)

    def _write(self, chunk: bytes | memoryview) -> None:
        assert self.incoming is not None
        if self.incoming.size + len(chunk) > self.max_bytes:
            self.fail(413, f"the file is over this server's {size_text(self.max_bytes)} upload cap; "
                           "trim or re-encode the video (or start the server with a larger --max-upload-mb).")
            return
        self.incoming.write(chunk)

    def fail(self, status: int, message: str) -> None:
        self.error = UploadRejected(status, message)
        if self.incoming is not None:
            self.incoming.discard()


async def receive_upload(content_type: str, body: AsyncIterator[bytes], store: FileStore, max_bytes: int) -> ReceivedFile:
    """Read a multipart body into the store's ``tmp/``; raise ``UploadRejected`` for bad input."""
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UploadRejected(400, "send the video as multipart/form-data with one field named 'file'.")
    part = _FilePart(store, max_bytes)
    parser = MultipartParser(boundary, {
        name: getattr(part, name)
        for name in ("on_part_begin", "on_part_data", "on_part_end", "on_header_field", "on_header_value",
                     "on_header_end", "on_headers_finished")
    })
    try:
        async for chunk in body:
            parser.write(chunk)
            if part.error:
                raise part.error
        parser.finalize()
    except UploadRejected:
        raise
    except Exception as exc:  # a malformed body (python-multipart raises its own errors)
        part.fail(400, f"the multipart body could not be parsed ({exc}); send one field named 'file'.")
    except BaseException:  # the client went away mid-upload
        part.fail(400, "the upload was cut short.")
        raise
    if part.error:
        raise part.error
    if part.incoming is None:
        raise UploadRejected(400, "no file was sent; put the video in a multipart field named 'file'.")
    return _checked(part)


def _matches_name(ext: str | None, name_ext: str) -> bool:
    """A video named as any video type, a mesh only as a mesh (a .ply is not a .glb)."""
    if ext is None:
        return False
    return (name_ext in VIDEO_EXTS) if ext in VIDEO_EXTS else ext == name_ext


def _not_what_it_says(filename: str, name_ext: str) -> str:
    what = "a video" if name_ext in VIDEO_EXTS else f"a .{name_ext} mesh"
    return f"{filename!r} is not {what} inside; check that the file is not damaged or renamed."


def _checked(part: _FilePart) -> ReceivedFile:
    assert part.incoming is not None
    ext = sniff(part.head[:SNIFF_BYTES], part.incoming.size)
    if not _matches_name(ext, part.name_ext):
        part.incoming.discard()
        raise UploadRejected(400, _not_what_it_says(part.filename, part.name_ext))
    assert ext is not None
    if ext == "mp4" and part.name_ext == "mov":
        ext = "mov"  # QuickTime and MP4 share a container; keep the user's choice of the two
    part.incoming.close()
    options = part.options.decode("utf-8", "replace") if part.options is not None else None
    return ReceivedFile(part.incoming, part.filename, ext, options)
