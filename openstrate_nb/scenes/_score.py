"""Score a reconstruction of a synthetic video against the generator's ground truth.

The reconstruction's frame and scale are arbitrary, so the estimated camera centres are
first aligned to the true ones with a similarity transform (Umeyama's closed form). Then:

* accuracy: distance from points sampled on the estimated mesh to the true surface
  (exact, from the analytic shapes, not a tessellation);
* completeness: share of the *visible* true surface (seen, unoccluded and at most 75 degrees
  off its normal, by at least two of the reconstructed keyframes' true cameras) that lies
  near the estimated mesh.

Distances are reported as shares of the true scene's bounding-box diagonal.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ._render import GroundTruth, Scene, depth_map, yaw_matrix


def umeyama(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Similarity ``dst ~ s * R @ src + t`` minimising squared error: (s, R, t)."""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    a, b = src - mu_s, dst - mu_d
    cov = b.T @ a / len(src)
    U, S, Vt = np.linalg.svd(cov)
    D = np.eye(3)
    if np.linalg.det(U) * np.linalg.det(Vt) < 0:
        D[2, 2] = -1
    R = U @ D @ Vt
    var = (a * a).sum() / len(src)
    s = float(np.trace(np.diag(S) @ D) / var)
    return s, R, mu_d - s * R @ mu_s


def distance_to_scene(scene: Scene, p: np.ndarray) -> np.ndarray:
    """Exact unsigned distance from points to the scene's surfaces."""
    h = scene.floor_half
    q = np.stack([np.maximum(np.abs(p[:, 0]) - h, 0), p[:, 1], np.maximum(np.abs(p[:, 2]) - h, 0)], 1)
    best = np.linalg.norm(q, axis=1)
    for b in scene.boxes:
        local = (p - b.center) @ yaw_matrix(b.yaw)
        d = np.abs(local) - b.size / 2
        outside = np.linalg.norm(np.maximum(d, 0), axis=1)
        inside = np.minimum(d.max(1), 0)
        best = np.minimum(best, np.abs(outside + inside))
    for s in scene.spheres:
        best = np.minimum(best, np.abs(np.linalg.norm(p - s.center, axis=1) - s.radius))
    return best


def sample_surface(verts: np.ndarray, faces: np.ndarray, n: int, rng: np.random.Generator, with_faces: bool = False):
    """Area-weighted uniform samples on a triangle mesh (and the face each lies on)."""
    tri = verts[faces]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    pick = rng.choice(len(faces), n, p=area / area.sum())
    r1, r2 = rng.random(n), rng.random(n)
    flip = r1 + r2 > 1
    r1[flip], r2[flip] = 1 - r1[flip], 1 - r2[flip]
    t = tri[pick]
    pts = t[:, 0] + r1[:, None] * (t[:, 1] - t[:, 0]) + r2[:, None] * (t[:, 2] - t[:, 0])
    return (pts, pick) if with_faces else pts


def visible_mask(gt: GroundTruth, points: np.ndarray, frame_indices, min_views: int = 2, scale: float = 0.25,
                 normals: np.ndarray | None = None, max_incidence_deg: float = 90.0) -> np.ndarray:
    """Which points at least ``min_views`` of the given frames' true cameras see unoccluded.

    With ``normals``, a view only counts when it sees the surface within ``max_incidence_deg``
    of its normal (a floor seen edge-on from far away is in the picture but not measurable).
    """
    cos_max = np.cos(np.radians(max_incidence_deg))
    w, h = max(8, int(gt.width * scale)), max(8, int(gt.height * scale))
    K = gt.K.copy()
    K[:2] *= scale
    count = np.zeros(len(points), np.int32)
    for fi in frame_indices:
        pose = gt.trajectory.world_from_camera[fi]
        zmap = depth_map(gt.scene, K, pose, w, h)
        pc = (points - pose[:3, 3]) @ pose[:3, :3]
        z = pc[:, 2]
        front = z > 1e-3
        u = np.full(len(z), -1, np.int64)
        v = np.full(len(z), -1, np.int64)
        u[front] = np.floor(pc[front, 0] / z[front] * K[0, 0] + K[0, 2]).astype(np.int64)
        v[front] = np.floor(pc[front, 1] / z[front] * K[1, 1] + K[1, 2]).astype(np.int64)
        inside = (u >= 0) & (u < w) & (v >= 0) & (v < h)
        zs = np.full(len(z), np.inf)
        zs[inside] = zmap[v[inside], u[inside]]
        seen = inside & (z <= zs + 0.02 * np.maximum(zs, 1.0))
        if normals is not None:
            ray = points - pose[:3, 3]
            ray /= np.linalg.norm(ray, axis=1, keepdims=True)
            seen &= np.abs((ray * normals).sum(1)) >= cos_max
        count += seen.astype(np.int32)
    return count >= min_views


def evaluate(gt: GroundTruth, glb: Path, cameras: Path, n_samples: int = 200_000, seed: int = 0,
             max_incidence_deg: float = 75.0) -> dict:
    """Alignment, accuracy and completeness numbers for one reconstruction.

    Completeness counts true surface that at least two reconstructed keyframes see,
    unoccluded, within ``max_incidence_deg`` of its normal.
    """
    import trimesh
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    frames = json.loads(Path(cameras).read_text())["frames"]
    fidx = [f["frame_index"] for f in frames]
    est_c = np.array([np.asarray(f["world_from_camera"])[:3, 3] for f in frames])
    true_c = gt.trajectory.world_from_camera[fidx, :3, 3]
    s, R, t = umeyama(est_c, true_c)
    cam_err = np.linalg.norm(est_c @ (s * R).T + t - true_c, axis=1)

    loaded = trimesh.load(str(glb), force="mesh", process=False)
    verts = np.asarray(loaded.vertices) @ (s * R).T + t
    faces = np.asarray(loaded.faces)
    gt_mesh = gt.mesh()
    diag = float(np.linalg.norm(gt_mesh.bounds[1] - gt_mesh.bounds[0]))

    est_pts = sample_surface(verts, faces, n_samples, rng)
    acc = distance_to_scene(gt.scene, est_pts) / diag

    true_pts, tf = sample_surface(np.asarray(gt_mesh.vertices), np.asarray(gt_mesh.faces), n_samples, rng, with_faces=True)
    vis = visible_mask(gt, true_pts, fidx, normals=np.asarray(gt_mesh.face_normals)[tf], max_incidence_deg=max_incidence_deg)
    dense = sample_surface(verts, faces, 2_000_000, rng)
    comp_d, _ = cKDTree(dense).query(true_pts[vis], workers=-1)
    comp = comp_d / diag
    return {
        "scene_diagonal": diag,
        "scale": s,
        "registered": len(frames),
        "camera_centre_error_mean": float(cam_err.mean() / diag),
        "camera_centre_error_max": float(cam_err.max() / diag),
        "accuracy_mean": float(acc.mean()),
        "accuracy_median": float(np.median(acc)),
        "accuracy_within_0.25%": float((acc <= 0.0025).mean()),
        "accuracy_within_0.5%": float((acc <= 0.005).mean()),
        "completeness_within_0.25%": float((comp <= 0.0025).mean()),
        "completeness_within_0.5%": float((comp <= 0.005).mean()),
        "visible_share_of_true_surface": float(vis.mean()),
        "visibility_max_incidence_deg": max_incidence_deg,
    }
