"""Content-addressed cache of reconstruction jobs and their downloaded meshes.

Running a notebook again with the same video should attach to the job that already
finished, not upload and reconstruct again. Jobs are keyed by the video's SHA-256 (or, for a
video given by URL, by the URL) together with the server's base URL, because a job id means
nothing on another server. A server is named by its lasting id when it has one (the embedded
server's ``server_id`` stays with its data directory, whatever port ``%openstrate serve``
picks), else by its base URL (:func:`server_identity`). Downloaded GLBs are keyed by server
and asset id, so a result is fetched once whichever way the widget reached it (a path, a URL
or a job id).

Layout under :func:`cache_dir`::

    jobs/<server key>/<video key>.json     {"job_id", "base_url", "upload_url", "filename", ...}
    meshes/<server key>/<asset>.glb

Every write goes to a temporary file in the same directory and is renamed over the target,
so a notebook killed halfway never leaves a half-written record or mesh behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from ._atomic import write_atomic

__all__ = [
    "cache_dir",
    "file_sha256",
    "url_key",
    "server_key",
    "server_identity",
    "lookup_job",
    "record_job",
    "forget_job",
    "mesh_path",
    "write_atomic",
]

_READ_SIZE = 1024 * 1024


def cache_dir() -> Path:
    """``$OPENSTRATE_NB_CACHE`` if set, else the platform's user cache directory."""
    configured = os.environ.get("OPENSTRATE_NB_CACHE")
    if configured:
        return Path(configured).expanduser()
    import platformdirs  # only when the cache is first used: keeps `import openstrate_nb` light

    return Path(platformdirs.user_cache_dir("openstrate_nb", appauthor=False))


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file, read in 1 MiB pieces so a 500 MB video costs no memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_READ_SIZE), b""):
            digest.update(block)
    return digest.hexdigest()


def url_key(video_url: str) -> str:
    """The cache key of a video known only by its URL (its bytes are never seen here)."""
    return hashlib.sha256(f"url:{video_url}".encode()).hexdigest()


def server_identity(base_url: str, server_id: str | None) -> str:
    """What names a server in this cache: its lasting id if it has one, else its base URL."""
    return f"server-id:{server_id}" if server_id else base_url.rstrip("/")


def server_key(server: str) -> str:
    """The directory name of a server (a base URL or a :func:`server_identity`)."""
    return hashlib.sha256(server.rstrip("/").encode()).hexdigest()[:16]


def _job_record_path(video_key: str, server: str, root: Path | None) -> Path:
    return (root or cache_dir()) / "jobs" / server_key(server) / f"{video_key}.json"


def lookup_job(video_key: str, server: str, *, root: Path | None = None) -> dict[str, Any] | None:
    """The record of the job this video started on this server, or None."""
    path = _job_record_path(video_key, server, root)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        # A missing or unreadable record is a cache miss, never an error in the notebook.
        return None
    return record if isinstance(record, dict) and record.get("job_id") else None


def record_job(video_key: str, server: str, job_id: str, *, root: Path | None = None, **details: Any) -> Path:
    """Remember that this video on this server is job ``job_id`` (``details``: upload_url, filename, ...)."""
    record = {"job_id": job_id, "server": server.rstrip("/"), "video_key": video_key,
              "recorded_at": time.time(), **{k: v for k, v in details.items() if v is not None}}
    path = _job_record_path(video_key, server, root)
    write_atomic(path, json.dumps(record, indent=2).encode())
    return path


def forget_job(video_key: str, server: str, *, root: Path | None = None) -> None:
    _job_record_path(video_key, server, root).unlink(missing_ok=True)


def mesh_path(server: str, asset: str, *, root: Path | None = None) -> Path:
    """Where the GLB ``asset`` (``{id}.glb``) from this server lives once downloaded."""
    name = Path(asset).name  # an asset id from a server never chooses a directory
    if "." not in name:
        name += ".glb"
    return (root or cache_dir()) / "meshes" / server_key(server) / name
