"""The camera rule shared by the pythreejs view and the PNG preview: every point in view, the picture filled."""

from __future__ import annotations

import math

import numpy as np
import pytest
import trimesh

from openstrate_nb._framing import DEFAULT_DIRECTION, camera_basis, framed_view


def _projected(points, target, distance, fov_degrees, aspect):
    """Normalised image coordinates (-1..1 is the frame) of points seen by the framed camera."""
    right, up, back = camera_basis(DEFAULT_DIRECTION)
    relative = points - target
    depth = distance - relative @ back
    tan_v = math.tan(math.radians(fov_degrees) / 2)
    return (relative @ right) / depth / (tan_v * aspect), (relative @ up) / depth / tan_v


@pytest.mark.parametrize("extents", [(1, 1, 1), (8, 1, 0.3), (0.2, 5, 0.2), (50, 0.01, 50)])
@pytest.mark.parametrize("aspect", [1.5, 0.7])
def test_every_point_is_in_view_and_the_picture_is_filled(extents, aspect):
    points = trimesh.creation.box(extents=extents).vertices + [3.0, -2.0, 7.0]
    target, distance = framed_view(points, fov_degrees=45, aspect=aspect)
    u, v = _projected(points, target, distance, 45, aspect)
    assert np.abs(u).max() <= 1 and np.abs(v).max() <= 1
    # Filled along one axis to the margin (1.06), and centred on both.
    assert max(np.abs(u).max(), np.abs(v).max()) > 0.9
    assert abs(u.max() + u.min()) < 0.05 and abs(v.max() + v.min()) < 0.05


def test_a_flat_long_mesh_fills_more_than_a_bounding_sphere_would():
    points = trimesh.creation.box(extents=(10, 0.5, 0.5)).vertices
    _, distance = framed_view(points, fov_degrees=45, aspect=1.5)
    sphere_distance = (np.linalg.norm(np.ptp(points, axis=0)) / 2) / math.sin(math.radians(45) / 2)
    assert distance < 0.8 * sphere_distance


def test_a_single_point_and_no_points_give_a_usable_camera():
    target, distance = framed_view(np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(target, [1, 2, 3])
    assert distance > 0
    assert framed_view(np.zeros((0, 3)))[1] > 0
