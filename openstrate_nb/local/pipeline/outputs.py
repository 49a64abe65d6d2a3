"""Mesh clean-up, a y-up frame with a sensible origin, and the files the server hands out.

SfM's world frame is arbitrary (COLMAP puts it wherever the first image pair was). Viewers
expect glTF's y-up, so we find "up" from the floor (the dominant plane whose normal agrees
with the cameras' average up direction, since people hold phones roughly upright), put the
origin on the floor below the middle of the scene, and face the first camera's view down
-z so a default viewer starts roughly where the walk started.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def face_pieces(verts_count: int, faces: np.ndarray) -> np.ndarray:
    """Connected piece of every face (faces sharing a vertex are connected)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    rows = np.concatenate([faces[:, 0], faces[:, 1]])
    cols = np.concatenate([faces[:, 1], faces[:, 2]])
    graph = coo_matrix((np.ones(len(rows), np.int8), (rows, cols)), shape=(verts_count, verts_count))
    _, label = connected_components(graph, directed=False)
    return label[faces[:, 0]]


def largest_piece_share(face_label: np.ndarray) -> float:
    """Share of the faces in the largest connected piece (1.0: one surface), from :func:`face_pieces`."""
    return float(np.bincount(face_label).max() / len(face_label)) if len(face_label) else 0.0


def remove_small_pieces(verts: np.ndarray, faces: np.ndarray, colors: np.ndarray, min_share: float,
                        face_label: np.ndarray | None = None):
    """Drop connected pieces with fewer faces than ``min_share`` of the largest piece
    (``face_label``: :func:`face_pieces` of the mesh, when the caller has it already)."""
    if len(faces) == 0:
        return verts, faces, colors
    n = len(verts)
    if face_label is None:
        face_label = face_pieces(n, faces)
    counts = np.bincount(face_label)
    keep_labels = counts >= max(1, min_share * counts.max())
    faces = faces[keep_labels[face_label]]
    used = np.zeros(n, bool)
    used[faces.ravel()] = True
    remap = np.cumsum(used) - 1
    return verts[used], remap[faces], colors[used]


def camera_up(world_from_camera: np.ndarray) -> np.ndarray:
    """Mean "up" of the cameras (people hold phones roughly upright; OpenCV's y points down)."""
    up = -world_from_camera[:, :3, 1].mean(0)
    return up / max(np.linalg.norm(up), 1e-12)


def fit_floor(points: np.ndarray, up_hint: np.ndarray, rng: np.random.Generator, iters: int = 400,
              min_share: float = 0.15):
    """RANSAC plane roughly perpendicular to ``up_hint`` with the most inliers, at least
    ``min_share`` of the points: (normal, offset) or None."""
    if len(points) < 50:
        return None
    extent = np.linalg.norm(np.percentile(points, 95, 0) - np.percentile(points, 5, 0))
    tol = 0.01 * extent
    best, best_count = None, 0
    for _ in range(iters):
        s = points[rng.choice(len(points), 3, replace=False)]
        nrm = np.cross(s[1] - s[0], s[2] - s[0])
        ln = np.linalg.norm(nrm)
        if ln < 1e-12:
            continue
        nrm /= ln
        if nrm @ up_hint < 0:
            nrm = -nrm
        if nrm @ up_hint < np.cos(np.radians(35)):
            continue
        d = -nrm @ s[0]
        count = int((np.abs(points @ nrm + d) < tol).sum())
        if count > best_count:
            best, best_count = (nrm, d), count
    if best is None or best_count < min_share * len(points):
        return None
    nrm, d = best
    inl = points[np.abs(points @ nrm + d) < tol]
    # Refine with least squares on the inliers.
    c = inl.mean(0)
    _, _, vt = np.linalg.svd(inl - c, full_matrices=False)
    n2 = vt[2] if vt[2] @ nrm > 0 else -vt[2]
    return n2, -n2 @ c


def upright_transform(world_from_camera: np.ndarray, points: np.ndarray) -> np.ndarray:
    """4x4 rigid transform from the SfM frame to the exported y-up frame."""
    rng = np.random.default_rng(0)
    up_hint = camera_up(world_from_camera)
    floor = fit_floor(points, up_hint, rng)
    up = floor[0] if floor is not None else up_hint
    fwd = world_from_camera[0, :3, 2]
    fwd = fwd - (fwd @ up) * up
    if np.linalg.norm(fwd) < 1e-6:
        fwd = np.cross(up, [1.0, 0, 0]) if abs(up[0]) < 0.9 else np.cross(up, [0, 1.0, 0])
    fwd /= np.linalg.norm(fwd)
    # Rows: the new x, y, z axes in old coordinates; the first view looks down -z.
    z_axis = -fwd
    x_axis = np.cross(up, z_axis)
    R = np.stack([x_axis, up, z_axis])
    lo, hi = np.percentile(points, 5, 0), np.percentile(points, 95, 0)
    center = 0.5 * (lo + hi)
    if floor is not None:
        n, d = floor
        center = center - (center @ n + d) * n  # drop the centre onto the floor
    else:
        center = center - ((points - center) @ up).min() * -up
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = -R @ center
    return T


def apply(T: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ T[:3, :3].T + T[:3, 3]


def write_glb(path: Path, verts: np.ndarray, faces: np.ndarray, colors: np.ndarray,
              extras: dict | None = None) -> None:
    """A vertex-coloured (sRGB bytes) triangle mesh as an unlit GLB; ``extras`` goes to ``asset.extras``."""
    from ..._gltf import glb_bytes, srgb_to_linear

    path.write_bytes(glb_bytes(verts, faces, linear_colors=srgb_to_linear(np.asarray(colors)[:, :3]), extras=extras))


def write_ply_points(path: Path, points: np.ndarray, colors: np.ndarray) -> None:
    path.write_bytes(ply_points_bytes(points, colors))


def ply_points_bytes(points: np.ndarray, colors: np.ndarray) -> bytes:
    """Binary little-endian PLY with float xyz and uchar rgb."""
    n = len(points)
    header = (
        "ply\nformat binary_little_endian 1.0\n"
        f"element vertex {n}\nproperty float x\nproperty float y\nproperty float z\n"
        "property uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n"
    )
    rec = np.empty(n, dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("r", "u1"), ("g", "u1"), ("b", "u1")])
    rec["x"], rec["y"], rec["z"] = points[:, 0], points[:, 1], points[:, 2]
    rec["r"], rec["g"], rec["b"] = colors[:, 0], colors[:, 1], colors[:, 2]
    return header.encode("ascii") + rec.tobytes()


def write_cameras(path: Path, frames: list[dict], units: str = "arbitrary") -> None:
    """The camera path; ``units`` is "m" once markers gave the scale, else "arbitrary"."""
    path.write_text(json.dumps({"units": units, "frames": frames}, indent=1))
