"""Stage-level checks on rendered ground truth: stereo depth, fusion, alignment, export (fast)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from openstrate_nb.local import synthetic as syn
from openstrate_nb.local.pipeline import depth, export
from openstrate_nb.local.pipeline.fusion import BlockTSDF
from openstrate_nb.local.synthetic_eval import distance_to_scene, umeyama

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


def test_stereo_depth_lies_on_the_true_surface(scene, triple):
    """Two rectified SGBM pairs, left-right checked, then the multi-view check between them."""
    K, poses, images = triple
    views = []
    for a, b in ((0, 1), (1, 2)):
        left_first = (np.linalg.inv(poses[a]) @ np.append(poses[b][:3, 3], 1))[0] >= 0
        l, r = (a, b) if left_first else (b, a)
        pv = depth.pair_depth(images[l], images[r], K, np.zeros(5), poses[l], poses[r], (2.0, 9.0), key_l=l, key_r=r)
        assert len(pv) == 2
        views += pv
    views.sort(key=lambda v: v.key)
    depth.consistency_filter(views)
    for v in views:
        assert (v.depth > 0).mean() > 0.3  # textured scene: most pixels get a depth
        err = distance_to_scene(scene, _lift(v))
        assert np.median(err) < 0.02  # metres, at 320 px width and ~4 m range
        assert (err < 0.1).mean() > 0.95


def test_partner_choice_prefers_sideways_baselines():
    poses = np.stack([syn.look_at(np.array([x, 1.6, 4.0]), np.array([x, 0.5, 0.0])) for x in np.arange(6) * 0.3])
    assert depth.choose_partner(2, poses, depth_med=4.0, target_ratio=0.1) in (1, 3)
    forward = np.stack([syn.look_at(np.array([0, 1.6, 4.0 - z]), np.array([0, 1.6, -10.0])) for z in np.arange(6) * 0.3])
    assert depth.choose_partner(2, forward, depth_med=4.0) is None  # moving along the view: no rectified stereo


def test_tsdf_fusion_of_true_depth_rebuilds_the_scene(scene):
    K = syn.intrinsics(W, H, 65.0)
    traj = syn.walkthrough_trajectory(duration_s=6.0, fps=2.0, arc_deg=90.0, start_deg=45.0)
    tsdf = BlockTSDF(np.array([-4.5, -0.5, -4.5]), np.array([4.5, 2.5, 4.5]), 0.04)
    for pose in traj.world_from_camera:
        rgb, z = syn.render(scene, K, pose, W, H, ss=1)
        z = np.where(np.isfinite(z) & (z < 8), z, 0).astype(np.float32)
        Kc = K.copy()
        Kc[:2, 2] -= 0.5  # views use the pixel-centre convention
        tsdf.integrate(depth.DepthView(z, rgb, Kc, pose, 0, 0), stride=1)
    verts, faces, colors = tsdf.extract_mesh(min_views=2)
    assert len(faces) > 1000 and colors.shape == (len(verts), 3)
    err = distance_to_scene(scene, verts)
    assert np.median(err) < 0.01 and (err < 0.04).mean() > 0.97  # sub-voxel surface from exact depth
    v2, f2, _ = export.remove_small_pieces(verts, faces, colors, 0.02)
    assert 0.9 * len(faces) <= len(f2) <= len(faces)


def test_remove_small_pieces_drops_islands():
    big = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], float)
    faces = [[0, 1, 2], [1, 3, 2]] * 50
    verts = np.concatenate([big, big + 5])
    faces = np.array(faces + [[4, 5, 6]])
    cols = np.zeros((len(verts), 3), np.uint8)
    v, f, c = export.remove_small_pieces(verts, faces, cols, 0.05)
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
    T = export.upright_transform(poses, pts)
    assert np.allclose(T[:3, :3] @ T[:3, :3].T, np.eye(3), atol=1e-9)  # rigid: keeps SfM's scale
    out = export.apply(T, pts[:3000])
    assert np.abs(out[:, 1]).max() < 0.05  # the floor is the y = 0 plane
    cams = np.einsum("ij,njk->nik", T, poses)
    assert (cams[:, 1, 3] > 0.5).all()  # cameras above the floor
    assert (-cams[:, :3, 1] @ np.array([0, 1.0, 0]) > 0.9).all()  # cameras upright in y-up


def test_ply_and_cameras_files(tmp_path):
    pts = np.array([[0, 0, 0], [1, 2, 3]], float)
    export.write_ply_points(tmp_path / "p.ply", pts, np.array([[255, 0, 0], [0, 255, 0]], np.uint8))
    import trimesh

    cloud = trimesh.load(str(tmp_path / "p.ply"))
    assert np.allclose(cloud.vertices, pts)
    export.write_cameras(tmp_path / "c.json", [{"frame_index": 0}])
    assert json.loads((tmp_path / "c.json").read_text()) == {"units": "arbitrary", "frames": [{"frame_index": 0}]}
