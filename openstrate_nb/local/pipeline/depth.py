"""Dense depth from several neighbouring views: plane sweep with windowed NCC, then a
multi-view geometric check.

Why not two-view rectified stereo: real footage rarely moves sideways between two chosen
frames. An orbit turns around the subject, a walk moves forward, photo sets have wide and
uneven baselines; rectifying such pairs distorts the images or is impossible. A plane sweep
needs no rectification: for each depth hypothesis the neighbours are warped into the
reference view through the homography of a fronto-parallel plane, and an NCC-like score of
locally normalised windows (insensitive to exposure changes between frames) says how well
they agree.
Each pixel keeps the best-scoring depth over the best ``k`` of its neighbours, so a surface
hidden in one neighbour is still found in another. (COLMAP's PatchMatch stereo does the same
with slanted planes, but only on CUDA.) What survives a score threshold is then checked
against the other views' depth maps: wrong matches rarely agree across views, surfaces do.

Cameras here are pinhole with the pixel-centre convention (OpenCV's), images undistorted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class DepthView:
    depth: np.ndarray  # (h, w) float32 z-depth, 0 where unknown
    score: np.ndarray  # (h, w) float32 NCC of the chosen depth (-1..1)
    rgb: np.ndarray  # (h, w, 3) uint8 undistorted image
    K: np.ndarray  # 3x3 pinhole intrinsics, pixel-centre convention
    world_from_camera: np.ndarray  # 4x4
    key: int  # which registered keyframe the view belongs to
    sources: tuple[int, ...] = ()  # the keyframes it was matched against


@dataclass
class SweepImage:
    """One undistorted view prepared for matching."""

    grey: np.ndarray  # (h, w) float32 0..1
    rgb: np.ndarray  # (h, w, 3) uint8
    K: np.ndarray  # pixel-centre pinhole
    world_from_camera: np.ndarray


def prepare_view(rgb: np.ndarray, K_colmap: np.ndarray, dist: np.ndarray, world_from_camera: np.ndarray,
                 long_side: int) -> SweepImage:
    """Downscale to ``long_side`` and undistort; ``K_colmap`` uses COLMAP's pixel-corner convention."""
    import cv2

    h, w = rgb.shape[:2]
    s = min(1.0, long_side / max(h, w))
    size = (max(8, round(w * s)), max(8, round(h * s)))
    if size != (w, h):
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    K = K_colmap.astype(np.float64).copy()
    K[:2, 2] -= 0.5  # pixel-corner (COLMAP) to pixel-centre (OpenCV) origin
    K = scale_intrinsics(K, size[0] / w, size[1] / h)
    d5 = np.zeros(5)
    d5[: min(5, len(dist))] = dist[:5]
    if np.any(d5 != 0):
        rgb = cv2.undistort(rgb, K, d5)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    return SweepImage(grey, rgb, K, np.asarray(world_from_camera, np.float64))


def scale_intrinsics(K: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """Pixel-centre intrinsics of the image resized by ``sx`` and ``sy``."""
    out = K.astype(np.float64).copy()
    out[0, 0] *= sx
    out[1, 1] *= sy
    out[0, 2] = (K[0, 2] + 0.5) * sx - 0.5
    out[1, 2] = (K[1, 2] + 0.5) * sy - 0.5
    return out


def neighbour_views(ref: int, centres: np.ndarray, points: np.ndarray, point_views: list[np.ndarray],
                    count: int = 4, ideal_angle: float = 8.0) -> list[int]:
    """The ``count`` views that best complement ``ref`` for matching.

    Each sparse point a view shares with ``ref`` adds a weight that peaks when the two viewing
    rays meet at ``ideal_angle`` degrees (MVSNet's view score: enough parallax for precise
    depth, little enough that the views still look alike). Views are picked greedily and a
    point counts for less each time an already picked view covers it, so the neighbours
    cover the whole picture: a walk round a courtyard needs one on each side, not four on
    one. Views sharing no points fall back to the nearest cameras.
    """
    seen_ref = point_views[ref]
    weights: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # view -> (positions in seen_ref, weights)
    if seen_ref.size:
        for j in range(len(centres)):
            if j == ref or point_views[j].size == 0:
                continue
            shared, at, _ = np.intersect1d(seen_ref, point_views[j], return_indices=True)
            if shared.size == 0:
                continue
            a = points[shared] - centres[ref]
            b = points[shared] - centres[j]
            cos = np.einsum("ij,ij->i", a, b) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)
            ang = np.degrees(np.arccos(np.clip(cos, -1, 1)))
            sigma = np.where(ang <= ideal_angle, 1.0, 10.0) * (ideal_angle / 5.0)
            w = np.exp(-((ang - ideal_angle) ** 2) / (2 * sigma**2))
            w[ang < 0.5] = 0  # no parallax: no depth
            if w.sum() > 0:
                weights[j] = (at, w)
    covered = np.zeros(seen_ref.size)
    order: list[int] = []
    while weights and len(order) < count:
        gain = {j: float((w * 0.5 ** covered[at]).sum()) for j, (at, w) in weights.items()}
        best = max(sorted(gain), key=lambda j: gain[j])
        order.append(best)
        covered[weights.pop(best)[0]] += 1
    if len(order) < min(count, len(centres) - 1):
        near = np.argsort(np.linalg.norm(centres - centres[ref], axis=1), kind="stable")
        order += [int(j) for j in near if j != ref and j not in order][: count - len(order)]
    return [int(j) for j in order]


def depth_range(view: SweepImage, points: np.ndarray, seen: np.ndarray) -> tuple[float, float] | None:
    """Near and far bounds of the sweep from the sparse points the view observes."""
    pts = points[seen] if seen.size >= 10 else points
    cam = (pts - view.world_from_camera[:3, 3]) @ view.world_from_camera[:3, :3]
    z = cam[:, 2][cam[:, 2] > 0]
    if z.size < 5:
        return None
    lo, hi = np.percentile(z, [2, 98])
    return float(lo) * 0.75, float(hi) * 1.35


FRONTO = np.array([0.0, 0.0, 1.0])


@dataclass
class Sweep:
    """Planes ``normal . X = d`` in the reference camera's axes, ``d`` from ``near`` to ``far``
    spaced evenly in ``1/d`` (for the fronto-parallel normal, ``d`` is the depth)."""

    normal: np.ndarray
    near: float
    far: float
    planes: int


def _plane_homographies(ref, src, inv_offsets: np.ndarray, normal: np.ndarray = FRONTO) -> np.ndarray:
    """(n, 3, 3): source pixel from reference pixel for the planes ``normal . X = 1 / q``."""
    src_from_ref = np.linalg.inv(src.world_from_camera) @ ref.world_from_camera
    R, t = src_from_ref[:3, :3], src_from_ref[:3, 3]
    Kr_inv = np.linalg.inv(ref.K)
    # A point X on the plane n.X = d satisfies n.X / d = 1, so X_src = (R + t n^T / d) X.
    Hs = (R[None] + inv_offsets[:, None, None] * np.outer(t, normal)[None])
    return src.K[None] @ Hs @ Kr_inv[None]


def sweep_for(ref: SweepImage, srcs: list[SweepImage], near: float, far: float, normal: np.ndarray = FRONTO,
              step_px: float = 1.0, lo: int = 24, hi: int = 160) -> Sweep:
    """A sweep whose neighbouring planes move the image at most ``step_px`` in the neighbour
    with the widest baseline (probed at the centre and the middle of the top and bottom rows)."""
    h, w = ref.grey.shape
    probes = np.array([[(w - 1) / 2, (h - 1) / 2, 1.0], [(w - 1) / 2, 0.9 * (h - 1), 1.0],
                       [(w - 1) / 2, 0.1 * (h - 1), 1.0]])
    widest = 0.0
    for src in srcs:
        a, b = _plane_homographies(ref, src, np.array([1.0 / near, 1.0 / far]), normal)
        for p in probes:
            pa, pb = a @ p, b @ p
            if pa[2] > 0 and pb[2] > 0:
                widest = max(widest, float(np.linalg.norm(pa[:2] / pa[2] - pb[:2] / pb[2])))
    return Sweep(np.asarray(normal, float), near, far, int(np.clip(np.ceil(widest / step_px), lo, hi)))


def sweep_count(ref: SweepImage, srcs: list[SweepImage], near: float, far: float, step_px: float = 1.0,
                lo: int = 24, hi: int = 160) -> int:
    """Fronto-parallel planes needed between depths ``near`` and ``far`` (see :func:`sweep_for`)."""
    return sweep_for(ref, srcs, near, far, FRONTO, step_px, lo, hi).planes


def plane_offsets(view: SweepImage, points: np.ndarray, plane: tuple[np.ndarray, float],
                  tolerance: float) -> tuple[np.ndarray, float, float] | None:
    """A second sweep direction for ``view``: planes parallel to ``plane`` (world ``n . X + c =
    0``, a floor or the ground), as a normal in the view's axes pointing away from the camera
    and offsets 15% either side of the plane's; ``None`` when fewer than a tenth of the sparse
    ``points`` the view sees lie within ``tolerance`` of the plane."""
    normal, c = plane
    if points.size == 0 or (np.abs(points @ normal + c) < tolerance).mean() < 0.1:
        return None
    R, centre = view.world_from_camera[:3, :3], view.world_from_camera[:3, 3]
    n = R.T @ normal
    level = -(normal @ centre + c)  # n . X_cam = level for points of the plane
    if abs(level) < 1e-9:
        return None
    if level < 0:
        n, level = -n, -level
    return n, level * 0.85, level * 1.15


#: Warped pixels outside a neighbour's image take this normalised value: any window that
#: touches one scores far below every real match.
_OUTSIDE = 8.0


def normalise(grey: np.ndarray, window: int, min_texture: float) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel minus its window's mean, over the window's standard deviation, and where
    the window has texture at all.

    Matching these by squared difference is nearly NCC (for two windows normalised alike,
    mean squared difference = 2 - 2 NCC) and insensitive to exposure changes between frames,
    yet it costs a third of NCC's per-hypothesis work: the window statistics of every image
    are computed once, not once per warp.
    """
    import cv2

    box = (window, window)
    mean = cv2.boxFilter(grey, -1, box)
    var = cv2.boxFilter(cv2.multiply(grey, grey), -1, box) - cv2.multiply(mean, mean)
    textured = var > min_texture**2
    sd = cv2.sqrt(cv2.max(var, min_texture**2))
    return cv2.divide(cv2.subtract(grey, mean), sd), textured


class _BestOf:
    """Running mean of the ``k`` best (k = 1 or 2) of several score maps, without sorting."""

    def __init__(self, k: int, shape):
        self.k = k
        self.first = np.full(shape, -np.inf, np.float32)
        self.second = np.full(shape, -np.inf, np.float32)

    def add(self, score: np.ndarray) -> None:
        if self.k > 1:
            np.maximum(self.second, np.minimum(self.first, score), out=self.second)
        np.maximum(self.first, score, out=self.first)

    def value(self) -> np.ndarray:
        return self.first if self.k == 1 else 0.5 * (self.first + self.second)


def _score(ref_norm: np.ndarray, warped: np.ndarray, box: tuple[int, int]) -> np.ndarray:
    """NCC-like agreement of normalised windows: 1 - mean squared difference / 2."""
    import cv2

    diff = cv2.subtract(ref_norm, warped)
    return 1.0 - 0.5 * cv2.boxFilter(cv2.multiply(diff, diff), -1, box)


def _sweep_volume(ref: _Level, srcs: list[_Level], inv: np.ndarray, best_of: int,
                  normal: np.ndarray = FRONTO) -> np.ndarray:
    """(planes, h, w) scores of the planes ``normal . X = 1 / q`` for q in ``inv``."""
    import cv2

    h, w = ref.norm.shape
    homs = [_plane_homographies(ref, s, inv, normal) for s in srcs]
    volume = np.empty((len(inv), h, w), np.float32)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    for p in range(len(inv)):
        best = _BestOf(min(best_of, len(srcs)), (h, w))
        for src, H in zip(srcs, homs):
            warped = cv2.warpPerspective(src.norm, H[p], (w, h), flags=flags, borderMode=cv2.BORDER_CONSTANT,
                                         borderValue=_OUTSIDE)
            best.add(_score(ref.norm, warped, ref.box))
        volume[p] = best.value()
    return volume


def _parabola_peak(volume: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index of the best hypothesis per pixel with sub-step offset (-0.5..0.5), its score,
    and whether it is an interior maximum (not at either end of the range)."""
    n, h, w = volume.shape
    best = np.argmax(volume, axis=0)
    rows, cols = np.indices((h, w))
    score = volume[best, rows, cols]
    s0 = volume[np.maximum(best - 1, 0), rows, cols]
    s2 = volume[np.minimum(best + 1, n - 1), rows, cols]
    interior = (best > 0) & (best < n - 1)
    denom = s0 - 2 * score + s2
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.where(interior & (denom < -1e-6), 0.5 * (s0 - s2) / denom, 0.0)
    return best + np.clip(offset, -0.5, 0.5), score, interior


def _pixel_rays(K: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    ys, xs = np.indices((h, w), dtype=np.float64)
    pix = np.stack([xs.ravel(), ys.ravel(), np.ones(h * w)])
    return np.linalg.inv(K) @ pix  # (3, h*w) rays with z = 1


def _refine(ref: _Level, srcs: list[_Level], inv0: np.ndarray, step: np.ndarray, offsets: np.ndarray,
            best_of: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-pixel hypotheses ``inv0 + k * step`` (inverse depths; ``step`` per pixel) for k in
    ``offsets``: best inverse depth, its score and whether the peak was interior."""
    import cv2

    h, w = ref.norm.shape
    rays = _pixel_rays(ref.K, (h, w))
    flat_inv = inv0.ravel().astype(np.float64)
    flat_step = np.broadcast_to(step, inv0.shape).ravel().astype(np.float64)
    proj = []
    for src in srcs:
        # A reference pixel at inverse depth q lands at K_s (R ray + t q) in the neighbour: the
        # first hypothesis costs a matrix product, each further one a step along K_s t.
        src_from_ref = np.linalg.inv(src.world_from_camera) @ ref.world_from_camera
        along = src.K @ src_from_ref[:3, 3]
        start = src.K @ src_from_ref[:3, :3] @ rays + along[:, None] * (flat_inv + offsets[0] * flat_step)[None, :]
        proj.append((start.astype(np.float32), (along[:, None] * flat_step[None, :]).astype(np.float32)))
    volume = np.empty((len(offsets), h, w), np.float32)
    for i, k in enumerate(offsets):
        best = _BestOf(min(best_of, len(srcs)), (h, w))
        for src, (start, delta) in zip(srcs, proj):
            X = start + np.float32(k - offsets[0]) * delta
            behind = X[2] <= 1e-6
            X[2][behind] = 1.0
            mx = (X[0] / X[2]).reshape(h, w)
            my = (X[1] / X[2]).reshape(h, w)
            mx[behind.reshape(h, w)] = -1e4  # behind the neighbour: outside
            warped = cv2.remap(src.norm, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                               borderValue=_OUTSIDE)
            best.add(_score(ref.norm, warped, ref.box))
        volume[i] = best.value()
    pos, score, interior = _parabola_peak(volume)
    inv_best = inv0 + (offsets[0] + pos * (offsets[1] - offsets[0])) * step
    return inv_best, score, interior


@dataclass
class _Level:
    """One view at one resolution, normalised for matching."""

    norm: np.ndarray
    textured: np.ndarray
    K: np.ndarray
    world_from_camera: np.ndarray
    box: tuple[int, int]


def _level(view: SweepImage, window: int, min_texture: float, scale: float = 1.0) -> _Level:
    import cv2

    grey, K = view.grey, view.K
    if scale != 1.0:
        h, w = grey.shape
        size = (max(8, round(w * scale)), max(8, round(h * scale)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        K = scale_intrinsics(K, size[0] / w, size[1] / h)
    norm, textured = normalise(grey, window, min_texture)
    return _Level(norm, textured, K, view.world_from_camera, (window, window))


def plane_sweep(ref: SweepImage, srcs: list[SweepImage], near: float, far: float, planes: int,
                window: int = 7, best_of: int = 2, min_texture: float = 0.006,
                extra: tuple[Sweep, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Depth and NCC-like score per reference pixel (depth 0 where nothing matched).

    Hypotheses are spaced evenly in inverse depth (evenly in image motion). The score of a
    hypothesis is the mean over its ``best_of`` best neighbours. The sweep runs at half
    resolution (a quarter of the pixels and half the planes) and each pixel then
    tries a few hypotheses around its coarse winner at full resolution. ``extra`` sweeps
    planes of other directions too (a floor seen at a grazing angle matches badly as a stack
    of fronto-parallel planes: the window straddles many depths); each pixel keeps the best.
    """
    import cv2

    h, w = ref.grey.shape
    fine = [_level(v, window, min_texture) for v in [ref, *srcs]]
    half = [_level(v, max(3, window - 2), min_texture, 0.5) for v in [ref, *srcs]]
    hc, wc = half[0].norm.shape
    rays = _pixel_rays(half[0].K, (hc, wc))
    best_inv = np.full((hc, wc), np.nan, np.float32)
    best_step = np.zeros((hc, wc), np.float32)
    best_score = np.full((hc, wc), -np.inf, np.float32)
    for sweep in (Sweep(FRONTO, near, far, planes), *extra):
        n_coarse = max(16, sweep.planes // 2)
        q = np.linspace(1.0 / sweep.near, 1.0 / sweep.far, n_coarse)
        volume = _sweep_volume(half[0], half[1:], q, best_of, sweep.normal)
        pos, score, interior = _parabola_peak(volume)
        del volume
        facing = (sweep.normal @ rays).reshape(hc, wc)  # n . ray: inverse depth = q (n . ray)
        step_q = (q[-1] - q[0]) / max(n_coarse - 1, 1)
        inv = (q[0] + pos * step_q) * facing
        better = interior & (score > best_score) & (inv > 0)
        best_inv[better] = inv[better]
        best_step[better] = (abs(step_q) * facing)[better]
        best_score[better] = score[better]
    inv0 = cv2.resize(best_inv, (w, h), interpolation=cv2.INTER_NEAREST)
    step0 = cv2.resize(best_step, (w, h), interpolation=cv2.INTER_NEAREST)
    valid0 = np.isfinite(inv0)
    inv0 = np.where(valid0, inv0, (1.0 / near + 1.0 / far) / 2).astype(np.float32)
    step0 = np.where(valid0, step0, abs(1.0 / near - 1.0 / far) / max(planes, 1)).astype(np.float32)
    # Fine steps of a quarter of a coarse step (about half a pixel at full resolution),
    # reaching a coarse step either way (the coarse winner is already parabola-refined).
    offsets = np.arange(-4, 5, dtype=np.float64)
    inv_best, score, interior = _refine(fine[0], fine[1:], inv0, step0 / 4, offsets, best_of)
    ok = valid0 & interior & fine[0].textured & (inv_best > 0)
    depth = np.where(ok, 1.0 / np.maximum(inv_best, 1e-12), 0).astype(np.float32)
    return depth, np.where(ok, score, -1).astype(np.float32)


def fill_planar_holes(depth: np.ndarray, max_share: float = 0.25, min_area: int = 20,
                      tolerance: float = 0.01) -> int:
    """Fill holes that lie inside one plane (in place); returns the pixels filled.

    Matching finds nothing inside a patch of one colour (a white wall, a painted panel): there
    is nothing to compare. When the depths all round such a hole lie on one plane, the patch
    is almost always part of it, and a plane's inverse depth is affine in pixel coordinates, so
    a least-squares fit of ``1/z = a u + b v + c`` to the hole's rim that fits within
    ``tolerance`` (relative) fills it. Holes at an object's edge have a rim on two surfaces and
    fit no plane; holes touching the image border have no full rim; both stay empty. What is
    filled is still checked against the other views afterwards.
    """
    import cv2

    h, w = depth.shape
    empty = (depth <= 0).astype(np.uint8)
    count, labels, boxes, _ = cv2.connectedComponentsWithStats(empty, connectivity=4)
    filled = 0
    kernel = np.ones((5, 5), np.uint8)
    for k in range(1, count):
        x, y, bw, bh, area = boxes[k]
        if area < min_area or area > max_share * h * w or x < 2 or y < 2 or x + bw > w - 2 or y + bh > h - 2:
            continue  # too small to matter, too large to guess, or without a whole rim in the image
        x0, y0, x1, y1 = x - 2, y - 2, x + bw + 2, y + bh + 2
        hole = labels[y0:y1, x0:x1] == k
        rim = (cv2.dilate(hole.astype(np.uint8), kernel) > 0) & ~hole
        patch = depth[y0:y1, x0:x1]
        known = rim & (patch > 0)
        if known.sum() < 0.9 * rim.sum() or known.sum() < 12:
            continue
        vs, us = np.nonzero(known)
        A = np.column_stack([us, vs, np.ones(len(us))]).astype(np.float64)
        inv = 1.0 / patch[vs, us].astype(np.float64)
        coef, *_ = np.linalg.lstsq(A, inv, rcond=None)
        if np.percentile(np.abs(A @ coef - inv) / inv, 90) > tolerance:
            continue
        hv, hu = np.nonzero(hole)
        fit = np.column_stack([hu, hv, np.ones(len(hu))]) @ coef
        if (fit <= 0).any():
            continue
        patch[hv, hu] = (1.0 / fit).astype(np.float32)
        filled += len(hu)
    return filled


def _depth_at(view: DepthView, world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(z of ``world`` points in ``view``'s camera, view's depth there; 0 where unknown).

    Bilinear lookup where all four pixels are measured: slanted floors change depth quickly
    from pixel to pixel, so the nearest pixel would falsely disagree.
    """
    cam_from_world = np.linalg.inv(view.world_from_camera).astype(np.float32)
    pc = world @ cam_from_world[:3, :3].T + cam_from_world[:3, 3]
    z = pc[:, 2]
    hh, ww = view.depth.shape
    with np.errstate(divide="ignore", invalid="ignore"):
        fx = pc[:, 0] / z * view.K[0, 0] + view.K[0, 2]
        fy = pc[:, 1] / z * view.K[1, 1] + view.K[1, 2]
    inside = (z > 1e-6) & (fx >= 0) & (fx < ww - 1) & (fy >= 0) & (fy < hh - 1)
    idx = np.nonzero(inside)[0]
    x0 = fx[idx].astype(np.int64)
    y0 = fy[idx].astype(np.int64)
    ax = fx[idx] - x0
    ay = fy[idx] - y0
    dm = view.depth
    d00, d01, d10, d11 = dm[y0, x0], dm[y0, x0 + 1], dm[y0 + 1, x0], dm[y0 + 1, x0 + 1]
    all4 = (d00 > 0) & (d01 > 0) & (d10 > 0) & (d11 > 0)
    zi = (d00 * (1 - ax) + d01 * ax) * (1 - ay) + (d10 * (1 - ax) + d11 * ax) * ay
    out = np.zeros(len(z), np.float32)
    out[idx[all4]] = zi[all4]
    return z, out


def world_points(view: DepthView) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, columns and world coordinates of the view's measured pixels."""
    ys, xs = np.nonzero(view.depth > 0)
    z = view.depth[ys, xs]
    K, T = view.K, view.world_from_camera
    cam = np.stack([(xs - K[0, 2]) / K[0, 0] * z, (ys - K[1, 2]) / K[1, 1] * z, z], axis=1)
    return ys, xs, (cam @ T[:3, :3].T + T[:3, 3]).astype(np.float32)


def consistency_filter(views: list[DepthView], neighbours: dict[int, list[int]], rel_tol: float = 0.01,
                       min_agree: int = 1) -> None:
    """Zero depths that fewer than ``min_agree`` other views confirm (in place).

    Each measured pixel is lifted to 3D and looked up in the depth maps of the view's
    neighbours (``neighbours[key]``, keys of other views); it is confirmed by a neighbour
    whose depth there lies within ``rel_tol`` of the point's own depth in that camera.
    """
    by_key = {v.key: v for v in views}
    keep = []
    for v in views:
        ys, xs, world = world_points(v)
        agree = np.zeros(len(ys), np.int32)
        for b in neighbours.get(v.key, []):
            other = by_key.get(b)
            if other is None:
                continue
            todo = np.nonzero(agree < min_agree)[0]
            if todo.size == 0:
                break
            z_self, z_other = _depth_at(other, world[todo])
            agree[todo] += ((z_other > 0) & (np.abs(z_other - z_self) <= rel_tol * z_self)).astype(np.int32)
        keep.append((ys, xs, agree >= min_agree))
    for v, (ys, xs, ok) in zip(views, keep):
        v.depth[ys[~ok], xs[~ok]] = 0
