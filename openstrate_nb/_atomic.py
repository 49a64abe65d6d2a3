"""Writing a file so that a reader sees the old one or the new one, never half of either.

The one atomic-write rule of the package (the cache's records, exported pages); downloads
keep their own ``.part`` file because it must survive to resume.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

__all__ = ["write_atomic"]


def write_atomic(path: str | os.PathLike[str], data: bytes | str, *, durable: bool = True) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` through a temp file beside it and a rename.

    ``durable=False`` skips the fsync: readers still never see half a file, but a power cut
    may lose it (fine for scratch files a job rewrites many times a second)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    part = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        # os.open with 0o666 (not mkstemp's 0o600): the file gets the user's umask like any other.
        with os.fdopen(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb") as fh:
            fh.write(payload)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return path
