"""PNG previews without an OpenGL context, so a headless server can make them.

Meshes are drawn by splatting points sampled on their faces into a z-buffer, shaded by
the face normal against a light over the viewer's shoulder: enough for a thumbnail, and
pure numpy. Videos get their first frame.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from scipy import ndimage

__all__ = ["render_preview", "render_mesh_png", "PREVIEW_SIZE"]

PREVIEW_SIZE = (640, 480)
_SAMPLES = 300_000
_FOOTPRINT = ((0, 0), (1, 0), (0, 1), (1, 1))


def render_preview(path: Path, ext: str) -> bytes:
    if ext in ("glb", "ply", "stl"):
        import trimesh

        loaded = trimesh.load(path, file_type=ext, force="mesh", process=False)
        return render_mesh_png(loaded)
    return _video_frame_png(path)


def _png(rgb: np.ndarray) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="PNG", optimize=True)
    return out.getvalue()


def _look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    forward = target - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    true_up = np.cross(right, forward)
    return np.stack([right, true_up, -forward])  # rows: camera x, y, z (looking down -z)


def render_mesh_png(mesh, size: tuple[int, int] = PREVIEW_SIZE) -> bytes:
    """A 3/4 view of ``mesh`` (a trimesh.Trimesh, y-up) as PNG bytes."""
    width, height = size
    image = np.full((height, width, 3), 236, np.uint8)
    if len(mesh.faces) == 0:
        return _png(image)
    points, face_index = mesh.sample(_SAMPLES, return_index=True)
    normals = mesh.face_normals[face_index]
    colors = _face_colors(mesh)[face_index]

    center = mesh.bounds.mean(axis=0)
    radius = float(np.linalg.norm(mesh.extents)) / 2 or 1.0
    direction = np.array([1.0, 0.8, 1.4])
    direction /= np.linalg.norm(direction)
    eye = center + direction * radius * 2.6
    rotation = _look_at(eye, center, np.array([0.0, 1.0, 0.0]))
    cam = (points - eye) @ rotation.T
    depth = -cam[:, 2]
    focal = 0.5 * height / np.tan(np.radians(25))
    visible = depth > 1e-6
    u = np.round(width / 2 + focal * cam[:, 0] / np.where(visible, depth, 1)).astype(np.int64)
    v = np.round(height / 2 - focal * cam[:, 1] / np.where(visible, depth, 1)).astype(np.int64)
    inside = visible & (u >= 0) & (u < width) & (v >= 0) & (v < height)

    light = rotation.T @ np.array([0.3, 0.5, 1.0]) / np.linalg.norm([0.3, 0.5, 1.0])
    shade = 0.35 + 0.65 * np.abs(normals @ light)  # faces seen from behind are lit too
    shaded = np.clip(colors[:, :3] * shade[:, None], 0, 255).astype(np.uint8)

    u, v, depth, shaded = u[inside], v[inside], depth[inside], shaded[inside]
    # A depth buffer with each point covering a 2x2 footprint, then, per pixel, only points
    # near the closest surface in the neighbourhood: far surfaces must not show through
    # the gaps between the near surface's samples.
    zbuf = np.full((height, width), np.inf)
    for du, dv in _FOOTPRINT:
        np.minimum.at(zbuf, (np.clip(v + dv, 0, height - 1), np.clip(u + du, 0, width - 1)), depth)
    near = depth <= ndimage.minimum_filter(zbuf, size=5)[v, u] + 0.03 * radius
    order = np.argsort(-depth[near])
    u, v, shaded = u[near][order], v[near][order], shaded[near][order]
    drawn = np.zeros((height, width), bool)
    for du, dv in _FOOTPRINT:
        uu, vv = np.clip(u + du, 0, width - 1), np.clip(v + dv, 0, height - 1)
        image[vv, uu] = shaded
        drawn[vv, uu] = True
    _fill_pinholes(image, drawn)
    return _png(image)


def _fill_pinholes(image: np.ndarray, drawn: np.ndarray) -> None:
    """Give undrawn pixels surrounded by drawn ones their neighbours' mean colour."""
    kernel = np.ones((3, 3))
    for _ in range(2):
        count = ndimage.convolve(drawn.astype(float), kernel, mode="constant")
        holes = ~drawn & (count >= 5)
        if not holes.any():
            return
        for channel in range(3):
            total = ndimage.convolve(np.where(drawn, image[..., channel], 0).astype(float), kernel, mode="constant")
            image[..., channel][holes] = (total[holes] / count[holes]).astype(np.uint8)
        drawn |= holes


def _face_colors(mesh) -> np.ndarray:
    visual = mesh.visual
    try:
        if visual.kind == "vertex":
            return visual.vertex_colors[mesh.faces].mean(axis=1)
        if visual.kind == "face":
            return visual.face_colors.astype(float)
        if visual.kind == "texture":
            return visual.to_color().vertex_colors[mesh.faces].mean(axis=1)
    except (AttributeError, IndexError, ValueError):
        pass
    return np.full((len(mesh.faces), 4), (178, 184, 194, 255), float)


def _video_frame_png(path: Path) -> bytes:
    import av

    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            image = frame.to_image()
            image.thumbnail(PREVIEW_SIZE)
            out = io.BytesIO()
            image.save(out, format="PNG")
            return out.getvalue()
    raise ValueError("the video has no frames")
