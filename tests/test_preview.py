"""The still picture of a result that a notebook carries for pages without a kernel."""

from __future__ import annotations

import io

import numpy as np
import trimesh
from PIL import Image

from openstrate_nb.preview import nearest_face_per_pixel, preview_image, preview_png, render_shaded


def test_the_picture_shows_the_mesh_framed_on_a_transparent_background():
    image = preview_image(trimesh.creation.icosphere(subdivisions=3), width=120, height=80)
    assert image.shape == (80, 120, 4) and image.dtype == np.uint8
    covered = image[..., 3] > 0
    rows, cols = np.flatnonzero(covered.any(axis=1)), np.flatnonzero(covered.any(axis=0))
    # A sphere framed to fill the height, centred, background left transparent for any page.
    assert rows.min() <= 4 and rows.max() >= 75
    assert abs((cols.min() + cols.max()) / 2 - 59.5) < 3
    assert image[0, 0, 3] == 0 and image[40, 60, 3] == 255


def test_the_nearest_face_wins_each_pixel():
    # Two squares facing the camera, one behind the other, each made of two triangles.
    near = np.array([[0, 0, 1.0], [10, 0, 1.0], [10, 10, 1.0], [0, 10, 1.0]])
    far = near + [5, 5, 1.0]
    positions = np.vstack([near, far])
    quad = np.array([[0, 1, 2], [0, 2, 3]])
    faces = np.vstack([quad, quad + 4])
    winner = nearest_face_per_pixel(positions[:, 0], positions[:, 1], positions[:, 2], faces, 20, 20).reshape(20, 20)
    assert set(np.unique(winner[1:4, 1:4])) <= {0, 1}  # only the near square
    assert set(np.unique(winner[6:9, 6:9])) <= {0, 1}  # where they overlap, the near one
    assert set(np.unique(winner[12:14, 12:14])) <= {2, 3}  # the far square where it shows
    assert winner[17, 17] == -1 and winner[19, 0] == -1


def test_vertex_colours_reach_the_picture():
    sphere = trimesh.creation.icosphere(subdivisions=2)
    colors = np.tile([0.9, 0.1, 0.1], (len(sphere.vertices), 1))
    image = render_shaded(sphere.vertices, sphere.faces, colors, width=60, height=40)
    red, green, blue = image[20, 30, :3].astype(int)
    assert red > 2 * green and red > 2 * blue


def test_png_bytes_decode_to_the_same_picture():
    mesh = trimesh.creation.box()
    png = preview_png(mesh, width=64, height=48)
    assert png.startswith(b"\x89PNG")
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png))), preview_image(mesh, width=64, height=48))


def test_an_empty_mesh_gives_an_empty_picture():
    image = render_shaded(np.zeros((0, 3)), np.zeros((0, 3), dtype=int), width=10, height=10)
    assert image.shape == (10, 10, 4) and not image[..., 3].any()
