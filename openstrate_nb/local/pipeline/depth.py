"""Dense depth from rectified neighbouring keyframes with OpenCV's semi-global matching.

(COLMAP's PatchMatch stereo needs CUDA, so it is not an option on a CPU-only machine.)
For each keyframe we pick a partner whose baseline is long enough for precise depth yet
short enough that the two views still look alike, rectify the pair so matches lie on the
same row, run StereoSGBM in both directions and keep only disparities on which the left
and right passes agree. The depth map lives in the rectified left camera, which is just
the left camera turned slightly, so fusion treats it as an ordinary pinhole view.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


#: SGBM's margin (percent) by which the best match must beat the second best.
UNIQUENESS = 8
#: Largest disagreement (pixels) between left-to-right and right-to-left disparities.
LR_TOLERANCE = 1.0
#: Erode valid regions by one pixel (their borders are the least reliable); the multi-view
#: check already removes most bad borders and erosion costs coverage, so it is off.
ERODE = False


@dataclass
class DepthView:
    depth: np.ndarray  # (h, w) float32 z-depth, 0 where unknown
    rgb: np.ndarray  # (h, w, 3) uint8, the rectified left image
    K: np.ndarray  # 3x3 intrinsics of the rectified left camera (pixel-centre convention)
    world_from_camera: np.ndarray  # 4x4 of the rectified left camera
    key: int  # which keyframe (position in the registered list) the view belongs to
    partner: int  # the other keyframe of its stereo pair


def median_scene_depth(world_from_camera: np.ndarray, points: np.ndarray, seen: np.ndarray) -> tuple[float, float, float]:
    """5th, 50th and 95th percentile depth of the sparse points a keyframe observes."""
    if seen.size < 10:
        seen = np.arange(len(points))
    cam = (points[seen] - world_from_camera[:3, 3]) @ world_from_camera[:3, :3]
    z = cam[:, 2][cam[:, 2] > 0]
    if z.size < 5:
        return 0.0, 0.0, 0.0
    return tuple(float(v) for v in np.percentile(z, [5, 50, 95]))


def choose_partner(i: int, poses: np.ndarray, depth_med: float, reach: int = 6,
                   target_ratio: float = 0.08, side: int = 0) -> int | None:
    """The neighbour of keyframe ``i`` that makes the best stereo pair, or ``None``.

    Good pairs have a baseline of roughly ``target_ratio`` of the scene depth (disparity
    precision grows with it, view similarity falls), mostly sideways in the camera (the
    rectification then stays mild), and optical axes within 30 degrees. ``side`` = +1 or -1
    restricts the partner to the camera's right or left (0: either).
    """
    if depth_med <= 0:
        return None
    best, best_cost = None, np.inf
    zi = poses[i][:3, 2]
    for j in range(max(0, i - reach), min(len(poses), i + reach + 1)):
        if j == i:
            continue
        b = poses[j][:3, 3] - poses[i][:3, 3]
        dist = float(np.linalg.norm(b))
        if dist <= 1e-9:
            continue
        ratio = dist / depth_med
        b_cam = poses[i][:3, :3].T @ (b / dist)
        if abs(b_cam[0]) < 0.7:  # forward or vertical motion: rectification would be extreme
            continue
        if side and np.sign(b_cam[0]) != side:
            continue
        if float(zi @ poses[j][:3, 2]) < np.cos(np.radians(30)):
            continue
        if not 0.02 <= ratio <= 0.35:
            continue
        cost = abs(np.log(ratio / target_ratio))
        if cost < best_cost:
            best, best_cost = j, cost
    return best


def stereo_pairs(poses: np.ndarray, depth_ranges: list[tuple[float, float, float]], both_sides: bool = True):
    """Unique (left, right) keyframe pairs: each keyframe's best partner on each side.

    A partner on each side means every surface point near a keyframe's view is matched
    twice, from different baselines, which fills occlusion holes and feeds the multi-view
    check. ``depth_ranges`` holds each keyframe's (5th, median, 95th percentile) depth.
    """
    pairs: dict[tuple[int, int], tuple[float, float]] = {}
    for a in range(len(poses)):
        z5, zmed, z95 = depth_ranges[a]
        for side in ((1, -1) if both_sides else (0,)):
            b = choose_partner(a, poses, zmed, side=side)
            if b is None:
                continue
            right_of_a = (np.linalg.inv(poses[a]) @ np.append(poses[b][:3, 3], 1))[0] >= 0
            key = (a, b) if right_of_a else (b, a)  # the left image of a rectified pair is on the left
            lo, hi = pairs.get(key, (np.inf, 0.0))
            pairs[key] = (min(lo, z5), max(hi, z95))
    return sorted((l, r, z5, z95) for (l, r), (z5, z95) in pairs.items())


def _sgbm(left: np.ndarray, right: np.ndarray, min_disp: int, num_disp: int, block: int):
    import cv2

    matcher = cv2.StereoSGBM_create(
        minDisparity=min_disp, numDisparities=num_disp, blockSize=block,
        P1=8 * 3 * block * block, P2=32 * 3 * block * block,
        disp12MaxDiff=-1, uniquenessRatio=UNIQUENESS, speckleWindowSize=100, speckleRange=2,
        mode=cv2.STEREO_SGBM_MODE_SGBM_3WAY,
    )
    return matcher.compute(left, right).astype(np.float32) / 16.0


def pair_depth(img_l: np.ndarray, img_r: np.ndarray, K: np.ndarray, dist: np.ndarray,
               world_from_l: np.ndarray, world_from_r: np.ndarray, z_range: tuple[float, float],
               key_l: int, key_r: int, block: int = 5) -> list[DepthView]:
    """Depth maps for both images of a pair (images already at the resolution ``K`` describes).

    The right-to-left pass needed for the consistency check doubles as the right image's
    depth map, so every pair yields two views for the price of two SGBM runs.

    ``z_range`` bounds the search (from the sparse points) which keeps SGBM fast and avoids
    far-fetched matches. ``K`` uses COLMAP's pixel-corner convention; OpenCV wants centres.
    """
    import cv2

    h, w = img_l.shape[:2]
    Kc = K.copy()
    Kc[0, 2] -= 0.5
    Kc[1, 2] -= 0.5
    r_from_l = np.linalg.inv(world_from_r) @ world_from_l
    R, t = r_from_l[:3, :3], r_from_l[:3, 3].reshape(3, 1)
    d5 = np.zeros(5)
    d5[: len(dist)] = dist[:5]
    R1, R2, P1, P2, Q, _, _ = cv2.stereoRectify(Kc, d5, Kc, d5, (w, h), R, t, flags=cv2.CALIB_ZERO_DISPARITY, alpha=0)
    if abs(P2[1, 3]) > abs(P2[0, 3]):  # vertical stereo: not handled, the pair should not have been chosen
        return []
    fb = -P2[0, 3]  # f * baseline; positive when the right camera is to the right
    if fb <= 0:
        return []
    f = P1[0, 0]
    zmin, zmax = z_range
    dmax = fb / max(zmin, 1e-9)
    dmin = fb / max(zmax, 1e-9)
    min_disp = int(np.floor(max(0.0, dmin - 2)))
    num_disp = int(np.ceil((dmax + 2 - min_disp) / 16.0)) * 16
    num_disp = int(np.clip(num_disp, 16, 256))
    mlx, mly = cv2.initUndistortRectifyMap(Kc, d5, R1, P1, (w, h), cv2.CV_32FC1)
    mrx, mry = cv2.initUndistortRectifyMap(Kc, d5, R2, P2, (w, h), cv2.CV_32FC1)
    rl = cv2.remap(img_l, mlx, mly, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    rr = cv2.remap(img_r, mrx, mry, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    valid_l = cv2.remap(np.full((h, w), 255, np.uint8), mlx, mly, cv2.INTER_NEAREST) > 0

    # SGBM leaves the leftmost min+num disparity columns empty; pad so they are matched too.
    pad = min_disp + num_disp
    padl = cv2.copyMakeBorder(rl, 0, 0, pad, 0, cv2.BORDER_CONSTANT)
    padr = cv2.copyMakeBorder(rr, 0, 0, pad, 0, cv2.BORDER_CONSTANT)
    disp_l = _sgbm(padl, padr, min_disp, num_disp, block)[:, pad:]
    # Right-to-left disparity: mirror both images and swap them, then mirror back.
    disp_r = _sgbm(cv2.copyMakeBorder(rr[:, ::-1], 0, 0, pad, 0, cv2.BORDER_CONSTANT),
                   cv2.copyMakeBorder(rl[:, ::-1], 0, 0, pad, 0, cv2.BORDER_CONSTANT),
                   min_disp, num_disp, block)[:, pad:][:, ::-1]
    valid_r = cv2.remap(np.full((h, w), 255, np.uint8), mrx, mry, cv2.INTER_NEAREST) > 0

    ok_l = _checked(disp_l, disp_r, -1, min_disp, valid_l, rl)
    ok_r = _checked(disp_r, disp_l, +1, min_disp, valid_r, rr)
    Kr = np.array([[f, 0, P1[0, 2]], [0, P1[1, 1], P1[1, 2]], [0, 0, 1.0]])
    Kr2 = np.array([[P2[0, 0], 0, P2[0, 2]], [0, P2[1, 1], P2[1, 2]], [0, 0, 1.0]])
    rect_from_l = np.eye(4)
    rect_from_l[:3, :3] = R1
    rect_from_r = np.eye(4)
    rect_from_r[:3, :3] = R2
    views = []
    for disp, ok, img, K_, pose, k in ((disp_l, ok_l, rl, Kr, world_from_l @ np.linalg.inv(rect_from_l), key_l),
                                        (disp_r, ok_r, rr, Kr2, world_from_r @ np.linalg.inv(rect_from_r), key_r)):
        depth = np.zeros((h, w), np.float32)
        depth[ok] = fb / disp[ok]
        depth[(depth < zmin * 0.5) | (depth > zmax * 2.0)] = 0
        views.append(DepthView(depth, img, K_, pose, k, key_r + key_l - k))
    return views


def _checked(disp: np.ndarray, other: np.ndarray, sign: int, min_disp: int, valid: np.ndarray, img: np.ndarray) -> np.ndarray:
    """Pixels whose disparity the opposite pass confirms, on textured, in-view image parts.

    ``sign`` is -1 for the left map (its match lies at x - d) and +1 for the right map.
    """
    import cv2

    h, w = disp.shape
    ok = (disp > min_disp) & valid
    xs = np.arange(w)[None, :].repeat(h, 0)
    xo = np.round(xs + sign * disp).astype(np.int64)
    ok &= (xo >= 0) & (xo < w)
    back = np.zeros_like(disp)
    rows = np.nonzero(ok)
    back[rows] = other[rows[0], xo[rows]]
    ok &= np.abs(back - disp) <= LR_TOLERANCE  # left-right consistency: occlusions and mismatches fail it
    # Flat, textureless areas (sky, blank walls) give arbitrary disparities: drop them.
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    mean = cv2.blur(grey, (7, 7))
    var = cv2.blur(grey * grey, (7, 7)) - mean * mean
    ok &= var > 1.0
    if ERODE:
        ok = cv2.erode(ok.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return ok


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


def consistency_filter(views: list[DepthView], neighbours: int = 4, rel_tol: float = 0.02, min_agree: int = 1) -> None:
    """Zero depths that no nearby view confirms (in place).

    Each depth pixel is lifted to 3D and projected into the ``neighbours`` views on either
    side that come from other stereo pairs (the two views of one pair agree by construction);
    it survives if at least ``min_agree`` of them measured the same depth there within
    ``rel_tol``. Mismatches from different pairs rarely agree, true surfaces do. Nearest
    views are asked first and confirmed pixels are not asked again, which keeps this cheap.
    """
    masks = []
    for a, v in enumerate(views):
        ys, xs = np.nonzero(v.depth > 0)
        z = v.depth[ys, xs]
        cam = np.stack([(xs - v.K[0, 2]) / v.K[0, 0] * z, (ys - v.K[1, 2]) / v.K[1, 1] * z, z], axis=1)
        world = (cam @ v.world_from_camera[:3, :3].T + v.world_from_camera[:3, 3]).astype(np.float32)
        agree = np.zeros(len(ys), np.int32)
        order = sorted(range(max(0, a - neighbours), min(len(views), a + neighbours + 1)), key=lambda b: abs(b - a))
        for b in order:
            if b == a or {views[b].key, views[b].partner} == {v.key, v.partner}:
                continue
            todo = np.nonzero(agree < min_agree)[0]
            if todo.size == 0:
                break
            zb_self, zb = _depth_at(views[b], world[todo])
            agree[todo] += ((zb > 0) & (np.abs(zb - zb_self) <= rel_tol * zb_self)).astype(np.int32)
        masks.append((ys, xs, agree >= min_agree))
    for v, (ys, xs, keep) in zip(views, masks):
        v.depth[ys[~keep], xs[~keep]] = 0

