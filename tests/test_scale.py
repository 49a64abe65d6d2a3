"""Real-world size from one known length: scale_mesh, mesh_scale, mesh_summary in metres."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from openstrate_nb import mesh_scale, mesh_summary, scale_mesh


def test_a_known_length_scales_a_copy_to_metres_and_says_how():
    box = trimesh.creation.box((2.0, 1.0, 4.0))  # "units" of a reconstruction
    metric = scale_mesh(box, [-1, 0, 0], [1, 0, 0], 0.5)  # its width is really 50 cm
    np.testing.assert_allclose(metric.extents, [0.5, 0.25, 1.0])
    np.testing.assert_allclose(box.extents, [2.0, 1.0, 4.0])  # the original is untouched
    assert mesh_scale(box) == {"units": "unknown"}
    assert mesh_scale(metric) == {"units": "m", "factor": 0.25, "method": "known length", "known_length_m": 0.5}
    summary = mesh_summary(metric)
    assert summary["units"] == "m" and summary["volume"] == pytest.approx(0.125)
    assert summary["surface_area"] == pytest.approx(2 * (0.5 * 0.25 + 0.5 * 1.0 + 0.25 * 1.0))


def test_scaling_a_scaled_mesh_keeps_the_factor_from_the_reconstruction():
    once = scale_mesh(trimesh.creation.box((2.0, 2.0, 2.0)), [0, 0, 0], [2, 0, 0], 1.0)
    twice = scale_mesh(once, [0, 0, 0], [1, 0, 0], 3.0)
    assert mesh_scale(twice)["factor"] == pytest.approx(1.5)


def test_the_volume_of_closed_pieces_beside_an_open_surface():
    closed = trimesh.creation.box((1.0, 1.0, 1.0))
    floor = trimesh.Trimesh([[5, 0, 5], [7, 0, 5], [7, 0, 7]], [[0, 1, 2]])
    summary = mesh_summary(trimesh.util.concatenate([closed, floor]))
    assert summary["volume"] is None and summary["closed_volume"] == pytest.approx(1.0)
    assert mesh_summary(floor)["closed_volume"] is None


@pytest.mark.parametrize("a, b, metres, message", [
    ([0, 0, 0], [0, 0, 0], 1.0, "a and b are the same point"),
    ([0, 0, 0], [1, 0, 0], 0.0, "the known length must be a positive number of metres, not 0.0"),
    ([0, 0, 0], [1, 0, 0], -2, "the known length must be a positive number of metres"),
    ([0, 0, 0], [1, 0, 0], float("nan"), "the known length must be a positive number of metres"),
    ([0, 0], [1, 0, 0], 1.0, r"a must be a 3D point \(x, y, z\)"),
])
def test_bad_input_gets_a_clear_error(a, b, metres, message):
    with pytest.raises(ValueError, match=message):
        scale_mesh(trimesh.creation.box(), a, b, metres)


def test_the_camera_a_result_opens_at_moves_with_the_scaled_mesh():
    box = trimesh.creation.box((2.0, 2.0, 2.0))
    pose = np.eye(4)
    pose[:3, 3] = [0.0, 0.0, -5.0]
    box.metadata["filmed_from"] = {"world_from_camera": pose.tolist(), "yfov": 0.8, "target_distance": 5.0}
    metric = scale_mesh(box, [0, 0, 0], [2, 0, 0], 1.0)
    start = metric.metadata["filmed_from"]
    np.testing.assert_allclose(np.asarray(start["world_from_camera"])[:3, 3], [0.0, 0.0, -2.5])
    assert start["target_distance"] == pytest.approx(2.5) and start["yfov"] == 0.8
    assert box.metadata["filmed_from"]["target_distance"] == 5.0  # the original keeps its own
