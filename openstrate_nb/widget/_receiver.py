"""The kernel's end of the picker upload: chunks from the browser into a temp file.

A default Jupyter server silently drops any browser-to-kernel message over 10 MiB, so the
browser sends the file as binary buffers of at most 8 MiB, each answered with an ack (the
browser keeps only a few in flight). Each chunk is written and forgotten, so a 500 MB video
costs the kernel one chunk of memory; its SHA-256 is computed on the way in, which is what
the result cache is keyed by.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .._contract import size_text
from ..api import VIDEO_EXTENSIONS

__all__ = ["MAX_CHUNK_BYTES", "ChunkReceiver", "ReceivedFile", "UploadRefused"]

#: The browser's chunk size; well under tornado's 10 MiB websocket message limit.
MAX_CHUNK_BYTES = 8 * 1024 * 1024


class UploadRefused(ValueError):
    """The browser's file or chunk was refused; the message is shown to the user as is."""


@dataclass
class ReceivedFile:
    """A complete file on the kernel's disk, ready to be streamed to the API."""

    path: Path
    filename: str
    size: int
    sha256: str

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass
class ChunkReceiver:
    """One file arriving from the browser, chunk by chunk, in order."""

    upload_id: str
    filename: str
    size: int
    directory: Path | None = None
    received: int = 0
    _path: Path | None = field(default=None, repr=False)
    _fh: object | None = field(default=None, repr=False)
    _digest: object = field(default_factory=hashlib.sha256, repr=False)

    @classmethod
    def open(cls, upload_id: str, filename: str, size: int, *, max_bytes: int | None = None,
             directory: Path | None = None) -> ChunkReceiver:
        """Check the file before a byte arrives, then open its temp file."""
        name = Path(str(filename)).name
        ext = Path(name).suffix.lower()
        if ext not in VIDEO_EXTENSIONS:
            raise UploadRefused(f"{name!r} is not a video this service reconstructs; pick a {' '.join(VIDEO_EXTENSIONS)} file.")
        if not isinstance(size, int) or size <= 0:
            raise UploadRefused(f"{name!r} is empty; pick the video again.")
        if max_bytes is not None and size > max_bytes:
            # Refuse now: sending 500 MB to the kernel only to have the server refuse it wastes minutes.
            raise UploadRefused(
                f"{name!r} is {size_text(size)}, over the server's {size_text(max_bytes)} upload cap; "
                "trim or re-encode the video."
            )
        receiver = cls(upload_id=upload_id, filename=name, size=size, directory=directory)
        fd, tmp = tempfile.mkstemp(prefix="openstrate-upload-", suffix=ext, dir=directory)
        receiver._path = Path(tmp)
        receiver._fh = os.fdopen(fd, "wb")
        return receiver

    @property
    def path(self) -> Path | None:
        return self._path

    def write(self, offset: int, data: memoryview | bytes) -> int:
        """Append one chunk; ``offset`` must be where the previous one ended. Returns bytes so far."""
        if self._fh is None:
            raise UploadRefused("This upload was already closed; pick the video again.")
        if offset != self.received:
            raise UploadRefused(f"A chunk arrived out of order (at byte {offset}, expected {self.received}); pick the video again.")
        if len(data) > MAX_CHUNK_BYTES:
            raise UploadRefused("A chunk was larger than 8 MiB; reload the page so the widget's front end matches the kernel.")
        if self.received + len(data) > self.size:
            raise UploadRefused(f"More bytes arrived than the {self.size} announced; pick the video again.")
        self._fh.write(data)  # type: ignore[attr-defined]
        self._digest.update(data)  # type: ignore[attr-defined]
        self.received += len(data)
        return self.received

    def finish(self) -> ReceivedFile:
        """Close the file after checking that every announced byte arrived."""
        if self._fh is None or self._path is None:
            raise UploadRefused("This upload was already closed; pick the video again.")
        self._fh.close()  # type: ignore[attr-defined]
        self._fh = None
        on_disk = self._path.stat().st_size
        if self.received != self.size or on_disk != self.size:
            self._path.unlink(missing_ok=True)
            raise UploadRefused(
                f"Only {self.received} of {self.size} bytes of {self.filename!r} reached the kernel; pick the video again."
            )
        return ReceivedFile(self._path, self.filename, self.size, self._digest.hexdigest())  # type: ignore[attr-defined]

    def abort(self) -> None:
        """Stop and delete the temp file (Cancel, an error, or the widget closing)."""
        if self._fh is not None:
            self._fh.close()  # type: ignore[attr-defined]
            self._fh = None
        if self._path is not None:
            self._path.unlink(missing_ok=True)
