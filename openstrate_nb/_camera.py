"""A camera's projection, in numpy: the one the texture was cut with, and the one the
kernel's display copy re-projects its texture coordinates with (it imports no server code)."""

from __future__ import annotations

import numpy as np

__all__ = ["FILMED_FROM_KEY", "TEXTURE_PROJECTION_KEY", "project_points", "rectangle_uv"]

#: The GLB mesh's ``extras`` key of how its texture was cut from the keyframes.
TEXTURE_PROJECTION_KEY = "openstrate_nb_texture"

#: ``mesh.metadata`` key of the camera a result opens at (``openstrate_nb.load_glb``).
FILMED_FROM_KEY = "filmed_from"


def project_points(points: np.ndarray, K: np.ndarray, dist: np.ndarray, world_from_camera: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (pixel centres at integers) and depth of ``points``: a pinhole camera
    ``K`` with OpenCV's lens model ``dist`` (k1, k2, p1, p2, k3), posed by
    ``world_from_camera`` (OpenCV axes: x right, y down, z forward). Points behind the camera
    or far outside its picture land outside the picture (no overflow)."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    pose = np.asarray(world_from_camera, dtype=np.float64)
    cam = (points - pose[:3, 3]) @ pose[:3, :3]
    z = cam[:, 2]
    safe = np.where(z > 1e-9, z, 1e-9)
    x, y = np.clip(cam[:, 0] / safe, -4, 4), np.clip(cam[:, 1] / safe, -4, 4)
    k1, k2, p1, p2, k3 = (list(np.ravel(dist)[:5]) + [0.0] * 5)[:5]
    if k1 or k2 or p1 or p2 or k3:  # cv2.projectPoints' model, 4x faster here
        r2 = x * x + y * y
        radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
        x, y = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x), y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    K = np.asarray(K, dtype=np.float64)
    return np.stack([K[0, 0] * x + K[0, 2], K[1, 1] * y + K[1, 2]], axis=1), z


def rectangle_uv(points: np.ndarray, rectangle: np.ndarray, projection: dict) -> np.ndarray:
    """glTF texture coordinates ((0, 0) at the top-left) of ``points`` in one rectangle of an
    atlas cut from keyframes (``projection``: a result GLB's ``openstrate_nb_texture``)."""
    view, bx, by, ax, ay, _w, _h, sx, sy = rectangle
    camera = projection["cameras"][int(view)]
    xy, _ = project_points(points, np.reshape(camera["K"], (3, 3)), camera["dist"],
                           np.reshape(camera["world_from_camera"], (4, 4)))
    texel = np.array([ax, ay]) + (xy - np.array([bx, by]) + 0.5) * np.array([sx, sy])
    return texel / np.asarray(projection["atlas_size"], dtype=np.float64)
