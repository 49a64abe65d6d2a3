"""Getting a video to the server: an upload with its bar, or a URL the server fetches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..api import OpenStrate
from ._bars import ProgressBar

__all__ = ["start_job"]


def _print(message: str = "") -> None:
    print(message, flush=True)


def start_job(client: OpenStrate, source: str, options: dict[str, Any] | None = None) -> str:
    """Upload (or name) a video, with an upload bar; the id of the job it started."""
    if source.startswith(("http://", "https://")):
        return client.reconstruct(source, options=options).job_id
    bar = ProgressBar(f"upload {Path(source).name}")
    try:
        upload = client.upload(source, on_progress=bar.bytes, options=options)
    finally:
        bar.close()
    if upload.job_id:
        return upload.job_id
    reason = upload.reconstruction_error or "the server did not start a job"
    _print(f"uploaded, but no reconstruction started ({reason}); retrying with the upload's URL")
    upload_url = upload.url or client.file_url(f"{upload.id}.{Path(source).suffix.lstrip('.')}")
    return client.reconstruct(upload_url, options=options).job_id
