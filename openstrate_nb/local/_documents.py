"""The JSON documents the API answers with, built from store rows.

Links are stored as ids and made absolute here, against the address the caller used (or
``--public-url``), so one data directory serves any port or host it is started on.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from ._files import VIDEO_EXTS
from ._stage_artifacts import artifact_fields
from .pipeline._progress import STAGE_NAMES, STAGES

__all__ = ["job_document", "upload_document", "iso_time"]


def iso_time(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def upload_document(record: dict[str, Any], base: str, page_query: str = "") -> dict[str, Any]:
    """``page_query`` (``?token=…`` on a server with a token) goes on links meant for browsers."""
    name = f"{record['id']}.{record['ext']}"
    return {
        "id": record["id"],
        "filename": record["filename"],
        "url": f"{base}/api/files/{name}",
        "view": f"{base}/view/{name}{page_query}",
        "preview": f"{base}/api/preview/{name}{page_query}",
        "size": record["size"],
        "sha256": record["sha256"],
        "kind": "video" if record["ext"] in VIDEO_EXTS else "mesh",
    }


def _progress_fields(job: dict[str, Any]) -> dict[str, Any]:
    """The extension that makes progress readable: one overall share that never goes back,
    which step of how many, its label, and the seconds left (counting down between reports)."""
    fields: dict[str, Any] = {}
    if job["status"] == "complete":
        fields.update(progress=1.0, eta_s=0.0)
    elif job.get("progress") is not None:
        fields["progress"] = round(float(job["progress"]), 4)
        if job["status"] == "processing" and job.get("eta_s") is not None:
            since = time.time() - (job["updated_at"] or time.time())
            fields["eta_s"] = round(max(0.0, float(job["eta_s"]) - since), 1)
    if job["stage"] in STAGE_NAMES:
        index = STAGE_NAMES.index(job["stage"])
        fields.update(stage_index=index + 1, stage_count=len(STAGES), stage_label=STAGES[index][1])
    return fields


def job_document(job: dict[str, Any], base: str, page_query: str = "",
                 stages: dict[str, Any] | None = None) -> dict[str, Any]:
    """``stages``: the job's stage artifacts manifest, if it has one (``_stage_artifacts``)."""
    doc: dict[str, Any] = {
        "job_id": job["job_id"],
        "status": job["status"],
        "stage": job["stage"],
        "current_frame": job["current_frame"],
        "total_frames": job["total_frames"],
        "filename": job["filename"],
        "created_at": iso_time(job["created_at"]),
        "updated_at": iso_time(job["updated_at"]),
        "started_at": iso_time(job["started_at"]),
        "finished_at": iso_time(job["finished_at"]),
        "attempts": job["attempts"],
    }
    doc.update(_progress_fields(job))
    if job.get("options"):
        doc["options"] = job["options"]
    if job["source_id"]:
        doc["video_url"] = f"{base}/api/files/{job['source_id']}.{job['source_ext']}"
    elif job["source_url"]:
        doc["video_url"] = job["source_url"]
    if job["status"] == "failed":
        doc["error"] = job["error"] or "the reconstruction failed."
        doc["code"] = job.get("code") or "failed"
    doc.update(artifact_fields(job, stages, base))
    result = job["result"] or {}
    if job["status"] == "complete" and result.get("glb"):
        glb = f"{result['glb']}.glb"
        doc.update(
            view_url=f"{base}/view/{glb}{page_query}",
            mesh_viewer_url=f"{base}/view/{glb}{page_query}",
            glb_asset_url=f"{base}/api/files/{glb}",
            preview_url=f"{base}/api/preview/{glb}{page_query}",
        )
        if result.get("points"):
            doc["points_url"] = f"{base}/api/files/{result['points']}.ply"
        if result.get("cameras"):
            doc["cameras_url"] = f"{base}/api/files/{result['cameras']}.json"
        doc["stats"] = result.get("stats") or {}
        if result.get("provenance"):
            doc["provenance"] = result["provenance"]
    return doc
