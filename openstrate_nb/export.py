"""One HTML file that shows a mesh with no server and no network: viewer and GLB inlined.

``jupyter nbconvert --to html`` cannot do this offline (its widget manager comes from a
CDN), so a result meant for someone without Jupyter is written here instead. The page lists
where the mesh came from (video and its SHA-256, server, job, dates), how it was made (the
provenance the pipeline wrote into the GLB: versions, options, platform, wall time per stage)
and what it is (the numbers of :func:`openstrate_nb.mesh_summary`), so a file found later
still explains itself.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Union

from ._atomic import write_atomic
from ._contract import size_text
from ._provenance import provenance
from ._viewer_page import viewer_page

__all__ = ["export_html", "widget_provenance"]

# A path, GLB bytes, a trimesh object, or a finished ReconstructWidget.
MeshSource = Union[str, "os.PathLike[str]", bytes, Any]

def _is_widget(source: Any) -> bool:
    # Duck-typed so this module never imports the widget stack.
    return hasattr(source, "mesh_path") and hasattr(source, "job") and hasattr(source, "client")


def _mesh_bytes(source: MeshSource) -> tuple[bytes, str, str]:
    """``(data, format, name)`` of a path, GLB bytes or a trimesh Trimesh/Scene."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "glb", "mesh.glb"
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in ("glb", "ply", "stl"):
            raise ValueError(f"{path.name!r} is not a mesh the viewer reads; give a .glb, .ply or .stl file.")
        if not path.is_file():
            raise FileNotFoundError(f"No such mesh file: {path}")
        return path.read_bytes(), fmt, path.name
    if hasattr(source, "export"):
        import trimesh

        from .mesh import glb_of

        if isinstance(source, trimesh.Trimesh):  # unlit, its texture and its camera, as results are
            return glb_of(source), "glb", "mesh.glb"
        out = io.BytesIO()
        source.export(out, file_type="glb")
        return out.getvalue(), "glb", "mesh.glb"
    raise TypeError("export_html takes a mesh file path, GLB bytes, a trimesh mesh or a finished ReconstructWidget, "
                    f"not {type(source).__name__}.")


def widget_provenance(widget: Any) -> dict[str, Any]:
    """Where a widget's result came from: video, its SHA-256, server, job and when it finished."""
    job = widget.job
    extra = getattr(job, "extra", {}) or {}
    details: dict[str, Any] = {
        "source video": getattr(widget, "filename", "") or extra.get("filename"),
        "video sha256": getattr(widget, "video_sha256", None),
        "video url": getattr(widget, "video_url", None),
        "server": widget.client.base_url,
        "job": getattr(job, "job_id", None) or getattr(widget, "job_id", None),
        "reconstructed": extra.get("finished_at"),
    }
    seconds = (extra.get("provenance") or {}).get("seconds")
    if isinstance(seconds, dict) and seconds:
        details["seconds per stage"] = ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()
                                                 if isinstance(v, (int, float)) and not k.startswith("sfm_"))
    return {k: v for k, v in details.items() if v}


def _recorded_rows(data: bytes, fmt: str) -> dict[str, Any]:
    """How the mesh was made, from the provenance the pipeline wrote into the GLB (if it did)."""
    if fmt != "glb":
        return {}
    try:
        record = provenance(data)
    except ValueError:
        return {}
    video = record.get("video") or {}
    versions = record.get("versions") or {}
    return {
        "source video": video.get("name"),
        "video sha256": video.get("sha256"),
        "made with": ", ".join(f"{k} {v}" for k, v in versions.items()),
        "options": ", ".join(f"{k}={v}" for k, v in (record.get("options") or {}).items()),
        "deterministic": "yes: the same video and version give this file bit for bit (openstrate-nb verify)"
                         if record.get("deterministic") else "no (made without a seed)",
        "platform": record.get("platform"),
        "geometry sha256": record.get("geometry_sha256"),
    }


def _summary_rows(data: bytes, fmt: str) -> dict[str, Any]:
    """The mesh's numbers for the page; nothing when trimesh cannot read it."""
    try:
        import trimesh

        from .mesh import load_glb, mesh_summary

        mesh = load_glb(data) if fmt == "glb" else trimesh.load(io.BytesIO(data), file_type=fmt, force="mesh")
        summary = mesh_summary(mesh)
    except Exception:  # a page without numbers beats no page
        return {}
    extents = " × ".join(f"{v:.3g}" for v in summary["extents"])
    rows = {
        "vertices": f"{summary['vertices']:,}",
        "faces": f"{summary['faces']:,}",
        "extents (x × y × z)": f"{extents} (reconstruction units)",
        "surface area": f"{summary['surface_area']:.4g}",
        "watertight": "yes" if summary["watertight"] else "no (an open surface: no volume)",
    }
    if summary["volume"] is not None:
        rows["volume"] = f"{summary['volume']:.4g}"
    return rows


def export_html(mesh_or_glb: MeshSource, path: str | os.PathLike[str], *, title: str | None = None,
                provenance: dict[str, Any] | None = None) -> Path:
    """Write a self-contained viewer page for a mesh to ``path`` and return the path.

    ``mesh_or_glb`` is a mesh file (.glb, .ply, .stl), GLB bytes, a trimesh mesh, or a
    finished ``ReconstructWidget`` (its full-resolution GLB, with the video, its SHA-256, the
    server and the job filled in). ``provenance`` adds or overrides rows; the mesh's summary,
    SHA-256 and the export date are always listed.
    """
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"{target.name!r} should end in .html so a browser opens it.")
    found: dict[str, Any] = {}
    if _is_widget(mesh_or_glb):
        widget = mesh_or_glb
        if widget.mesh_path is None or not Path(widget.mesh_path).is_file():
            raise RuntimeError("This widget has no mesh yet: wait() for the reconstruction to complete, then export.")
        found = widget_provenance(widget)
        title = title or str(found.get("source video") or "Reconstruction")
        data, fmt, name = _mesh_bytes(widget.mesh_path)
        if found.get("source video"):  # the viewer shows this name; the asset id means nothing to a reader
            name = f"{Path(str(found['source video'])).stem}.{fmt}"
    else:
        data, fmt, name = _mesh_bytes(mesh_or_glb)
    details = {
        **_recorded_rows(data, fmt),
        **found,
        **(provenance or {}),
        **_summary_rows(data, fmt),
        "mesh file": f"{name} ({size_text(len(data))})",
        "mesh sha256": hashlib.sha256(data).hexdigest(),
        "exported": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    options = {"data": base64.b64encode(data).decode("ascii"), "format": fmt, "name": name}
    page = viewer_page(title or name, options, details={k: v for k, v in details.items() if v not in (None, "")})
    return write_atomic(target, page)
