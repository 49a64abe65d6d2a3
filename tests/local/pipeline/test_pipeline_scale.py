"""Metres from printed markers: the scale step on rendered views with known cameras, and the
whole pipeline on a rendered walkthrough with markers on its floor.

Rendered scenes are exact here on purpose: a scale can only be checked against a truth, and
the truth of a real video's size is not known (the real sets carry none).
"""

from __future__ import annotations

import numpy as np
import pytest

from openstrate_nb import scenes
from openstrate_nb.local.pipeline.scale import marker_scale

W, H = 640, 360


def _scene_with_markers(*markers):
    scene = scenes.make_scene()
    scene.markers = list(markers)
    return scene


def _views(scene, eyes, target=(0.4, 0.0, 1.6)):
    K = scenes.intrinsics(W, H, 65.0)
    poses = np.stack([scenes.look_at(np.array(eye, float), np.array(target, float)) for eye in eyes])
    images = {f"v{i}": scenes.render(scene, K, pose, W, H)[0] for i, pose in enumerate(poses)}
    K_cv = K.copy()
    K_cv[:2, 2] -= 0.5  # the renderer's pixel-corner origin to OpenCV's pixel centres
    return images, list(images), poses, K_cv


EYES = [(-0.6, 1.5, 3.6), (0.4, 1.6, 3.9), (1.4, 1.5, 3.5)]
ONE = scenes.FloorMarker(np.array([0.4, 1.6]), 0.3, 0.3, 0)
TWO = scenes.FloorMarker(np.array([-0.3, 1.5]), 0.3, -0.4, 5)


def test_a_marker_seen_from_three_views_gives_the_scale_of_the_cameras():
    images, names, poses, K = _views(_scene_with_markers(ONE), EYES)
    # The reconstruction's units are arbitrary: here 1 unit = 0.5 m (the cameras twice as far apart).
    in_units = poses.copy()
    in_units[:, :3, 3] *= 2.0
    scale = marker_scale(images, names, in_units, K, np.zeros(5), 0.3)
    assert scale.factor == pytest.approx(0.5, rel=0.01)
    assert scale.marker_ids == [0] and scale.views == 3 and scale.spread is not None and scale.spread < 0.02
    stats = scale.stats(0.3)
    assert stats["units"] == "m" and stats["scale"]["method"] == "marker" and stats["scale"]["marker_size_m"] == 0.3


def test_two_markers_of_different_ids_both_count():
    images, names, poses, K = _views(_scene_with_markers(ONE, TWO), EYES, target=(0.05, 0.0, 1.55))
    scale = marker_scale(images, names, poses, K, np.zeros(5), 0.3)
    assert scale.marker_ids == [0, 5] and scale.factor == pytest.approx(1.0, rel=0.01)


def test_a_marker_in_one_keyframe_does_not_scale_and_says_why():
    images, names, poses, K = _views(_scene_with_markers(ONE), EYES)
    elsewhere = scenes.look_at(np.array([-3.0, 1.6, -2.0]), np.array([-1.0, 0.5, -2.5]))  # away from the marker
    images["v1"] = scenes.render(_scene_with_markers(), scenes.intrinsics(W, H, 65.0), elsewhere, W, H)[0]
    images["v2"] = images["v1"]
    scale = marker_scale(images, names, poses, K, np.zeros(5), 0.3)
    assert scale.factor is None and scale.seen_ids == [0]
    assert scale.reason == "marker 0 was found in only one keyframe (two or more are needed): the result keeps its own units."
    assert scale.stats(0.3) == {"units": "unknown", "markers_seen": [0], "scale_note": scale.reason}


def test_without_a_marker_or_without_its_size_the_units_stay_unknown():
    images, names, poses, K = _views(_scene_with_markers(), EYES)
    nothing = marker_scale(images, names, poses, K, np.zeros(5), 0.3)
    assert nothing.factor is None and "no DICT_4X4_50 marker was found" in nothing.reason
    images, names, poses, K = _views(_scene_with_markers(ONE), EYES)
    unsized = marker_scale(images, names, poses, K, np.zeros(5), None)
    assert unsized.factor is None and unsized.seen_ids == [0] and "give its printed side (marker_size_m)" in unsized.reason


@pytest.mark.slow
def test_a_walkthrough_with_markers_on_its_floor_comes_out_in_metres(tmp_path):
    """The whole pipeline on a rendered walk with two 30 cm markers: the recovered camera path,
    aligned to the true one, needs a scale within 2% of 1 (the GLB and cameras are in metres)."""
    import json

    from openstrate_nb.local.pipeline import PipelineOptions, reconstruct

    scene = _scene_with_markers(scenes.FloorMarker(np.array([0.9, 1.7]), 0.3, 0.3, 0),
                                scenes.FloorMarker(np.array([-0.6, 1.9]), 0.3, -0.4, 7))
    trajectory = scenes.walkthrough_trajectory(duration_s=5.0, fps=10.0, radius=4.2, arc_deg=70.0, start_deg=55.0,
                                               target=(0.0, 0.3, 0.8), seed=1)
    # One ray per pixel (no supersampling): a fifth of the rendering time, and edges as a cheap camera has them.
    truth = scenes.render_video(tmp_path / "walk.mp4", scene, trajectory, width=W, height=H, hfov_deg=65.0, crf=20, ss=1)
    art = reconstruct(tmp_path / "walk.mp4", tmp_path / "job", lambda *_: None,
                      options=PipelineOptions(marker_size_m=0.3))
    assert art.stats["units"] == "m", art.stats.get("scale_note")
    assert set(art.stats["scale"]["marker_ids"]) == {0, 7} and art.stats["scale"]["views"] >= 4
    cameras = json.loads(art.cameras.read_text())
    assert cameras["units"] == "m"
    frames = cameras["frames"]
    recovered = np.array([np.array(f["world_from_camera"])[:3, 3] for f in frames])
    true_centres = truth.trajectory.world_from_camera[[f["frame_index"] for f in frames], :3, 3]
    scale, _, _ = scenes.umeyama(recovered, true_centres)
    assert scale == pytest.approx(1.0, abs=0.02)
    # The cameras' axes stay unit vectors once scaled.
    rotations = np.array([np.array(f["world_from_camera"])[:3, :3] for f in frames])
    np.testing.assert_allclose(np.linalg.det(rotations), 1.0, atol=1e-6)
    assert art.provenance["scale"]["units"] == "m" and art.provenance["options"]["marker_size_m"] == 0.3
    # The GLB says so too: mesh_summary and the viewer read metres from it.
    from openstrate_nb import load_glb, mesh_scale, mesh_summary

    mesh = load_glb(art.glb)
    assert mesh_scale(mesh)["method"] == "marker" and mesh_summary(mesh)["units"] == "m"


def test_the_bundled_sample_shows_its_marker_where_its_ground_truth_puts_it():
    """mesh_analysis.ipynb trusts the sample's ground truth to judge the marker's metres: the
    video's marker must be SAMPLE_MARKER, at its place and size, in the frames it is said to be."""
    import av

    from openstrate_nb.local import sample_video
    from openstrate_nb.markers import find_markers

    truth = scenes.sample_ground_truth()
    marker = scenes.SAMPLE_MARKER
    with av.open(str(sample_video())) as video:
        frames = [f.to_ndarray(format="gray") for i, f in enumerate(video.decode(video=0)) if i in (0, 60, 119)]
    for frame, index in zip(frames, (0, 60, 119)):
        found = find_markers(frame)
        assert [m.id for m in found] == [marker.marker_id], index
        camera_from_world = np.linalg.inv(truth.trajectory.world_from_camera[index])
        in_camera = marker.outline() @ camera_from_world[:3, :3].T + camera_from_world[:3, 3]
        projected = in_camera @ truth.K.T
        projected = projected[:, :2] / projected[:, 2:] - 0.5  # pixel corners to OpenCV's pixel centres
        # Each corner, in ArUco's order: the place, size, turn and id of the marker all agree.
        np.testing.assert_allclose(found[0].corners, projected, atol=0.5, err_msg=f"frame {index}")
