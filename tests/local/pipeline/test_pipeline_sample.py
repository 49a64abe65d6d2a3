"""The bundled sample walkthrough reconstructs, and its mesh matches the generator's ground truth.

One real reconstruction per session (the ``sample_reconstruction`` fixture); the bounds are
loose on purpose: they catch a broken stage, not a slightly worse one (the benchmark tracks
the precise numbers).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from openstrate_nb import scenes as syn
from openstrate_nb.scenes import evaluate, umeyama

pytestmark = pytest.mark.slow

STAGES = ["decoding", "keyframes", "features", "matching", "mapping", "depth", "fusion", "meshing", "texture", "export"]


def test_artifacts_exist_and_load(sample_reconstruction):
    import trimesh

    art = sample_reconstruction.artifacts
    assert art.glb.is_file() and art.points.is_file() and art.cameras.is_file()
    assert art.glb.read_bytes()[:4] == b"glTF"
    mesh = trimesh.load(str(art.glb), force="mesh")
    assert len(mesh.faces) > 10_000
    assert mesh.visual.kind == "texture" and len(mesh.visual.uv) == len(mesh.vertices)
    texture = np.asarray(mesh.visual.material.baseColorTexture.convert("RGB"))
    assert texture.std() > 10  # the video's pixels, not a flat default
    cloud = trimesh.load(str(art.points))
    assert len(cloud.vertices) > 500
    stats = art.stats
    for key in ("keyframes", "registered", "points", "faces", "seconds"):
        assert key in stats
    assert set(STAGES) - {"features", "matching", "mapping"} <= set(stats["seconds"]) | {"decoding"}


def test_progress_reports_every_stage_in_order(sample_reconstruction):
    calls = sample_reconstruction.calls
    seen = []
    for stage, current, total in calls:
        assert 0 <= current <= max(total, current) and total >= 0
        if not seen or seen[-1] != stage:
            seen.append(stage)
    assert [s for s in STAGES if s in seen] == STAGES  # every stage reported
    assert sorted(set(seen), key=seen.index) == STAGES  # in pipeline order, none revisited


def test_the_forecast_only_moves_forward_and_counts_down(sample_reconstruction):
    forecasts = sample_reconstruction.forecasts
    assert forecasts and {stage for stage, *_ in forecasts} == set(STAGES)
    overall = [share for _, share, _, _ in forecasts]
    assert overall == sorted(overall) and 0 <= overall[0] < 0.1 and overall[-1] > 0.95
    left = [eta for _, _, eta, _ in forecasts]
    assert all(eta >= 0 for eta in left) and left[-1] < 0.1 * max(left)
    assert {frames for *_, frames in forecasts} == {120}  # the sample's video frames
    seconds = sample_reconstruction.artifacts.stats["seconds"]
    assert all(seconds[stage] > 0 for stage in STAGES)  # each stage timed by its own name


def test_cameras_json_schema(sample_reconstruction):
    doc = json.loads(sample_reconstruction.artifacts.cameras.read_text())
    assert doc["units"] == "arbitrary"
    frames = doc["frames"]
    gt = syn.sample_ground_truth()
    assert len(frames) == sample_reconstruction.artifacts.stats["registered"]
    indices = [f["frame_index"] for f in frames]
    assert indices == sorted(indices) and indices[0] >= 0 and indices[-1] < len(gt.trajectory.times)
    for f in frames:
        assert set(f) >= {"frame_index", "time_s", "width", "height", "fx", "fy", "cx", "cy", "world_from_camera"}
        assert (f["width"], f["height"]) == (gt.width, gt.height)
        assert f["time_s"] == pytest.approx(gt.trajectory.times[f["frame_index"]], abs=1e-3)
        m = np.asarray(f["world_from_camera"])
        assert m.shape == (4, 4) and np.allclose(m[3], [0, 0, 0, 1])
        assert np.allclose(m[:3, :3] @ m[:3, :3].T, np.eye(3), atol=1e-6)
        # Self-calibrated focal length close to the renderer's.
        assert f["fx"] == pytest.approx(gt.K[0, 0], rel=0.03)


def test_glb_is_y_up_with_cameras_above_the_floor(sample_reconstruction):
    import trimesh

    art = sample_reconstruction.artifacts
    frames = json.loads(art.cameras.read_text())["frames"]
    poses = np.array([f["world_from_camera"] for f in frames])
    # Cameras look level-ish and upright: their "up" (-y in OpenCV axes) is +y in the file.
    assert (-poses[:, :3, 1] @ np.array([0.0, 1.0, 0.0]) > 0.8).all()
    mesh = trimesh.load(str(art.glb), force="mesh")
    gt = syn.sample_ground_truth()
    true_c = gt.trajectory.world_from_camera[[f["frame_index"] for f in frames], :3, 3]
    s, R, t = umeyama(poses[:, :3, 3], true_c)
    # The true floor (y = 0) maps to the file's y = 0 plane, below the cameras.
    assert np.degrees(np.arccos(np.clip(R[1, 1], -1, 1))) < 3.0
    heights = poses[:, 1, 3] * s
    assert np.allclose(heights, true_c[:, 1], atol=0.1)
    assert np.percentile(np.asarray(mesh.vertices)[:, 1], 5) * s > -0.1


def test_mesh_matches_ground_truth(sample_reconstruction):
    art = sample_reconstruction.artifacts
    gt = syn.sample_ground_truth()
    m = evaluate(gt, art.glb, art.cameras, n_samples=100_000)
    assert m["registered"] >= 0.9 * art.stats["keyframes"]
    assert m["camera_centre_error_mean"] < 0.002  # of the scene diagonal (11.5 m)
    assert m["accuracy_mean"] < 0.003
    assert m["accuracy_within_0.5%"] > 0.9
    assert m["completeness_within_0.5%"] > 0.3
