"""Stage-level checks: multi-view depth on rendered and on real ground truth, fusion, alignment, export (fast)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from openstrate_nb import scenes as syn
from openstrate_nb.local.pipeline import depth, outputs
from openstrate_nb.local.pipeline.fusion import BlockTSDF
from openstrate_nb.scenes import distance_to_scene, umeyama

W, H = 320, 180


@pytest.fixture(scope="module")
def scene():
    return syn.make_scene()


@pytest.fixture(scope="module")
def triple(scene):
    """Three true views about 0.3 m apart along the walk, rendered at 320x180."""
    traj = syn.walkthrough_trajectory(duration_s=4.0, fps=10.0, arc_deg=30.0, start_deg=75.0)
    K = syn.intrinsics(W, H, 65.0)
    poses = [traj.world_from_camera[i] for i in (10, 14, 18)]
    return K, poses, [syn.render(scene, K, p, W, H)[0] for p in poses]


def _lift(view):
    ys, xs = np.nonzero(view.depth > 0)
    z = view.depth[ys, xs]
    cam = np.stack([(xs - view.K[0, 2]) / view.K[0, 0] * z, (ys - view.K[1, 2]) / view.K[1, 1] * z, z], 1)
    return cam @ view.world_from_camera[:3, :3].T + view.world_from_camera[:3, 3]


def _sweep_image(rgb, K, pose):
    import cv2

    Kc = K.copy()
    Kc[:2, 2] -= 0.5  # the pixel-centre convention
    return depth.SweepImage(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255, rgb, Kc, pose)


def test_plane_sweep_depth_lies_on_the_true_surface(scene, triple):
    """Each view against the other two, then the multi-view check between the three maps.

    (Rendered truth is right for a geometry unit test: it is exact. Whether the method copes
    with real images is what the Aloe test and the real reconstruction test are for.)
    """
    K, poses, images = triple
    sweep = [_sweep_image(im, K, p) for im, p in zip(images, poses)]
    views = []
    for ref in range(3):
        others = [sweep[j] for j in range(3) if j != ref]
        z, score = depth.plane_sweep(sweep[ref], others, 2.0, 9.0, depth.sweep_count(sweep[ref], others, 2.0, 9.0))
        z[score < 0.5] = 0
        views.append(depth.DepthView(z, score, images[ref], sweep[ref].K, poses[ref], ref,
                                     tuple(j for j in range(3) if j != ref)))
    depth.consistency_filter(views, {v.key: list(v.sources) for v in views})
    for v in views:
        assert (v.depth > 0).mean() > 0.3  # textured scene: most pixels get a depth
        err = distance_to_scene(scene, _lift(v))
        assert np.median(err) < 0.02  # metres, at 320 px width and ~4 m range
        assert (err < 0.1).mean() > 0.95


def test_plane_sweep_on_a_real_pair_matches_its_ground_truth_disparity(real_data):
    """Middlebury's Aloe (a real rectified pair with measured disparity), at a third of its size.

    A rectified pair is two cameras one baseline apart along x with the same intrinsics, so
    depth z maps to disparity f * b / z.
    """
    import cv2

    left = cv2.cvtColor(cv2.imread(str(real_data / "aloe_left.jpg")), cv2.COLOR_BGR2RGB)
    right = cv2.cvtColor(cv2.imread(str(real_data / "aloe_right.jpg")), cv2.COLOR_BGR2RGB)
    truth = cv2.imread(str(real_data / "aloe_disparity.png"), cv2.IMREAD_UNCHANGED).astype(np.float64) / 64
    h, w = truth.shape
    f, baseline = 1000.0, 1.0
    K = np.array([[f, 0, (w - 1) / 2], [0, f, (h - 1) / 2], [0, 0, 1.0]])
    right_pose = np.eye(4)
    right_pose[0, 3] = baseline
    ref = depth.SweepImage(cv2.cvtColor(left, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255, left, K, np.eye(4))
    src = depth.SweepImage(cv2.cvtColor(right, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255, right, K, right_pose)
    near, far = f * baseline / 90.0, f * baseline / 5.0  # disparities 5..90 px at this size
    z, score = depth.plane_sweep(ref, [src], near, far, depth.sweep_count(ref, [src], near, far), best_of=1)
    measured = (z > 0) & (score >= 0.5)
    known = truth > 0
    disparity = np.where(measured, f * baseline / np.maximum(z, 1e-9), 0)
    err = np.abs(disparity - truth)[measured & known]
    coverage = (measured & known).sum() / known.sum()
    assert coverage > 0.75  # occlusions and the untextured background stay empty
    assert (err <= 1.0).mean() > 0.8  # within a pixel of the truth
    assert np.median(err) < 0.35  # sub-pixel: the winning plane is refined


def test_neighbour_views_prefer_parallax_that_still_looks_alike():
    """Views sharing points at a few degrees of parallax beat near-duplicates and far-off views."""
    rng = np.random.default_rng(0)
    points = rng.uniform([-2, -1, 8], [2, 1, 10], (400, 3))
    centres = np.array([[x, 0.0, 0.0] for x in (0.0, 0.02, 1.2, 1.4, 6.0)])
    seen = [np.arange(400)] * 5
    order = depth.neighbour_views(0, centres, points, seen, count=2)
    assert sorted(order) == [2, 3]  # 7.6 and 8.9 degrees of parallax; 0.02 m gives none, 6 m too much


def test_tsdf_fusion_of_true_depth_rebuilds_the_scene(scene):
    K = syn.intrinsics(W, H, 65.0)
    traj = syn.walkthrough_trajectory(duration_s=6.0, fps=2.0, arc_deg=90.0, start_deg=45.0)
    tsdf = BlockTSDF(np.array([-4.5, -0.5, -4.5]), np.array([4.5, 2.5, 4.5]), 0.04)
    for pose in traj.world_from_camera:
        rgb, z = syn.render(scene, K, pose, W, H, ss=1)
        z = np.where(np.isfinite(z) & (z < 8), z, 0).astype(np.float32)
        Kc = K.copy()
        Kc[:2, 2] -= 0.5  # views use the pixel-centre convention
        tsdf.integrate(depth.DepthView(z, np.ones_like(z), rgb, Kc, pose, 0), stride=1)
    verts, faces, colors = tsdf.extract_mesh(min_views=2)
    assert len(faces) > 1000 and colors.shape == (len(verts), 3)
    err = distance_to_scene(scene, verts)
    assert np.median(err) < 0.01 and (err < 0.04).mean() > 0.97  # sub-voxel surface from exact depth
    v2, f2, _ = outputs.remove_small_pieces(verts, faces, colors, 0.02)
    assert 0.9 * len(faces) <= len(f2) <= len(faces)


def test_remove_small_pieces_drops_islands():
    big = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], float)
    faces = [[0, 1, 2], [1, 3, 2]] * 50
    verts = np.concatenate([big, big + 5])
    faces = np.array(faces + [[4, 5, 6]])
    cols = np.zeros((len(verts), 3), np.uint8)
    v, f, c = outputs.remove_small_pieces(verts, faces, cols, 0.05)
    assert len(f) == 100 and len(v) == 4 and len(c) == 4


def test_umeyama_recovers_a_similarity():
    rng = np.random.default_rng(0)
    src = rng.normal(size=(40, 3))
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    R = q * np.sign(np.linalg.det(q))
    dst = 2.5 * src @ R.T + np.array([1.0, -2.0, 0.5])
    s, R2, t = umeyama(src, dst)
    assert s == pytest.approx(2.5) and np.allclose(R2, R) and np.allclose(t, [1.0, -2.0, 0.5])


def test_upright_transform_puts_the_floor_at_y0_with_y_up():
    rng = np.random.default_rng(1)
    floor = np.column_stack([rng.uniform(-3, 3, 3000), np.zeros(3000), rng.uniform(-3, 3, 3000)])
    boxes = rng.uniform([-1, 0, -1], [1, 1.5, 1], (800, 3))
    traj = syn.walkthrough_trajectory(duration_s=3.0, fps=5.0, arc_deg=60.0, start_deg=60.0)
    # Scramble the frame as SfM would: rotate, scale, shift.
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    R = q * np.sign(np.linalg.det(q))
    S = np.eye(4)
    S[:3, :3], S[:3, 3] = 0.7 * R, [3.0, -1.0, 2.0]
    pts = np.concatenate([floor, boxes]) @ S[:3, :3].T + S[:3, 3]
    poses = np.einsum("ij,njk->nik", S, traj.world_from_camera)
    poses[:, :3, :3] /= 0.7
    T = outputs.upright_transform(poses, pts)
    assert np.allclose(T[:3, :3] @ T[:3, :3].T, np.eye(3), atol=1e-9)  # rigid: keeps SfM's scale
    out = outputs.apply(T, pts[:3000])
    assert np.abs(out[:, 1]).max() < 0.05  # the floor is the y = 0 plane
    cams = np.einsum("ij,njk->nik", T, poses)
    assert (cams[:, 1, 3] > 0.5).all()  # cameras above the floor
    assert (-cams[:, :3, 1] @ np.array([0, 1.0, 0]) > 0.9).all()  # cameras upright in y-up


def test_ply_and_cameras_files(tmp_path):
    pts = np.array([[0, 0, 0], [1, 2, 3]], float)
    outputs.write_ply_points(tmp_path / "p.ply", pts, np.array([[255, 0, 0], [0, 255, 0]], np.uint8))
    import trimesh

    cloud = trimesh.load(str(tmp_path / "p.ply"))
    assert np.allclose(cloud.vertices, pts)
    outputs.write_cameras(tmp_path / "c.json", [{"frame_index": 0}])
    assert json.loads((tmp_path / "c.json").read_text()) == {"units": "arbitrary", "frames": [{"frame_index": 0}]}
