"""Measuring in the ``/view`` page (headless Chromium): click two known points of a GLB of
known geometry and read their distance, with the box and the area, in metres when the GLB
says it is in metres and in plain units otherwise."""

from __future__ import annotations

import re

import numpy as np
import pytest
import trimesh

from openstrate_nb import OpenStrate
from openstrate_nb.local.pipeline.outputs import write_glb

pytestmark = pytest.mark.browser

SIZE = (2.0, 1.0, 0.5)  # a box: 2 m wide, 1 m high, 0.5 m deep, centred on the origin


def _box_glb(path, scale):
    box = trimesh.creation.box(SIZE)
    colours = np.full((len(box.vertices), 3), 180, np.uint8)
    write_glb(path, np.asarray(box.vertices, np.float32), np.asarray(box.faces, np.uint32), colours,
              extras={"openstrate_nb": {"scale": scale}})
    return path


def _open_view(page, server, glb):
    with OpenStrate(server.base_url) as client:
        upload = client.upload(glb)
    page.goto(f"{server.base_url}/view/{upload.id}.glb")
    page.wait_for_selector("#viewer[data-state=ready]", timeout=60_000)


def _click(page, xyz):
    at = page.evaluate("(xyz) => document.getElementById('viewer')[Symbol.for('openstrate.viewer')].screenPoint(xyz)",
                       list(xyz))
    page.mouse.click(at["x"], at["y"])


def test_two_clicks_on_a_metric_box_give_their_distance_in_metres(page, openstrate_server, tmp_path):
    _open_view(page, openstrate_server, _box_glb(tmp_path / "box.glb", {"units": "m", "factor": 1.0}))
    page.get_by_role("button", name="Measure").click()
    panel = page.locator(".openstrate-measure")
    assert "Box 2.00 × 1.00 × 0.50 m" in panel.inner_text() and "Area 7.00 m²" in panel.inner_text()
    # Two points on the front face, 1.8 m apart, in the middle of the default view.
    _click(page, (-0.9, 0.0, 0.25))
    _click(page, (0.9, 0.0, 0.25))
    text = panel.inner_text()
    distance = float(re.search(r"Distance ([\d.]+) m", text).group(1))
    assert distance == pytest.approx(1.8, rel=0.01), text
    # A third click starts a new measurement.
    _click(page, (0.0, 0.2, 0.25))
    assert "Click a second point" in panel.inner_text()


def test_a_mesh_without_a_scale_is_measured_in_its_own_units(page, openstrate_server, tmp_path):
    _open_view(page, openstrate_server, _box_glb(tmp_path / "box.glb", {"units": "unknown"}))
    page.locator(".openstrate-viewer").focus()  # M toggles measuring, as the button does
    page.keyboard.press("m")
    _click(page, (-0.9, 0.0, 0.25))
    _click(page, (0.9, 0.0, 0.25))
    text = page.locator(".openstrate-measure").inner_text()
    assert re.search(r"Distance 1\.[78]\d* units \(scale unknown\)", text), text
    assert "units²" in text and " m²" not in text
