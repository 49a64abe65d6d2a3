"""A job's stage artifacts (``pipeline/recorder.py`` writes them) as the API serves them.

While the job runs they are in its scratch folder, where the worker writes them, and the
job document points at the live preview (``points_url``, ``cameras_url``: the model so far,
a new URL for every version, so a client knows to fetch it again). When the job
ends, complete or failed, they move to ``stages/{job_id}`` in the data directory and stay
with the job. Only names the manifest lists are served: a path from a request never reaches
the disk unchecked.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ._files import FileStore
from .pipeline.recorder import MANIFEST, STAGES_DIR

__all__ = ["stage_folder", "read_manifest", "artifact_path", "artifact_fields", "keep_stages"]


def stage_folder(files: FileStore, job: dict[str, Any]) -> Path:
    if job["status"] == "processing":
        return files.job_dir(job["job_id"]) / STAGES_DIR
    return files.root / STAGES_DIR / job["job_id"]


def read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return None  # none yet (or the scratch folder just went, as the job ended)
    return manifest if isinstance(manifest, dict) else None


_LIVE_NAME = re.compile(r"live/(points-\d+\.ply|cameras-\d+\.json)")


def artifact_path(folder: Path, manifest: dict[str, Any] | None, name: str) -> Path | None:
    """The file behind ``name``, if the manifest lists it (or it is a live version still kept)."""
    if manifest is None or not (name in (manifest.get("artifacts") or {}) or _LIVE_NAME.fullmatch(name)):
        return None
    path = (folder / name).resolve()
    return path if path.is_relative_to(folder.resolve()) and path.is_file() else None


def artifact_fields(job: dict[str, Any], manifest: dict[str, Any] | None, base: str) -> dict[str, Any]:
    """What the job document says of the artifacts: ``artifacts`` (name to URL) and, while
    the job runs, the live preview's ``points_url``, ``cameras_url`` and ``preview``."""
    if not manifest:
        return {}
    root = f"{base}/api/reconstruct/artifacts/{job['job_id']}/"
    fields: dict[str, Any] = {"artifacts": {name: root + quote(name) for name in sorted(manifest.get("artifacts") or {})}}
    live = manifest.get("live")
    if job["status"] == "processing" and isinstance(live, dict):
        fields.update(points_url=root + quote(live["points"]), cameras_url=root + quote(live["cameras"]),
                      preview={k: live.get(k) for k in ("version", "point_count", "camera_count", "stage")})
    return fields


def keep_stages(files: FileStore, job_id: str, work_dir: Path) -> None:
    """Move an ended attempt's artifacts out of its scratch folder, to stay with the job."""
    source = work_dir / STAGES_DIR
    if not (source / MANIFEST).is_file():
        return
    target = files.root / STAGES_DIR / job_id
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(source), str(target))
