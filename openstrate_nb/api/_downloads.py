"""Download bookkeeping shared by both client twins: where the bytes go, resuming, renaming.

A download is written to a hidden ``.part`` file beside the destination and renamed
over it only when complete, so a reader never sees half a mesh. When the connection
drops and the server said ``Accept-Ranges: bytes``, the next try asks for the rest
with a ``Range`` header instead of starting over.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import IO, Callable, Mapping
from urllib.parse import unquote, urlsplit

from ._exceptions import InvalidResponseError

__all__ = ["DownloadProgress", "PartialDownload", "destination_for"]

#: ``on_progress(bytes_received, bytes_total_or_None)``
DownloadProgress = Callable[[int, "int | None"], None]

_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.I)


def destination_for(url: str, dest: str | os.PathLike[str] | None) -> Path:
    """The file a download of ``url`` ends in: ``dest`` itself, or the URL's name inside it."""
    name = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]) or "download.bin"
    name = Path(name).name  # a URL never chooses a directory
    if dest is None:
        return Path.cwd() / name
    path = Path(dest)
    if path.is_dir() or str(dest).endswith(("/", os.sep)):
        return path / name
    return path


class PartialDownload:
    """The state of one download across retries; the twins only move bytes."""

    def __init__(self, target: Path, on_progress: DownloadProgress | None = None):
        self.target = target
        self.part = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
        self.received = 0
        self.total: int | None = None
        self.resumable = False
        self._on_progress = on_progress
        self._file: IO[bytes] | None = None

    def __enter__(self) -> PartialDownload:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.part.open("wb")
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self._file is not None
        self._file.close()
        if exc_type is None:
            os.replace(self.part, self.target)
        else:
            self.part.unlink(missing_ok=True)

    def request_headers(self) -> dict[str, str]:
        return {"Range": f"bytes={self.received}-"} if self.received and self.resumable else {}

    def start(self, status_code: int, headers: Mapping[str, str]) -> None:
        """Take a 200 or 206 response's headers and position the part file for its body."""
        assert self._file is not None
        if status_code == 206:
            match = _CONTENT_RANGE.match(headers.get("content-range", ""))
            if not match or int(match.group(1)) != self.received:
                raise InvalidResponseError("The server resumed the download at the wrong place; try again.")
            self.total = None if match.group(3) == "*" else int(match.group(3))
        else:
            # A full body: start over, whatever was received before.
            self.received = 0
            self._file.seek(0)
            self._file.truncate()
            length = headers.get("content-length")
            self.total = int(length) if length and length.isdigit() else None
            self.resumable = headers.get("accept-ranges", "").lower() == "bytes"
        self._report()

    def write(self, chunk: bytes) -> None:
        assert self._file is not None
        self._file.write(chunk)
        self.received += len(chunk)
        self._report()

    @property
    def complete(self) -> bool:
        return self.total is None or self.received >= self.total

    def _report(self) -> None:
        if self._on_progress is not None:
            self._on_progress(self.received, self.total)
