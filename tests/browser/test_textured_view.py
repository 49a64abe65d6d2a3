"""A photo-textured result, as ``openstrate_nb._gltf.glb_bytes`` writes it, opens
where it was filmed from and shows the texture's own colours, in headless Chromium: on the
``/view`` page (three.js 0.187) and in the kernel's pythreejs view in JupyterLab (r97).

The GLB is a 1 x 1 square at z = 0, textured with one flat colour, and a camera 2 units in
front of it looking straight at it, whose vertical field of view (2 atan 0.5) makes the
square half the picture's height. Its colour at the centre, unlit and sRGB in and out, is
the JPEG's decoded value; its edges, at a quarter of the height from the middle, show the
view starts at that camera (framed from the default direction, the square would fill the
picture, seen at a slant).
"""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from _jupyter import write_notebook
from PIL import Image

from openstrate_nb import OpenStrate
from openstrate_nb._gltf import GltfCamera, glb_bytes

pytestmark = pytest.mark.browser

COLOUR = (200, 120, 40)
DISTANCE = 2.0
YFOV = 2.0 * math.atan(0.5)  # the square's half side (0.5) at DISTANCE is a quarter of the height
TOLERANCE = 3


def _texture() -> tuple[bytes, np.ndarray]:
    """A flat JPEG and the colour it decodes to (within 1 of COLOUR)."""
    buffer = io.BytesIO()
    Image.fromarray(np.full((64, 64, 3), COLOUR, np.uint8)).save(buffer, format="JPEG", quality=90)
    decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")).reshape(-1, 3)
    assert len(np.unique(decoded, axis=0)) == 1
    assert np.abs(decoded[0].astype(int) - COLOUR).max() <= 1
    return buffer.getvalue(), decoded[0].astype(int)


def _square_glb(path) -> np.ndarray:
    jpeg, colour = _texture()
    positions = np.array([[-0.5, -0.5, 0], [0.5, -0.5, 0], [0.5, 0.5, 0], [-0.5, 0.5, 0]], np.float32)
    uv = np.array([[0, 1], [1, 1], [1, 0], [0, 0]], np.float32)  # glTF: (0, 0) at the image's top-left
    faces = np.array([[0, 1, 2], [0, 2, 3]], np.uint32)
    # OpenCV axes (x right, y down, z forward): looking down world -z from z = +2, world +y up.
    pose = np.eye(4)
    pose[:3, :3] = np.diag([1.0, -1.0, -1.0])
    pose[:3, 3] = [0.0, 0.0, DISTANCE]
    camera = GltfCamera(pose, yfov=YFOV, aspect=1.5, znear=DISTANCE / 1000,
                        extras={"frame_index": 0, "keyframe": 0, "target_distance": DISTANCE})
    path.write_bytes(glb_bytes(positions, faces, uv=uv, texture_jpeg=jpeg, camera=camera))
    return colour


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _span(line: np.ndarray, colour: np.ndarray) -> tuple[int, int]:
    """First and last index along ``line`` (N x 3) of the texture's colour."""
    hits = np.flatnonzero((np.abs(line - colour) <= TOLERANCE).all(axis=1))
    return (int(hits[0]), int(hits[-1])) if len(hits) else (-1, -1)


def _check_filmed_view(pixels: np.ndarray, colour: np.ndarray, what: str) -> dict:
    """The centre is the texture's colour; the square spans half the height, centred, both ways."""
    height, width, _ = pixels.shape
    centre = pixels[height // 2, width // 2]
    assert (np.abs(centre - colour) <= TOLERANCE).all(), f"{what}: centre {centre.tolist()} vs {colour.tolist()}"
    rows = _span(pixels[:, width // 2], colour)
    cols = _span(pixels[height // 2], colour)
    side = height / 2  # the square's side in pixels, across and up
    assert abs(rows[0] - height / 4) <= 3 and abs(rows[1] - 3 * height / 4) <= 3, (what, rows, height)
    assert abs(cols[0] - (width - side) / 2) <= 3 and abs(cols[1] - (width + side) / 2) <= 3, (what, cols, width)
    return {"centre": centre.tolist(), "rows": rows, "cols": cols, "size": (width, height)}


def _canvas_png(page, selector: str) -> bytes:
    """The /view canvas's own pixels (it keeps its drawing buffer), without the overlays."""
    import base64

    url = page.evaluate(f"() => document.querySelector({selector!r}).toDataURL('image/png')")
    return base64.b64decode(url.split(",", 1)[1])


def test_a_textured_result_opens_at_its_camera_in_its_own_colours(page, openstrate_server, console_errors,
                                                                    artifacts, tmp_path):
    colour = _square_glb(tmp_path / "square.glb")
    failed: list[str] = []  # where each console error came from
    page.on("console", lambda message: failed.append(message.location.get("url", "")) if message.type == "error" else None)
    with OpenStrate(openstrate_server.base_url) as client:
        upload = client.upload(tmp_path / "square.glb")
    page.goto(f"{openstrate_server.base_url}/view/{upload.id}.glb")
    page.wait_for_selector("#viewer[data-state=ready]", timeout=60_000)
    page.wait_for_timeout(1000)  # a few frames of SwiftShader
    page.screenshot(path=str(artifacts / "textured-view-start.png"))
    seen = _check_filmed_view(_pixels(_canvas_png(page, "#viewer canvas")), colour, "/view")
    print("/view start:", seen, "texture", colour.tolist())

    # Fit still frames the whole model: from the same direction, the square now fills the height.
    page.get_by_role("button", name="Fit").click()
    page.wait_for_timeout(1500)  # the orbit's damping settles
    pixels = _pixels(_canvas_png(page, "#viewer canvas"))
    page.screenshot(path=str(artifacts / "textured-view-fit.png"))
    height, width, _ = pixels.shape
    rows, cols = _span(pixels[:, width // 2], colour), _span(pixels[height // 2], colour)
    print("/view fit:", {"rows": rows, "cols": cols, "size": (width, height)})
    assert 0 < rows[0] < 0.06 * height and 0.94 * height < rows[1] < height - 1, (rows, height)
    assert abs((rows[1] - rows[0]) - (cols[1] - cols[0])) <= 3, (rows, cols)  # still square on: no slant, no roll
    # The browser asks for /favicon.ico, which the server does not have: that 404 is the one
    # "Failed to load resource" allowed; anything else is an error of the page.
    assert all(url.endswith("/favicon.ico") for url in failed), failed
    errors = [e for e in console_errors if not (failed and e.startswith("Failed to load resource") and "404" in e)]
    assert not errors, console_errors


def test_the_kernel_view_opens_at_the_camera_in_the_texture_colours(jupyter, notebook_root, open_notebook,
                                                                     console_errors, artifacts, tmp_path):
    glb = tmp_path / "square.glb"
    colour = _square_glb(glb)
    write_notebook(notebook_root, "textured.ipynb", [
        f"import openstrate_nb\nopenstrate_nb.show_mesh(openstrate_nb.load_glb({str(glb)!r}))",
    ])
    nb = open_notebook(f"{jupyter}/lab/tree/textured.ipynb")
    page = nb.page
    nb.record_kernel_errors()
    nb.run_cell(0)
    canvas = nb.cell(0).locator(".jp-OutputArea-output canvas").first
    canvas.wait_for(state="visible", timeout=60_000)
    nb.wait_idle()
    # Until the texture has arrived and been drawn (pythreejs loads the data URI itself).
    deadline, pixels = 30, None
    for _ in range(deadline):
        pixels = _pixels(canvas.screenshot())
        h, w, _ = pixels.shape
        if (np.abs(pixels[h // 2, w // 2] - colour) <= TOLERANCE).all():
            break
        page.wait_for_timeout(1000)
    canvas.screenshot(path=str(artifacts / "textured-kernel-view.png"))
    seen = _check_filmed_view(pixels, colour, "kernel view")
    print("kernel view:", seen, "texture", colour.tolist())
    assert not nb.kernel_errors(), nb.kernel_errors()
    assert not [e for e in console_errors if "pythreejs" in e or "three" in e.lower()], console_errors
