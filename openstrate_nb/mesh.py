"""Meshes from a reconstruction: GLB → ``trimesh.Trimesh`` → pythreejs, and measurements.

Usable without the widget::

    mesh = load_glb("walk.glb")
    mesh_summary(mesh)          # vertices, faces, bounds, extents, area, volume, watertight
    show_mesh(mesh)             # a pythreejs Renderer with orbit controls

pythreejs is old (three.js r97) and unmaintained, so everything that touches it lives in
``openstrate_nb._three``; this module hands it plain numpy arrays.
"""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING, Any

import numpy as np
import trimesh

from ._provenance import PROVENANCE_KEY, describe, provenance

if TYPE_CHECKING:  # pragma: no cover
    import pythreejs

__all__ = [
    "DEFAULT_MAX_FACES",
    "load_glb",
    "mesh_summary",
    "decimate_to_face_budget",
    "area_weighted_vertex_normals",
    "display_arrays",
    "to_pythreejs",
    "show_mesh",
]

#: Above this many faces the *displayed* copy is decimated; the Trimesh keeps every face.
#: A notebook saved with widget state carries the displayed copy (about 42 bytes a face as
#: base64 buffers), so this keeps a saved notebook with a result well under 2 MB; the
#: ``/view`` page beside it shows every face.
DEFAULT_MAX_FACES = 30_000


def load_glb(path_or_bytes: str | os.PathLike[str] | bytes | bytearray | memoryview) -> trimesh.Trimesh:
    """One ``Trimesh`` from a GLB: a scene's meshes are placed by their transforms and concatenated.

    The GLB's provenance record (how openstrate_nb made it), if any, is kept in
    ``mesh.metadata["openstrate_nb"]``.
    """
    mesh = _load_glb_mesh(path_or_bytes)
    try:
        mesh.metadata[PROVENANCE_KEY] = provenance(path_or_bytes)
    except ValueError:
        pass  # made elsewhere: nothing to keep
    return mesh


def _load_glb_mesh(path_or_bytes: str | os.PathLike[str] | bytes | bytearray | memoryview) -> trimesh.Trimesh:
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        loaded = trimesh.load(io.BytesIO(bytes(path_or_bytes)), file_type="glb")
    else:
        loaded = trimesh.load(os.fspath(path_or_bytes), file_type="glb")
    if isinstance(loaded, trimesh.Scene):
        single = _only_untransformed_mesh(loaded)
        if single is not None:
            return single  # the common case (one mesh, no transform): no copy of a million faces
        meshes = [g for g in loaded.dump() if isinstance(g, trimesh.Trimesh) and len(g.faces)]
        if not meshes:
            raise ValueError("The GLB holds no triangle mesh (only points or empty nodes), so there is nothing to show.")
        loaded = meshes[0] if len(meshes) == 1 else trimesh.util.concatenate(meshes)
    if not isinstance(loaded, trimesh.Trimesh):
        raise ValueError(f"The GLB loaded as {type(loaded).__name__}, not a triangle mesh.")
    return loaded


def _only_untransformed_mesh(scene: trimesh.Scene) -> trimesh.Trimesh | None:
    nodes = scene.graph.nodes_geometry
    if len(nodes) != 1:
        return None
    transform, name = scene.graph[nodes[0]]
    geometry = scene.geometry.get(name)
    if isinstance(geometry, trimesh.Trimesh) and len(geometry.faces) and np.allclose(transform, np.eye(4)):
        return geometry
    return None


def mesh_summary(mesh: trimesh.Trimesh) -> dict[str, Any]:
    """Plain numbers about a mesh, ready for a table or a JSON log (and, for a mesh
    openstrate_nb made, ``provenance``: one line saying from which video and how).

    Lengths, areas and volumes are in ``units``: ``"m"`` once a marker or a known length
    gave the scale (``openstrate_nb.scale_mesh``), else ``"unknown"`` (the reconstruction's
    own units). ``closed_volume`` adds up the pieces that are closed surfaces.
    """
    from .scale import mesh_scale

    watertight = bool(mesh.is_watertight)
    bounds = np.asarray(mesh.bounds, dtype=float) if len(mesh.vertices) else np.zeros((2, 3))
    record = mesh.metadata.get(PROVENANCE_KEY)
    return {
        "vertices": int(len(mesh.vertices)),
        "faces": int(len(mesh.faces)),
        "units": mesh_scale(mesh)["units"],
        "bounds": bounds.tolist(),
        "extents": (bounds[1] - bounds[0]).tolist(),
        "surface_area": float(mesh.area),
        # The volume of an open surface is not a number anyone should use.
        "volume": float(abs(mesh.volume)) if watertight else None,
        "closed_volume": _closed_volume(mesh),
        "watertight": watertight,
        **({"provenance": describe(record)} if isinstance(record, dict) else {}),
    }


def _closed_volume(mesh: trimesh.Trimesh) -> float | None:
    """The volume of the mesh's closed pieces together; None when none is closed.

    Vectorised over faces (a piece is closed when each of its edges has exactly two faces):
    ``mesh.split`` builds a Trimesh per piece and took 1 s on a 137k-face result.
    """
    faces = np.asarray(mesh.faces)
    if not len(faces):
        return None
    labels = trimesh.graph.connected_component_labels(mesh.face_adjacency, node_count=len(faces))
    edge_faces = np.bincount(mesh.edges_unique_inverse, minlength=len(mesh.edges_unique))
    open_face = (edge_faces[mesh.edges_unique_inverse] != 2).reshape(-1, 3).any(axis=1)
    closed = np.bincount(labels, weights=open_face) == 0
    if not closed.any():
        return None
    tri = np.asarray(mesh.vertices, dtype=np.float64)[faces]
    signed = np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])) / 6.0
    per_piece = np.bincount(labels, weights=signed)
    return float(np.abs(per_piece[closed]).sum())


def decimate_to_face_budget(mesh: trimesh.Trimesh, max_faces: int) -> trimesh.Trimesh:
    """A copy with at most ``max_faces`` faces, by vertex clustering on a grid (colours averaged).

    Clustering is pure numpy, keeps the silhouette of a dense scan and needs no extra package;
    the grid starts at the cell size a surface of this area would need and coarsens until the
    budget holds.
    """
    if max_faces <= 0:
        raise ValueError("max_faces must be positive.")
    if len(mesh.faces) <= max_faces:
        return mesh
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    faces = np.asarray(mesh.faces, dtype=np.int64)
    colors = _vertex_colors(mesh)
    lo = vertices.min(axis=0)
    span = float(np.ptp(vertices, axis=0).max())
    # A grid of cell c leaves about 2 * area / c**2 faces on a surface; 10% coarser saves a second pass.
    cell = max(np.sqrt(2.0 * _estimated_area(vertices, faces) / max_faces) * 1.1, span * 1e-6, 1e-12)
    for _ in range(60):
        result = _cluster(vertices, faces, colors, lo, cell)
        if len(result.faces) <= max_faces:
            return result
        cell *= 1.25
    return result


def _estimated_area(vertices: np.ndarray, faces: np.ndarray, sample: int = 20_000) -> float:
    # A sample of faces is plenty to choose a grid size, and costs nothing on a million faces.
    picked = faces if len(faces) <= sample else faces[np.random.default_rng(0).choice(len(faces), sample, replace=False)]
    tri = vertices[picked]
    area = np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1).sum() / 2.0
    return float(area) * len(faces) / len(picked)


_BITS = 21  # three cell coordinates (or three cluster ids) packed into one int64 key


def _cluster(vertices: np.ndarray, faces: np.ndarray, colors: np.ndarray | None, lo: np.ndarray,
             cell: float) -> trimesh.Trimesh:
    cells = np.floor((vertices - lo) / cell).astype(np.int64)
    if int(cells.max()) < 1 << _BITS:
        # One int64 per vertex sorts many times faster than np.unique over rows.
        key = cells[:, 0] | (cells[:, 1] << _BITS) | (cells[:, 2] << (2 * _BITS))
        _, cluster, counts = np.unique(key, return_inverse=True, return_counts=True)
    else:
        _, cluster, counts = np.unique(cells, axis=0, return_inverse=True, return_counts=True)
    cluster = cluster.ravel()
    merged = np.stack([np.bincount(cluster, weights=vertices[:, axis], minlength=len(counts)) for axis in range(3)],
                      axis=1) / counts[:, None]
    mapped = cluster[faces]
    keep = (mapped[:, 0] != mapped[:, 1]) & (mapped[:, 1] != mapped[:, 2]) & (mapped[:, 0] != mapped[:, 2])
    mapped = mapped[keep]
    if len(counts) < 1 << _BITS:
        # Drop faces that collapsed onto the same three clusters, keeping each survivor's winding.
        ordered = np.sort(mapped, axis=1)
        face_key = ordered[:, 0] | (ordered[:, 1] << _BITS) | (ordered[:, 2] << (2 * _BITS))
        _, first = np.unique(face_key, return_index=True)
        mapped = mapped[np.sort(first)]
    out_colors = None
    if colors is not None:
        summed = np.stack([np.bincount(cluster, weights=colors[:, c], minlength=len(counts))
                           for c in range(colors.shape[1])], axis=1)
        out_colors = np.clip(summed / counts[:, None], 0, 255).astype(np.uint8)
    return trimesh.Trimesh(merged, mapped, vertex_colors=out_colors, process=False)


def _vertex_colors(mesh: trimesh.Trimesh) -> np.ndarray | None:
    """RGBA uint8 per vertex when the mesh really has colours (not trimesh's default grey)."""
    visual = mesh.visual
    if visual is None or not getattr(visual, "defined", False):
        return None
    if visual.kind == "texture":
        try:
            visual = visual.to_color()
        except Exception:  # a texture trimesh cannot sample: show the shape uncoloured
            return None
    if visual.kind in ("vertex", "face"):
        # Face colours come back averaged onto shared vertices: a little blur, but one index.
        return np.asarray(visual.vertex_colors, dtype=np.uint8)
    return None


def area_weighted_vertex_normals(positions: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Unit float32 normals per vertex, the sum of its faces' normals weighted by their area.

    For shading only: about ten times faster than trimesh's angle-weighted ``vertex_normals``
    on a million faces, which would otherwise be most of the time from GLB to screen.
    """
    positions = np.asarray(positions, dtype=np.float32)
    faces = np.asarray(faces, dtype=np.int64)
    if len(faces) == 0:
        return np.zeros_like(positions)
    corners = positions[faces]
    # The cross product's length is twice the face's area: the weighting comes for free.
    face_normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    owners = faces.ravel()
    normals = np.stack([np.bincount(owners, weights=np.repeat(face_normals[:, axis], 3), minlength=len(positions))
                        for axis in range(3)], axis=1).astype(np.float32)
    lengths = np.linalg.norm(normals, axis=1, keepdims=True)
    np.divide(normals, lengths, out=normals, where=lengths > 0)
    return normals


def display_arrays(mesh: trimesh.Trimesh, max_faces: int = DEFAULT_MAX_FACES) -> dict[str, np.ndarray]:
    """What a viewer needs: float32 ``positions`` and ``normals``, uint32 ``index``, and float32
    ``colors`` (RGB 0..1) when the mesh has colours; decimated to ``max_faces`` first."""
    shown = decimate_to_face_budget(mesh, max_faces)
    positions = np.ascontiguousarray(shown.vertices, dtype=np.float32)
    faces = np.asarray(shown.faces)
    arrays = {
        "positions": positions,
        "normals": area_weighted_vertex_normals(positions, faces),
        "index": np.ascontiguousarray(faces.ravel(), dtype=np.uint32),
    }
    colors = _vertex_colors(shown)
    if colors is not None:
        arrays["colors"] = np.ascontiguousarray(colors[:, :3], dtype=np.float32) / np.float32(255.0)
    return arrays


def to_pythreejs(mesh: trimesh.Trimesh, *, max_faces: int = DEFAULT_MAX_FACES) -> pythreejs.Mesh:
    """A ``pythreejs.Mesh`` (binary buffers, vertex colours when present) of at most ``max_faces`` faces."""
    from . import _three

    return _three.mesh_object(display_arrays(mesh, max_faces))


def show_mesh(mesh: trimesh.Trimesh, *, max_faces: int = DEFAULT_MAX_FACES, width: int = 640,
              height: int = 420, dark: bool = False) -> pythreejs.Renderer:
    """A pythreejs ``Renderer`` of the mesh: orbit controls, a light at the camera, the mesh
    framed to fill the view; ``dark=True`` for a dark page's background."""
    from . import _three

    arrays = display_arrays(mesh, max_faces)
    return _three.renderer_for(_three.mesh_object(arrays), arrays["positions"], width=width, height=height,
                               dark=dark)
