"""Real-world size: a mesh from video has no scale until something of known size gives it one.

One known length (two points on the mesh and the metres between them) scales any result,
from any server::

    mesh = scale_mesh(w.mesh, a, b, 0.75)     # the table is 75 cm wide
    mesh_scale(mesh)                           # {"units": "m", "factor": ..., "method": "known length", ...}
    mesh_summary(mesh)                         # extents, area (and volume) now in metres

A result the embedded pipeline scaled by a printed marker says so in its provenance record
(``scale``); ``mesh_scale`` reads either.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import trimesh

from ._camera import FILMED_FROM_KEY
from ._provenance import PROVENANCE_KEY

__all__ = ["SCALE_KEY", "scale_mesh", "mesh_scale", "distance"]

#: where a scale given in Python is kept in ``mesh.metadata``
SCALE_KEY = "openstrate_nb_scale"
UNKNOWN = {"units": "unknown"}


def _point(value: Any, name: str) -> np.ndarray:
    point = np.asarray(value, dtype=float)
    if point.shape != (3,) or not np.all(np.isfinite(point)):
        raise ValueError(f"{name} must be a 3D point (x, y, z), not {value!r}.")
    return point


def distance(a: Any, b: Any) -> float:
    """Straight-line distance between two 3D points, in the mesh's units."""
    return float(np.linalg.norm(_point(a, "a") - _point(b, "b")))


def scale_mesh(mesh: trimesh.Trimesh, a: Any, b: Any, metres: float) -> trimesh.Trimesh:
    """A copy of ``mesh`` in metres, given two of its points ``a`` and ``b`` that are ``metres`` apart.

    The copy is scaled about the origin (so a camera path in the same frame scales the same
    way, see ``factor``) and remembers how (``mesh_scale``). The original is left as it was.
    """
    if isinstance(metres, bool) or not isinstance(metres, (int, float)) or not np.isfinite(metres) or metres <= 0:
        raise ValueError(f"the known length must be a positive number of metres, not {metres!r}.")
    span = distance(a, b)
    if span <= 1e-12:
        raise ValueError("a and b are the same point; pick two points apart whose true distance you know.")
    factor = float(metres) / span
    current = mesh_scale(mesh)
    scaled = mesh.copy()
    scaled.apply_scale(factor)
    _scale_filmed_from(scaled.metadata, factor)
    scaled.metadata[SCALE_KEY] = {
        "units": "m", "factor": factor * float(current.get("factor", 1.0)) if current["units"] == "m" else factor,
        "method": "known length", "known_length_m": float(metres),
    }
    return scaled


def _scale_filmed_from(metadata: dict[str, Any], factor: float) -> None:
    """The camera a result opens at (``load_glb``'s ``filmed_from``) moves with the mesh: the
    same view of the scaled copy."""
    start = metadata.get(FILMED_FROM_KEY)
    if not isinstance(start, dict) or "world_from_camera" not in start:
        return
    pose = np.array(start["world_from_camera"], dtype=np.float64)
    pose[:3, 3] *= factor
    distance = start.get("target_distance")
    metadata[FILMED_FROM_KEY] = {**start, "world_from_camera": pose.tolist(),
                               "target_distance": float(distance) * factor if distance else distance}


def mesh_scale(mesh: trimesh.Trimesh) -> dict[str, Any]:
    """How the mesh's units relate to the world: ``{"units": "m", "factor", "method", ...}``
    when a known length or a marker gave metres, else ``{"units": "unknown"}``."""
    given = mesh.metadata.get(SCALE_KEY)
    if isinstance(given, dict) and given.get("units") == "m":
        return dict(given)
    record = mesh.metadata.get(PROVENANCE_KEY)
    scale = record.get("scale") if isinstance(record, dict) else None
    if isinstance(scale, dict) and scale.get("units") == "m":
        return dict(scale)
    return dict(UNKNOWN)
