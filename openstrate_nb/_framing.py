"""Where the camera goes so that a mesh fills the picture.

One rule for the kernel's pythreejs view and the PNG preview; the ``/view`` page's viewer
applies the same rule in ``js/src/viewer/stage.js``. A bounding sphere (the usual "fit")
leaves a flat or long reconstruction small in the frame; fitting the points themselves,
as seen from the chosen direction, fills it.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["DEFAULT_DIRECTION", "camera_basis", "filmed_view", "framed_view"]

#: From the front, a little above and to the right (the viewer's default view, too).
DEFAULT_DIRECTION = (0.6, 0.45, 1.0)
#: Room around the mesh, as a factor on the distance that makes it just touch the frame.
MARGIN = 1.06
# Fit, re-centre, fit again: converges within a few per cent of the frame in a handful of rounds.
_ATTEMPTS = 5


def camera_basis(direction: np.ndarray | tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(right, up, back)``: unit vectors of a camera looking along ``-direction`` with +Y up."""
    back = np.asarray(direction, dtype=float)
    back = back / np.linalg.norm(back)
    world_up = np.array([0.0, 1.0, 0.0]) if abs(back[1]) < 0.99 else np.array([0.0, 0.0, -1.0])
    right = np.cross(world_up, back)
    right /= np.linalg.norm(right)
    return right, np.cross(back, right), back


def framed_view(points: np.ndarray, *, direction=DEFAULT_DIRECTION, fov_degrees: float = 45.0,
                aspect: float = 1.5, margin: float = MARGIN) -> tuple[np.ndarray, float]:
    """``(target, distance)`` for a camera at ``target + back * distance`` (``back`` from
    ``camera_basis(direction)``) whose vertical field of view ``fov_degrees`` and ``aspect``
    (width / height) frame every point, centred."""
    points = np.asarray(points, dtype=float).reshape(-1, 3)
    if not len(points):
        return np.zeros(3), 1.0
    right, up, back = camera_basis(direction)
    center = (points.min(axis=0) + points.max(axis=0)) / 2.0
    # Centre the picture on the points' extent across the view, not on their 3D box.
    across = (points - center) @ np.stack([right, up], axis=1)
    target = center + right * (across[:, 0].min() + across[:, 0].max()) / 2 + up * (across[:, 1].min() + across[:, 1].max()) / 2
    tan_v = math.tan(math.radians(fov_degrees) / 2.0)
    tan_h = tan_v * aspect
    extent = float(np.ptp(points, axis=0).max())
    for attempt in range(_ATTEMPTS):
        relative = points - target
        x, y, z = relative @ right, relative @ up, relative @ back
        # A point at depth (distance - z) is inside when |x| <= (distance - z) * tan_h, likewise for y.
        distance = max(float(np.maximum(z + np.abs(x) / tan_h, z + np.abs(y) / tan_v).max()) * margin,
                       extent * 1e-3, 1e-6)
        if attempt == _ATTEMPTS - 1:
            break
        # Perspective draws near points larger: re-centre on what the picture shows, then fit again.
        depth = np.maximum(distance - z, distance * 1e-3)
        u, v = x / depth, y / depth
        target = target + (right * (u.min() + u.max()) + up * (v.min() + v.max())) / 2 * distance
    return target, distance


def filmed_view(start: dict, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """``(position, target, up, fov_degrees)`` of a camera where a result was filmed from:
    ``start`` is a GLB camera as ``openstrate_nb.mesh.load_glb`` reads it (OpenCV axes). The
    orbit's target lies along the view at ``target_distance`` (the median depth it saw), or
    where the points' middle is along it."""
    pose = np.asarray(start["world_from_camera"], dtype=float)
    position, forward, up = pose[:3, 3], pose[:3, 2], -pose[:3, 1]
    distance = start.get("target_distance")
    if not distance:
        middle = np.median(np.asarray(points, dtype=float).reshape(-1, 3), axis=0) if len(points) else position + forward
        distance = max(float((middle - position) @ forward), 1e-6)
    return position, position + forward * float(distance), up, math.degrees(float(start["yfov"]))
