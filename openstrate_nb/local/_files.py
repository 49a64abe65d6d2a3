"""Files on disk: server-made names, atomic writes, and types decided by content.

A client's file name is kept for display only; on disk every file is
``files/{uuid}.{ext}``. A file first lands in ``tmp/`` and is renamed into place only
once complete, so nothing half-written is ever served.
"""

from __future__ import annotations

import hashlib
import os
import queue
import re
import shutil
import struct
import threading
import uuid
from pathlib import Path

from .._contract import CONTENT_TYPES as CONTRACT_TYPES
from .._contract import MESH_EXTENSIONS, VIDEO_EXTENSIONS

__all__ = [
    "FileStore",
    "IncomingFile",
    "VIDEO_EXTS",
    "MESH_EXTS",
    "SERVED_EXTS",
    "CONTENT_TYPES",
    "sniff",
    "valid_asset",
]

# The contract's extensions without their dot, as the store names files "{id}.{ext}".
VIDEO_EXTS = tuple(ext[1:] for ext in VIDEO_EXTENSIONS)
MESH_EXTS = tuple(ext[1:] for ext in MESH_EXTENSIONS)
SERVED_EXTS = VIDEO_EXTS + MESH_EXTS + ("json", "png")
CONTENT_TYPES = {ext[1:]: media_type for ext, media_type in CONTRACT_TYPES.items()}
SNIFF_BYTES = 4096

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def valid_asset(file_id: str, ext: str) -> bool:
    """Ids are server-made UUIDs and extensions come from a fixed list: checked before any path is built."""
    return bool(_UUID.match(file_id)) and ext in SERVED_EXTS


def sniff(head: bytes, total_size: int | None = None) -> str | None:
    """The container a file's first bytes show: one of VIDEO_EXTS or MESH_EXTS, or None.

    ISO media (MP4 and QuickTime share it) is reported as ``mp4``; Matroska as ``mkv``
    unless its DocType says ``webm``.
    """
    if len(head) >= 12 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm" if b"webm" in head[:64] else "mkv"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head[:4] == b"glTF":
        return "glb"
    if head[:4] == b"ply\n" or head[:5] == b"ply\r\n":
        return "ply"
    if head[:5].lower() == b"solid" and b"facet" in head[:SNIFF_BYTES].lower():
        return "stl"
    if len(head) >= 84 and total_size is not None:
        (count,) = struct.unpack_from("<I", head, 80)
        if count and total_size == 84 + 50 * count:
            return "stl"
    return None


class IncomingFile:
    """A file being written into ``tmp/``; ``commit`` moves it into the store.

    Hashing and disk writes happen on a thread of their own (both release the GIL), so a
    large upload neither blocks the event loop that answers other requests nor waits for
    the disk between network reads. The queue is bounded: a slow disk slows the sender.
    """

    _QUEUE_CHUNKS = 64

    def __init__(self, path: Path):
        self.path = path
        self.size = 0
        self._out = path.open("wb")
        self._hash = hashlib.sha256()
        self._queue: queue.Queue[bytes | None] = queue.Queue(self._QUEUE_CHUNKS)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def write(self, data: bytes | memoryview) -> None:
        if self._error is not None:
            raise self._error
        if self._thread is None:
            self._thread = threading.Thread(target=self._drain, name="openstrate-file-writer", daemon=True)
            self._thread.start()
        self._queue.put(bytes(data))  # a copy: the parser's buffer is reused after this call
        self.size += len(data)

    def _drain(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._hash.update(chunk)
                    self._out.write(chunk)
                except BaseException as exc:  # e.g. a full disk: reported by the next write or close
                    self._error = exc

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def _finish(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if not self._out.closed:
            self._out.close()

    def close(self) -> None:
        # No fsync: the rename makes the file appear whole or not at all, and a stopped or
        # killed server process loses nothing the kernel already holds. An fsync per upload
        # would halve ingest speed to guard only against power loss.
        self._finish()
        if self._error is not None:
            self.path.unlink(missing_ok=True)
            raise OSError(f"the file could not be written to disk: {self._error}") from self._error

    def discard(self) -> None:
        self._finish()
        self.path.unlink(missing_ok=True)


class FileStore:
    def __init__(self, root: Path):
        self.root = root
        self.files_dir = root / "files"
        self.tmp_dir = root / "tmp"
        self.jobs_dir = root / "jobs"
        self.cache_dir = root / "cache"
        for folder in (self.files_dir, self.tmp_dir, self.jobs_dir, self.cache_dir):
            folder.mkdir(parents=True, exist_ok=True)

    def clear_tmp(self) -> None:
        """Left-overs of uploads cut short by a stop; nothing refers to them."""
        for leftover in self.tmp_dir.iterdir():
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)

    def incoming(self) -> IncomingFile:
        return IncomingFile(self.tmp_dir / f"{uuid.uuid4()}.part")

    def path(self, file_id: str, ext: str) -> Path:
        if not valid_asset(file_id, ext):
            raise ValueError(f"not an asset name: {file_id!r}.{ext!r}")
        return self.files_dir / f"{file_id}.{ext}"

    def commit(self, incoming: IncomingFile, ext: str) -> str:
        incoming.close()
        file_id = str(uuid.uuid4())
        os.replace(incoming.path, self.path(file_id, ext))
        return file_id

    def add_copy(self, source: Path, ext: str) -> tuple[str, int, str]:
        """Copy a worker's artifact into the store; returns (id, size, sha256)."""
        incoming = self.incoming()
        try:
            with source.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    incoming.write(block)
            file_id = self.commit(incoming, ext)
        except BaseException:
            incoming.discard()
            raise
        return file_id, incoming.size, incoming.sha256

    def job_dir(self, job_id: str) -> Path:
        if not _UUID.match(job_id):
            raise ValueError(f"not a job id: {job_id!r}")
        return self.jobs_dir / job_id
