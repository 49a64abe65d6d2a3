"""Meshes from a reconstruction: GLB → ``trimesh.Trimesh`` → pythreejs, and measurements.

Usable without the widget::

    mesh = load_glb("walk.glb")
    mesh_summary(mesh)          # vertices, faces, bounds, extents, area, volume, watertight
    show_mesh(mesh)             # a pythreejs Renderer with orbit controls

pythreejs is old (three.js r97) and unmaintained, so everything that touches it lives in
``openstrate_nb._three``; this module hands it plain numpy arrays, of the display copy
(``display_mesh``, in ``openstrate_nb._display_copy``).
"""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING, Any

import numpy as np
import trimesh

from ._camera import FILMED_FROM_KEY, TEXTURE_PROJECTION_KEY
from ._display_copy import (  # noqa: F401  (public here: the display copy is a mesh function)
    DEFAULT_MAX_FACES, area_weighted_vertex_normals, decimate_to_face_budget, display_arrays, display_mesh,
    texture_of, vertex_colors)
from ._gltf import GltfCamera, glb_bytes, jpeg_bytes, linear_to_srgb, srgb_to_linear
from ._provenance import PROVENANCE_KEY, describe, provenance

if TYPE_CHECKING:  # pragma: no cover
    import pythreejs

__all__ = [
    "DEFAULT_MAX_FACES",
    "load_glb",
    "mesh_summary",
    "decimate_to_face_budget",
    "display_mesh",
    "glb_of",
    "merged_surface",
    "area_weighted_vertex_normals",
    "display_arrays",
    "to_pythreejs",
    "show_mesh",
]



def load_glb(path_or_bytes: str | os.PathLike[str] | bytes | bytearray | memoryview) -> trimesh.Trimesh:
    """One ``Trimesh`` from a GLB: a scene's meshes are placed by their transforms and concatenated.

    A photo-textured result keeps its texture (``mesh.visual`` is trimesh's ``TextureVisuals``);
    vertex colours (``COLOR_0``, linear light in glTF) come back as the sRGB bytes trimesh and
    every picture use. The GLB's provenance record (how openstrate_nb made it), if any, is
    kept in ``mesh.metadata["openstrate_nb"]``, and the camera it opens at (a keyframe's
    pose, its vertical field of view, how far it looked) in ``mesh.metadata["filmed_from"]``.
    """
    mesh = _load_glb_mesh(path_or_bytes)
    try:
        mesh.metadata[PROVENANCE_KEY] = provenance(path_or_bytes)
    except ValueError:
        pass  # made elsewhere: nothing to keep
    try:
        tree = glb_tree(path_or_bytes)
    except (ValueError, OSError):
        tree = {}
    camera = _filmed_from_tree(tree)
    if camera is not None:
        mesh.metadata[FILMED_FROM_KEY] = camera
    meshes = tree.get("meshes") or [{}]
    projection = (meshes[0].get("extras") or {}).get(TEXTURE_PROJECTION_KEY) if len(meshes) == 1 else None
    if isinstance(projection, dict) and mesh.visual.kind == "texture":
        mesh.metadata[TEXTURE_PROJECTION_KEY] = projection
    if _has_color_attribute(tree):
        _vertex_colours_to_srgb(mesh)
    return mesh


def glb_of(mesh: trimesh.Trimesh, *, jpeg_quality: int = 90) -> bytes:
    """A trimesh mesh as a GLB the way results are written: unlit, its texture (as JPEG) or
    its vertex colours (linear, as glTF requires), and the camera it opens at
    (``filmed_from``). No provenance record: a mesh changed in Python is not the result whose
    making the record describes."""
    positions = np.asarray(mesh.vertices, dtype=np.float32)
    faces = np.asarray(mesh.faces, dtype=np.uint32)
    textured = texture_of(mesh)
    texture: dict[str, Any] = {}
    if textured is not None:
        uv = textured[0].copy()
        uv[:, 1] = 1.0 - uv[:, 1]  # glTF's (0, 0) is the image's top-left
        texture = {"uv": uv, "texture_jpeg": jpeg_bytes(textured[1], jpeg_quality)}
    else:
        colours = vertex_colors(mesh)
        if colours is not None:
            texture = {"linear_colors": srgb_to_linear(colours[:, :3])}
    start = mesh.metadata.get(FILMED_FROM_KEY)
    camera = None
    if isinstance(start, dict) and "world_from_camera" in start:
        distance = float(start.get("target_distance") or 0.0)
        extras = {k: start[k] for k in ("frame_index",) if k in start}
        if distance > 0:
            extras["target_distance"] = distance
        camera = GltfCamera(np.asarray(start["world_from_camera"], dtype=np.float64), yfov=float(start["yfov"]),
                            aspect=float(start.get("aspect") or 1.5),
                            znear=distance / 1000 if distance > 0 else 1e-3, extras=extras)
    return glb_bytes(positions, faces, camera=camera, **texture)


def _vertex_colours_to_srgb(mesh: trimesh.Trimesh) -> None:
    """``COLOR_0`` is linear light: make it the sRGB bytes of trimesh's vertex colours. A
    material without an image (an unlit one, say) leaves trimesh holding them aside as a
    vertex attribute: they become the mesh's colours."""
    visual = mesh.visual
    if visual.kind == "texture" and texture_of(mesh) is None and "color" in visual.vertex_attributes:
        colours = np.asarray(visual.vertex_attributes["color"])
    elif visual.kind == "vertex":
        colours = np.asarray(visual.vertex_colors)
    else:
        return
    rgba = colours.astype(np.float64)
    if colours.dtype.kind in "ui":
        rgba /= np.iinfo(colours.dtype).max
    if rgba.shape[1] == 3:
        rgba = np.column_stack([rgba, np.ones(len(rgba))])
    rgba[:, :3] = linear_to_srgb(rgba[:, :3])
    mesh.visual = trimesh.visual.ColorVisuals(mesh, vertex_colors=np.rint(rgba * 255.0).astype(np.uint8))


def glb_tree(path_or_bytes: str | os.PathLike[str] | bytes | bytearray | memoryview) -> dict[str, Any]:
    """The JSON of a GLB (its buffers left unread)."""
    from ._provenance import _read_glb_head, glb_json

    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        return glb_json(bytes(path_or_bytes))
    return glb_json(_read_glb_head(path_or_bytes))


def _has_color_attribute(tree: dict[str, Any]) -> bool:
    return any("COLOR_0" in p.get("attributes", {}) for m in tree.get("meshes", []) for p in m.get("primitives", []))


def _filmed_from_tree(tree: dict[str, Any]) -> dict[str, Any] | None:
    """The first camera node of a glTF as ``{"world_from_camera" (4x4, OpenCV axes: x right,
    y down, z forward), "yfov" (radians), "aspect", "target_distance"}``, or None."""
    for node in tree.get("nodes", []):
        if "camera" not in node or "matrix" not in node:
            continue
        try:
            perspective = tree["cameras"][node["camera"]]["perspective"]
            m = np.asarray(node["matrix"], dtype=np.float64).reshape(4, 4).T
        except (KeyError, IndexError, TypeError, ValueError):
            return None
        m[:3, 1] *= -1.0  # glTF's camera: +y up, looking down -z
        m[:3, 2] *= -1.0
        extras = node.get("extras") if isinstance(node.get("extras"), dict) else {}
        return {"world_from_camera": m.tolist(), "yfov": float(perspective["yfov"]),
                "aspect": float(perspective.get("aspectRatio") or 1.5),
                "target_distance": float(extras.get("target_distance", 0.0)) or None,
                **({"frame_index": int(extras["frame_index"])} if "frame_index" in extras else {})}
    return None


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

    record = mesh.metadata.get(PROVENANCE_KEY)
    units = mesh_scale(mesh)["units"]
    mesh = merged_surface(mesh)  # a texture's seams are not holes in the surface
    watertight = bool(mesh.is_watertight)
    bounds = np.asarray(mesh.bounds, dtype=float) if len(mesh.vertices) else np.zeros((2, 3))
    return {
        "vertices": int(len(mesh.vertices)),
        "faces": int(len(mesh.faces)),
        "units": units,
        "bounds": bounds.tolist(),
        "extents": (bounds[1] - bounds[0]).tolist(),
        "surface_area": float(mesh.area),
        # The volume of an open surface is not a number anyone should use.
        "volume": float(abs(mesh.volume)) if watertight else None,
        "closed_volume": _closed_volume(mesh),
        "watertight": watertight,
        **({"provenance": describe(record)} if isinstance(record, dict) else {}),
    }


def merged_surface(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """The mesh's surface alone, one vertex per point: what pieces, holes, watertightness and
    volume are questions about. A photo texture duplicates every vertex on a seam between
    charts (one per chart's texture coordinates), so its mesh falls apart into its charts for
    ``split`` and is never watertight; this copy (no texture, no colours) is whole again. A
    mesh without a texture comes back as it is."""
    if getattr(mesh.visual, "kind", None) != "texture":
        return mesh
    merged = trimesh.Trimesh(np.asarray(mesh.vertices), np.asarray(mesh.faces), process=False)
    merged.merge_vertices()
    merged.metadata.update(mesh.metadata)
    return merged


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
                               start=arrays.get("filmed_from"),
                               dark=dark)
