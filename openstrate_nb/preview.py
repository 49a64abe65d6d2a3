"""A still picture of a mesh, drawn with numpy alone.

What a notebook shows where no kernel and no widget run (GitHub, nbviewer, a notebook
executed by nbconvert or papermill): the result as a PNG beside the live widget. No GPU,
no OpenGL, no browser: a z-buffer over the display mesh's triangles, flat-shaded by a
light at the camera, on a transparent background so it reads on light and dark pages.

    preview_png(mesh)          # PNG bytes, 480 x 320
    preview_image(mesh)        # the same picture as an (H, W, 4) uint8 RGBA array
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

import numpy as np

from ._framing import DEFAULT_DIRECTION, camera_basis, framed_view
from ._look import PLAIN_MESH_COLOR, rgb

if TYPE_CHECKING:  # pragma: no cover
    import trimesh

__all__ = ["picture_of", "png_bytes", "preview_image", "preview_png", "render_shaded", "render_through_camera",
           "sample_bilinear"]

#: Drawn at this many times the size, then averaged down: smooth edges without a GPU.
SUPERSAMPLE = 2
_FOV_DEGREES = 45.0
_PLAIN_GREY = np.array(rgb(PLAIN_MESH_COLOR))
# Candidate pixels looked at per batch: bounds memory to about 100 MB whatever the mesh.
_BATCH_PIXELS = 1_000_000


def preview_image(mesh: trimesh.Trimesh, *, width: int = 480, height: int = 320,
                  max_faces: int | None = None) -> np.ndarray:
    """The mesh seen from the viewers' default direction, framed to fill ``width`` x ``height``."""
    from .mesh import DEFAULT_MAX_FACES, display_arrays

    arrays = display_arrays(mesh, DEFAULT_MAX_FACES if max_faces is None else max_faces)
    return picture_of(arrays, width=width, height=height)


def picture_of(arrays: dict, *, width: int = 480, height: int = 320) -> np.ndarray:
    """The still picture of ``display_arrays``: from where the video was filmed, in its
    captured colours (texture or vertex colours, unlit) when the result says where; else
    from the default direction, shaded."""
    start = arrays.get("filmed_from")
    faces = arrays["index"].reshape(-1, 3)
    if start is None or ("uv" not in arrays and "colors" not in arrays):
        return render_shaded(arrays["positions"], faces, arrays.get("colors"), width=width, height=height)
    big_w, big_h = width * SUPERSAMPLE, height * SUPERSAMPLE
    K, pose = filmed_camera(start, arrays["positions"], big_w, big_h)
    uv = arrays.get("uv")
    if uv is not None:
        uv = np.column_stack([uv[:, 0], 1.0 - uv[:, 1]])  # trimesh's bottom-left origin to glTF's top-left
    rgb, covered = render_through_camera(arrays["positions"], faces, K, pose, big_w, big_h,
                                         colors=arrays.get("colors"), uv=uv, texture=arrays.get("texture"))
    blocks = np.concatenate([rgb, covered[..., None].astype(float)], axis=-1).reshape(height, SUPERSAMPLE, width,
                                                                                       SUPERSAMPLE, 4)
    alpha = blocks[..., 3].mean(axis=(1, 3))
    colour = (blocks[..., :3] * blocks[..., 3:]).mean(axis=(1, 3)) / np.maximum(alpha, 1e-9)[..., None]
    return np.clip(np.rint(np.concatenate([colour, alpha[..., None]], axis=-1) * 255.0), 0, 255).astype(np.uint8)


def filmed_camera(start: dict, positions: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """``(K, world_from_camera)`` of a ``width`` x ``height`` picture from where a result was
    filmed (``load_glb``'s ``filmed_from``): the keyframe's pose and vertical field of view,
    for :func:`render_through_camera`."""
    from ._framing import filmed_view

    position, target, up, fov = filmed_view(start, positions)
    forward = (target - position) / np.linalg.norm(target - position)
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, np.cross(forward, right), forward, position
    focal = (height / 2.0) / math.tan(math.radians(fov) / 2.0)
    K = np.array([[focal, 0, width / 2.0 - 0.5], [0, focal, height / 2.0 - 0.5], [0, 0, 1]])
    return K, pose


def preview_png(mesh: trimesh.Trimesh, *, width: int = 480, height: int = 320) -> bytes:
    """``preview_image`` encoded as PNG bytes (for ``image/png`` in a notebook output)."""
    return png_bytes(preview_image(mesh, width=width, height=height))


def png_bytes(rgba: np.ndarray, *, colours: int | None = None) -> bytes:
    """An (H, W, 4) uint8 picture as PNG bytes; with ``colours``, in a palette of that many
    (a photo-textured picture is a fifth of the bytes in 256, and looks the same at its size)."""
    from PIL import Image

    buffer = io.BytesIO()
    picture = Image.fromarray(np.ascontiguousarray(rgba, dtype=np.uint8))
    if colours is not None:
        picture = picture.quantize(colours, method=Image.Quantize.FASTOCTREE)
    picture.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def render_shaded(positions: np.ndarray, faces: np.ndarray, colors: np.ndarray | None = None, *,
                  width: int, height: int, direction=DEFAULT_DIRECTION) -> np.ndarray:
    """An RGBA picture of triangles ``faces`` over ``positions`` (RGB ``colors`` 0..1 per vertex
    or none), each face flat-shaded, the nearest face winning every pixel."""
    positions = np.asarray(positions, dtype=float).reshape(-1, 3)
    faces = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    big_w, big_h = width * SUPERSAMPLE, height * SUPERSAMPLE
    picture = np.zeros((big_h * big_w, 4))
    if len(faces):
        target, distance = framed_view(positions, direction=direction, fov_degrees=_FOV_DEGREES, aspect=width / height)
        right, up, back = camera_basis(direction)
        relative = positions - target
        depth = distance - relative @ back
        focal = (big_h / 2.0) / math.tan(math.radians(_FOV_DEGREES) / 2.0)
        safe = np.maximum(depth, distance * 1e-3)
        screen_x = big_w / 2.0 + focal * (relative @ right) / safe
        screen_y = big_h / 2.0 - focal * (relative @ up) / safe
        in_front = (depth[faces] > distance * 1e-3).all(axis=1)
        nearest = nearest_face_per_pixel(screen_x, screen_y, depth, faces[in_front], big_w, big_h)
        covered = nearest >= 0
        shade = _face_colors(positions, faces[in_front], colors, light=back + 0.35 * up - 0.25 * right)
        picture[covered, :3] = shade[nearest[covered]]
        picture[covered, 3] = 1.0
    # Average each SUPERSAMPLE x SUPERSAMPLE block, weighting colour by coverage (no dark fringes).
    blocks = picture.reshape(height, SUPERSAMPLE, width, SUPERSAMPLE, 4)
    alpha = blocks[..., 3].mean(axis=(1, 3))
    rgb = (blocks[..., :3] * blocks[..., 3:]).mean(axis=(1, 3)) / np.maximum(alpha, 1e-9)[..., None]
    out = np.concatenate([rgb, alpha[..., None]], axis=-1)
    return np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8)


def _face_colors(positions: np.ndarray, faces: np.ndarray, colors: np.ndarray | None, light: np.ndarray) -> np.ndarray:
    """Each face's colour (its vertices' mean, or grey) lit by ``light``, both sides alike."""
    corners = positions[faces]
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-30)
    light = light / np.linalg.norm(light)
    intensity = 0.35 + 0.65 * np.abs(normals @ light)
    base = np.asarray(colors, dtype=float)[faces].mean(axis=1) if colors is not None else _PLAIN_GREY
    return np.clip(base * intensity[:, None], 0.0, 1.0)


def nearest_face_per_pixel(screen_x: np.ndarray, screen_y: np.ndarray, depth: np.ndarray, faces: np.ndarray,
                           width: int, height: int) -> np.ndarray:
    """For each pixel (row-major, ``height * width``), the index of the nearest face covering
    its centre, or -1: a z-buffer, batched over the faces' bounding boxes."""
    best_depth = np.full(width * height, np.inf)
    best_face = np.full(width * height, -1, dtype=np.int64)
    xs, ys, zs = screen_x[faces], screen_y[faces], depth[faces]
    doubled_area = (xs[:, 1] - xs[:, 0]) * (ys[:, 2] - ys[:, 0]) - (xs[:, 2] - xs[:, 0]) * (ys[:, 1] - ys[:, 0])
    # Pixel centres sit at +0.5: a face covers pixel column c when c + 0.5 lies in its span.
    left = np.clip(np.ceil(xs.min(axis=1) - 0.5), 0, width).astype(np.int64)
    right = np.clip(np.floor(xs.max(axis=1) - 0.5), -1, width - 1).astype(np.int64)
    top = np.clip(np.ceil(ys.min(axis=1) - 0.5), 0, height).astype(np.int64)
    bottom = np.clip(np.floor(ys.max(axis=1) - 0.5), -1, height - 1).astype(np.int64)
    spans_w, spans_h = right - left + 1, bottom - top + 1
    drawn = np.flatnonzero((spans_w > 0) & (spans_h > 0) & (np.abs(doubled_area) > 1e-12))
    counts = spans_w[drawn] * spans_h[drawn]
    ends = np.cumsum(counts)
    start = 0
    while start < len(drawn):
        stop = max(int(np.searchsorted(ends, (ends[start - 1] if start else 0) + _BATCH_PIXELS, side="right")), start + 1)
        _draw_batch(drawn[start:stop], counts[start:stop], xs, ys, zs, doubled_area, left, top, spans_w,
                    width, best_depth, best_face)
        start = stop
    return best_face


def _draw_batch(batch: np.ndarray, counts: np.ndarray, xs, ys, zs, doubled_area, left, top, spans_w, width: int,
                best_depth: np.ndarray, best_face: np.ndarray) -> None:
    face = np.repeat(batch, counts)
    offset = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    px = left[face] + offset % spans_w[face]
    py = top[face] + offset // spans_w[face]
    cx, cy = px + 0.5, py + 0.5
    x0, x1, x2 = xs[face].T
    y0, y1, y2 = ys[face].T
    area = doubled_area[face]
    w0 = ((x1 - cx) * (y2 - cy) - (x2 - cx) * (y1 - cy)) / area
    w1 = ((x2 - cx) * (y0 - cy) - (x0 - cx) * (y2 - cy)) / area
    w2 = 1.0 - w0 - w1
    inside = (w0 >= 0) & (w1 >= 0) & (w2 >= 0)
    z = (w0 * zs[face, 0] + w1 * zs[face, 1] + w2 * zs[face, 2])[inside]
    pixel = (py * width + px)[inside]
    face = face[inside]
    order = np.lexsort((z, pixel))
    pixel, first = np.unique(pixel[order], return_index=True)
    z, face = z[order][first], face[order][first]
    nearer = z < best_depth[pixel]
    best_depth[pixel[nearer]] = z[nearer]
    best_face[pixel[nearer]] = face[nearer]


def render_through_camera(positions: np.ndarray, faces: np.ndarray, K: np.ndarray, world_from_camera: np.ndarray,
                          width: int, height: int, *, colors: np.ndarray | None = None, uv: np.ndarray | None = None,
                          texture: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The mesh as a pinhole camera sees it, unlit: ``(rgb, covered)``, an (H, W, 3) float
    picture in 0..1 and where the mesh covers it.

    ``K`` in the pixel-centre convention, ``world_from_camera`` with OpenCV's axes (x right,
    y down, z forward): a keyframe's camera from ``cameras.json`` draws the mesh where that
    frame shows it. Colours are interpolated per pixel (perspective-correct): vertex
    ``colors`` (RGB 0..1), or ``texture`` (H, W, 3 uint8) sampled bilinearly at ``uv``
    (glTF's convention: (0, 0) at the texture's top-left).
    """
    positions = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    faces = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    pose = np.asarray(world_from_camera, dtype=np.float64)
    cam = (positions - pose[:3, 3]) @ pose[:3, :3]
    z = cam[:, 2]
    near = 1e-6 * max(float(np.abs(z).max()) if len(z) else 1.0, 1e-12)
    safe = np.maximum(z, near)
    # nearest_face_per_pixel puts pixel c's centre at c + 0.5.
    sx = K[0, 0] * cam[:, 0] / safe + K[0, 2] + 0.5
    sy = K[1, 1] * cam[:, 1] / safe + K[1, 2] + 0.5
    front = np.flatnonzero((z[faces] > near).all(axis=1))
    nearest = nearest_face_per_pixel(sx, sy, z, faces[front], width, height)
    covered = nearest >= 0
    picture = np.zeros((width * height, 3))
    pixel = np.flatnonzero(covered)
    if len(pixel):
        f = faces[front[nearest[pixel]]]
        cx, cy = pixel % width + 0.5, pixel // width + 0.5
        x0, x1, x2 = sx[f].T
        y0, y1, y2 = sy[f].T
        area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
        b0 = ((x1 - cx) * (y2 - cy) - (x2 - cx) * (y1 - cy)) / area
        b1 = ((x2 - cx) * (y0 - cy) - (x0 - cx) * (y2 - cy)) / area
        weights = np.stack([b0, b1, 1.0 - b0 - b1], axis=1) / z[f]  # perspective-correct
        weights /= weights.sum(axis=1, keepdims=True)
        if texture is not None and uv is not None:
            at = np.einsum("pk,pkc->pc", weights, np.asarray(uv, dtype=np.float64)[f])
            picture[pixel] = sample_bilinear(texture, at) / 255.0
        elif colors is not None:
            picture[pixel] = np.einsum("pk,pkc->pc", weights, np.asarray(colors, dtype=np.float64)[f][..., :3])
        else:
            picture[pixel] = _PLAIN_GREY
    return picture.reshape(height, width, 3), covered.reshape(height, width)


def sample_bilinear(image: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """``image`` (H, W, C) at texture coordinates ``uv`` (glTF's: (0, 0) the top-left corner,
    (1, 1) the bottom-right), bilinear, clamped at the border, as floats."""
    h, w = image.shape[:2]
    x = np.clip(uv[:, 0] * w - 0.5, 0, w - 1)
    y = np.clip(uv[:, 1] * h - 0.5, 0, h - 1)
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    img = np.asarray(image, dtype=np.float64)
    top = img[y0, x0] * (1 - fx) + img[y0, x1] * fx
    bottom = img[y1, x0] * (1 - fx) + img[y1, x1] * fx
    return top * (1 - fy) + bottom * fy
