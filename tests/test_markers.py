"""The printable scale marker: the sheet says what it is, prints at the stated size, and is found again."""

from __future__ import annotations

import re
import subprocess
import sys
import os

import numpy as np
import pytest
from PIL import Image

from openstrate_nb import marker_sheet
from openstrate_nb.markers import find_markers

DPI = 300


def test_the_sheet_holds_the_marker_at_its_stated_side(tmp_path):
    sheet = marker_sheet(tmp_path / "marker.png", 0.08, marker_id=7)
    image = np.asarray(Image.open(sheet))
    [marker] = find_markers(image)
    assert marker.id == 7
    sides = np.linalg.norm(marker.corners - np.roll(marker.corners, -1, axis=0), axis=1)
    np.testing.assert_allclose(sides / DPI * 25.4, 80.0, atol=0.2)  # millimetres on paper


def test_the_pdf_is_one_a4_page(tmp_path):
    data = marker_sheet(tmp_path / "marker.pdf").read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page\n") == 1
    [box] = re.findall(rb"/MediaBox \[ 0 0 ([\d.]+) ([\d.]+) \]", data)
    assert (round(float(box[0]) / 72 * 25.4), round(float(box[1]) / 72 * 25.4)) == (210, 297)


def test_a_marker_seen_in_a_photo_like_picture_is_found():
    """Rotated, smaller and on a textured background, as a camera sees a sheet on a desk."""
    import cv2

    rng = np.random.default_rng(3)
    scene = rng.integers(60, 200, (480, 640), dtype=np.uint8)
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    tile = np.full((160, 160), 255, np.uint8)
    tile[20:140, 20:140] = cv2.aruco.generateImageMarker(dictionary, 3, 120)
    warp = cv2.getPerspectiveTransform(np.float32([[0, 0], [160, 0], [160, 160], [0, 160]]),
                                       np.float32([[250, 150], [400, 170], [390, 330], [240, 300]]))
    sheet = cv2.warpPerspective(tile, warp, (640, 480), borderValue=0)
    mask = cv2.warpPerspective(np.full_like(tile, 255), warp, (640, 480)) > 0
    scene[mask] = sheet[mask]
    assert [m.id for m in find_markers(np.dstack([scene] * 3))] == [3]
    assert find_markers(rng.integers(0, 255, (240, 320), dtype=np.uint8)) == []


@pytest.mark.parametrize("kwargs, message", [
    ({"size_m": 0.5}, r"size_m=0.5: a marker on A4 paper can be 0.02 to 0.17 m wide"),
    ({"size_m": 0}, "size_m=0: a marker on A4 paper"),
    ({"marker_id": 50}, "DICT_4X4_50 has ids 0 to 49"),
    ({"paper": "A5"}, "paper='A5': choose one of A4, letter"),
])
def test_bad_requests_are_refused_and_write_nothing(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        marker_sheet(tmp_path / "marker.pdf", **kwargs)
    assert not (tmp_path / "marker.pdf").exists()


def test_the_command_writes_the_sheet(tmp_path):
    out = subprocess.run([sys.executable, "-m", "openstrate_nb.cli", "marker", "--size", "0.05", "--out",
                          str(tmp_path / "m.pdf")], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)})
    assert out.returncode == 0, out.stderr
    assert "the black square is 50.0 mm wide" in out.stdout and (tmp_path / "m.pdf").read_bytes()[:4] == b"%PDF"
    refused = subprocess.run([sys.executable, "-m", "openstrate_nb.cli", "marker", "--out", str(tmp_path / "m.svg")],
                             capture_output=True, text=True, timeout=60,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)})
    assert refused.returncode == 1 and "write the sheet as .pdf (to print) or .png" in refused.stderr


def test_corners_of_a_small_soft_marker_are_where_its_edges_meet():
    """A 30-pixel marker, tilted, anti-aliased and blurred as a phone's video shows a sheet a
    few metres away: its corners to a tenth of a pixel, and its side neither short nor long
    (a short side would make every reconstruction scaled by it too large)."""
    import cv2

    rng = np.random.default_rng(5)
    fine = 8  # drawn 8x finer, then averaged down: edges land between pixels, as in a camera
    true = np.array([[100.3, 80.6], [131.1, 84.2], [128.4, 106.9], [97.2, 103.1]])  # low-res pixel centres
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    code = cv2.aruco.generateImageMarker(dictionary, 4, 600, borderBits=1)
    warp = cv2.getPerspectiveTransform(np.float32([[0, 0], [600, 0], [600, 600], [0, 600]]),
                                       np.float32((true + 0.5) * fine - 0.5))
    big = cv2.warpPerspective(code, warp, (240 * fine, 180 * fine), flags=cv2.INTER_LINEAR, borderValue=235)
    frame = cv2.resize(big, (240, 180), interpolation=cv2.INTER_AREA).astype(np.float32)
    frame = cv2.GaussianBlur(frame, (0, 0), 0.9) + rng.normal(0, 2.0, frame.shape)
    [marker] = find_markers(np.clip(frame, 0, 255).astype(np.uint8))
    assert marker.id == 4
    np.testing.assert_allclose(marker.corners, true, atol=0.15)
    sides = np.linalg.norm(np.roll(marker.corners, -1, axis=0) - marker.corners, axis=1)
    true_sides = np.linalg.norm(np.roll(true, -1, axis=0) - true, axis=1)
    assert sides.sum() / true_sides.sum() == pytest.approx(1.0, abs=0.002)


def test_specks_and_slivers_are_not_markers():
    """ArUco's own detections in real footage (poster_cube, ViSP, frames 36 and 50 at 384x288):
    a 1 x 5 px sliver and a 24 x 4 px flat quad, both read as id 17. A printed marker is neither."""
    from openstrate_nb.markers import plausible_square

    sliver = np.array([[173.0, 24.0], [173.0, 29.0], [172.0, 29.0], [172.0, 24.0]])
    flat = np.array([[184.0, 173.0], [175.0, 171.0], [182.0, 169.0], [199.0, 170.0]])
    assert not plausible_square(sliver) and not plausible_square(flat)
    seen = np.array([[282.2, 303.2], [327.5, 299.0], [340.2, 323.1], [290.5, 328.5]])  # the sample's marker, frame 60
    assert plausible_square(seen) and plausible_square(seen[::-1])
