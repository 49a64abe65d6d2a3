"""The copy of a mesh a notebook draws: at most ``max_faces`` faces, and for a photo-textured
result the same photo detail; and the arrays pythreejs and the PNG preview are given.

A notebook saved with widget state carries this copy, so it is small by design; the
``/view`` page beside it shows every face of the result.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import trimesh

from ._camera import FILMED_FROM_KEY, TEXTURE_PROJECTION_KEY, project_points
from ._provenance import PROVENANCE_KEY

__all__ = ["DEFAULT_MAX_FACES", "DISPLAY_TEXTURE_SIDE", "decimate_to_face_budget", "display_mesh", "display_arrays",
           "area_weighted_vertex_normals", "texture_of", "vertex_colors"]

#: Above this many faces the *displayed* copy is decimated; the Trimesh keeps every face.
#: A notebook saved with widget state carries the displayed copy (about 42 bytes a face as
#: base64 buffers), so this keeps a saved notebook with a result well under 2 MB; the
#: ``/view`` page beside it shows every face.
DEFAULT_MAX_FACES = 30_000


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
    colors = vertex_colors(mesh)
    return _on_coarsening_grids(vertices, faces, max_faces, lambda lo, cell: _cluster(vertices, faces, colors, lo, cell))


def _on_coarsening_grids(vertices: np.ndarray, faces: np.ndarray, max_faces: int, cluster) -> trimesh.Trimesh:
    """``cluster(lo, cell)`` on grids ever coarser until at most ``max_faces`` faces remain."""
    lo = vertices.min(axis=0)
    span = float(np.ptp(vertices, axis=0).max())
    # A grid of cell c leaves about 2 * area / c**2 faces on a surface; 10% coarser saves a second pass.
    cell = max(np.sqrt(2.0 * _estimated_area(vertices, faces) / max_faces) * 1.1, span * 1e-6, 1e-12)
    for _ in range(60):
        result = cluster(lo, cell)
        if len(result.faces) <= max_faces:
            return result
        cell *= 1.25
    return result


#: The display copy's texture is at most this many pixels on a side (a saved notebook carries it).
DISPLAY_TEXTURE_SIDE = 1024


def display_mesh(mesh_or_glb: trimesh.Trimesh | str | os.PathLike[str] | bytes, max_faces: int = DEFAULT_MAX_FACES
                 ) -> trimesh.Trimesh:
    """The copy of a result the kernel's 3D view draws: at most ``max_faces`` faces, and for a
    photo-textured result the same photo detail (the texture, at most
    ``DISPLAY_TEXTURE_SIDE`` px on a side, on UVs carried through the simplification).

    Faces are merged by vertex clustering on a grid; a textured mesh is clustered chart by
    chart (its UVs are continuous only within one), every chart's corners at the cell's one
    position, so the copy has no cracks along the seams.
    """
    if isinstance(mesh_or_glb, trimesh.Trimesh):
        mesh = mesh_or_glb
    else:
        from .mesh import load_glb

        mesh = load_glb(mesh_or_glb)
    textured = texture_of(mesh)
    if textured is None:
        shown = decimate_to_face_budget(mesh, max_faces)
    else:
        uv, image = textured
        vertices = np.asarray(mesh.vertices, dtype=np.float64)
        faces = np.asarray(mesh.faces, dtype=np.int64)
        if len(faces) > max_faces:
            chart = trimesh.graph.connected_component_labels(mesh.face_adjacency, node_count=len(faces))
            vertex_chart = np.zeros(len(vertices), dtype=np.int64)
            vertex_chart[faces.ravel()] = np.repeat(chart, 3)
            projection = mesh.metadata.get(TEXTURE_PROJECTION_KEY)
            chart_rect = (_chart_rectangles(vertices, uv, vertex_chart, projection) if isinstance(projection, dict)
                          else None)

            def cluster(lo, cell):
                return _cluster_textured(vertices, faces, uv, vertex_chart, lo, cell, chart_rect, projection)

            shown = _on_coarsening_grids(vertices, faces, max_faces, cluster)
            vertices, faces, uv = shown.vertices, shown.faces, shown.metadata.pop("uv")
        if max(image.size) > DISPLAY_TEXTURE_SIDE:
            s = DISPLAY_TEXTURE_SIDE / max(image.size)
            image = image.resize((max(1, round(image.size[0] * s)), max(1, round(image.size[1] * s))),
                                 resample=_pil_box())
        shown = trimesh.Trimesh(vertices, faces, process=False, visual=trimesh.visual.TextureVisuals(
            uv=np.asarray(uv, dtype=np.float64), material=trimesh.visual.material.SimpleMaterial(image=image)))
    if shown is not mesh:
        shown.metadata.update({k: v for k, v in mesh.metadata.items() if k in (PROVENANCE_KEY, FILMED_FROM_KEY)})
        # (not the texture's projection: the copy's UVs are its own now)
    return shown


def _pil_box():
    from PIL import Image

    return Image.Resampling.BOX


def texture_of(mesh: trimesh.Trimesh):
    """``(uv, image)`` of a mesh with a texture image (trimesh's UVs: (0, 0) at the image's
    bottom-left; the image as RGB), or None."""
    visual = mesh.visual
    if getattr(visual, "kind", None) != "texture" or visual.uv is None:
        return None
    material = visual.material
    image = getattr(material, "baseColorTexture", None) or getattr(material, "image", None)
    if image is None or len(visual.uv) != len(mesh.vertices):
        return None
    return np.asarray(visual.uv, dtype=np.float64), image.convert("RGB")


def _reprojected_uv(points: np.ndarray, rect: np.ndarray, projection: dict) -> np.ndarray:
    """trimesh UVs ((0, 0) at the bottom-left) of ``points`` in their rectangles ``rect`` of an
    atlas cut from keyframes: the pixel of its keyframe each point falls on (NaN: rect -1)."""
    rectangles = np.asarray(projection["rectangles"], dtype=np.float64).reshape(-1, 9)
    size = np.asarray(projection["atlas_size"], dtype=np.float64)
    out = np.full((len(points), 2), np.nan)
    known = rect >= 0
    views = rectangles[rect[known], 0].astype(np.int64)
    where = np.flatnonzero(known)
    for view in np.unique(views):
        pick = where[views == view]
        camera = projection["cameras"][int(view)]
        xy, _ = project_points(points[pick], np.reshape(camera["K"], (3, 3)), camera["dist"],
                               np.reshape(camera["world_from_camera"], (4, 4)))
        r = rectangles[rect[pick]]
        out[pick] = (r[:, 3:5] + (xy - r[:, 1:3] + 0.5) * r[:, 7:9]) / size
    out[:, 1] = 1.0 - out[:, 1]
    return out


def _chart_rectangles(vertices: np.ndarray, uv: np.ndarray, chart: np.ndarray, projection: dict) -> np.ndarray | None:
    """The atlas rectangle of every chart (-1: none, or its vertices' UVs are not the
    projection's: a mesh moved or scaled since, a third party's atlas), or None."""
    try:
        rectangles = np.asarray(projection["rectangles"], dtype=np.float64).reshape(-1, 9)
        size = np.asarray(projection["atlas_size"], dtype=np.float64).reshape(2)
        charts = int(chart.max()) + 1
        first = np.full(charts, -1, dtype=np.int64)
        first[chart[::-1]] = np.arange(len(chart))[::-1]
        texel = np.column_stack([uv[first, 0], 1.0 - uv[first, 1]]) * size
        rect = np.full(charts, -1, dtype=np.int64)
        for start in range(0, charts, 2048):  # charts x rectangles comparisons, a block at a time
            t = texel[start:start + 2048, None, :]
            inside = ((t >= rectangles[None, :, 3:5]) & (t <= rectangles[None, :, 3:5] + rectangles[None, :, 5:7])).all(2)
            hit = inside.any(axis=1)
            rect[start:start + 2048] = np.where(hit, inside.argmax(axis=1), -1)
        per_vertex = rect[chart]
        error = np.abs(_reprojected_uv(vertices, per_vertex, projection) - uv) * size
        bad = np.zeros(charts, dtype=bool)
        off = per_vertex >= 0
        np.logical_or.at(bad, chart[off], ~(error[off].max(axis=1) < 1.5))
        rect[bad] = -1
        return rect
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def _cluster_textured(vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray, chart: np.ndarray, lo: np.ndarray,
                      cell: float, chart_rect: np.ndarray | None = None, projection: dict | None = None
                      ) -> trimesh.Trimesh:
    """Vertex clustering that keeps a texture: one position per cell, one vertex per cell and
    chart; faces in their chart. A vertex's UV is where its (moved) position falls in the
    chart's keyframe when the atlas says how it was cut (``chart_rect``, ``projection``),
    else the mean UV of that chart's vertices in the cell."""
    cells = np.floor((vertices - lo) / cell).astype(np.int64)
    if int(cells.max()) < 1 << _BITS:
        _, cluster = np.unique(cells[:, 0] | (cells[:, 1] << _BITS) | (cells[:, 2] << (2 * _BITS)), return_inverse=True)
    else:
        _, cluster = np.unique(cells, axis=0, return_inverse=True)
    cluster = cluster.ravel()
    n = int(cluster.max()) + 1
    counts = np.bincount(cluster, minlength=n)
    position = np.stack([np.bincount(cluster, weights=vertices[:, a], minlength=n) for a in range(3)], axis=1)
    position /= counts[:, None]
    key = cluster * (int(chart.max()) + 1) + chart
    unique_key, out = np.unique(key, return_inverse=True)
    out = out.ravel()
    m = len(unique_key)
    out_counts = np.bincount(out, minlength=m)
    out_uv = np.stack([np.bincount(out, weights=uv[:, a], minlength=m) for a in range(2)], axis=1) / out_counts[:, None]
    out_position = position[unique_key // (int(chart.max()) + 1)]
    if chart_rect is not None and projection is not None:
        projected = _reprojected_uv(out_position, chart_rect[unique_key % (int(chart.max()) + 1)], projection)
        out_uv = np.where(np.isnan(projected), out_uv, projected)
    by_cell = cluster[faces]
    keep = (by_cell[:, 0] != by_cell[:, 1]) & (by_cell[:, 1] != by_cell[:, 2]) & (by_cell[:, 0] != by_cell[:, 2])
    ordered = np.sort(by_cell[keep], axis=1)
    _, first = np.unique(ordered, axis=0, return_index=True)  # one face per three cells, whatever its chart
    kept_faces = out[faces[keep][np.sort(first)]]
    result = trimesh.Trimesh(out_position, kept_faces, process=False)
    result.metadata["uv"] = out_uv
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


def vertex_colors(mesh: trimesh.Trimesh) -> np.ndarray | None:
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


def display_arrays(mesh: trimesh.Trimesh, max_faces: int = DEFAULT_MAX_FACES) -> dict[str, Any]:
    """What a viewer needs, from :func:`display_mesh`: float32 ``positions``, uint32 ``index``,
    and then either ``uv`` (float32, (0, 0) at the image's bottom-left) with ``texture``
    (an RGB uint8 array, top row first) for a textured mesh, or ``normals`` and, when the mesh
    has colours, float32 ``colors`` (RGB 0..1). ``filmed_from`` when the result says where it
    was filmed from."""
    shown = display_mesh(mesh, max_faces)
    positions = np.ascontiguousarray(shown.vertices, dtype=np.float32)
    faces = np.asarray(shown.faces)
    arrays: dict[str, Any] = {"positions": positions, "index": np.ascontiguousarray(faces.ravel(), dtype=np.uint32)}
    textured = texture_of(shown)
    if textured is not None:
        arrays["uv"] = np.ascontiguousarray(textured[0], dtype=np.float32)
        arrays["texture"] = np.asarray(textured[1], dtype=np.uint8)
    else:
        arrays["normals"] = area_weighted_vertex_normals(positions, faces)
        colors = vertex_colors(shown)
        if colors is not None:
            arrays["colors"] = np.ascontiguousarray(colors[:, :3], dtype=np.float32) / np.float32(255.0)
    if FILMED_FROM_KEY in shown.metadata:
        arrays["filmed_from"] = shown.metadata[FILMED_FROM_KEY]
    return arrays
