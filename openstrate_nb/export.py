"""One HTML file that shows a mesh with no server and no network: viewer and GLB inlined.

``jupyter nbconvert --to html`` cannot do this offline (its widget manager comes from a
CDN), so a result meant for someone without Jupyter is written here instead.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Union

from ._viewer_page import viewer_page

__all__ = ["export_html"]

MeshSource = Union[str, "os.PathLike[str]", bytes, Any]  # a path, GLB bytes, or a trimesh object


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
        out = io.BytesIO()
        source.export(out, file_type="glb")
        return out.getvalue(), "glb", "mesh.glb"
    raise TypeError(f"export_html takes a mesh file path, GLB bytes or a trimesh mesh, not {type(source).__name__}.")


def export_html(mesh_or_glb: MeshSource, path: str | os.PathLike[str], *, title: str | None = None,
                provenance: dict[str, Any] | None = None) -> Path:
    """Write a self-contained viewer page for a mesh to ``path`` and return the path.

    ``provenance`` (e.g. source video, server, job) is listed on the page with the mesh's
    SHA-256 and the export date.
    """
    data, fmt, name = _mesh_bytes(mesh_or_glb)
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"{target.name!r} should end in .html so a browser opens it.")
    details = {**(provenance or {}), "mesh": f"{name} ({len(data) / 1e6:.2f} MB)",
               "mesh sha256": hashlib.sha256(data).hexdigest(),
               "exported": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    options = {"data": base64.b64encode(data).decode("ascii"), "format": fmt, "name": name}
    page = viewer_page(title or name, options, details=details)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target, then renamed: a reader never sees half a page.
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.",
                                     suffix=".part", delete=False) as out:
        out.write(page)
    os.replace(out.name, target)
    return target
