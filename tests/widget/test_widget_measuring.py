"""Measuring in the widget's 3D view, without a browser: a double-click reaches the kernel as
the pythreejs ``Picker``'s new state, so the tests set that state as the front end does.

The test pipeline's result is a unit icosphere: every vertex is 1 from the centre, and a
vertex and its opposite are 2 apart.
"""

from __future__ import annotations

import numpy as np
import pytest
import pythreejs

from openstrate_nb.widget._measuring import Measuring, area_text, box_text, length_text


def _parts(w):
    """The view's picker, its marks (two dots, a line) and the readout's text."""
    [picker] = [c for c in w.scene.controls if isinstance(c, pythreejs.Picker)]
    [marks] = [c for c in w.scene.scene.children if isinstance(c, pythreejs.Group)]
    readout = w.container.children[1].children[1]
    return picker, marks, readout


def _text(w) -> str:
    return _parts(w)[2].value


def _double_click(picker, point, *, hit: bool = True) -> None:
    """What Picker.js sends after a double-click: a hit's point and distance, or a miss."""
    state = {"point": [float(v) for v in point], "distance": 3.0, "faceIndex": 0,
             "object": f"IPY_MODEL_{picker.controlling.model_id}"}
    if not hit:
        state = {"point": [0.0, 0.0, 0.0], "distance": None, "faceIndex": None, "object": None}
    picker.set_state(state)


def _opposite_vertices(w):
    """Two displayed vertices on opposite sides of the sphere (2 units apart)."""
    positions = np.asarray(w.scene.scene.children[0].geometry.attributes["position"].array, dtype=float)
    a = positions[0]
    b = positions[np.argmin(np.linalg.norm(positions + a, axis=1))]
    assert np.linalg.norm(b - a) == pytest.approx(2.0, rel=1e-3)
    return a, b


def _shown_dots(marks):
    *dots, line = marks.children
    return [np.asarray(dot.position) for dot in dots if dot.visible], line


def test_two_double_clicks_measure_in_units_until_the_scale_is_known(finished_widget):
    w = finished_widget
    picker, marks, readout = _parts(w)
    assert picker.event == "dblclick" and picker.controlling in w.scene.scene.children
    assert w.measurement is None and "Double-click two points" in readout.value
    a, b = _opposite_vertices(w)

    _double_click(picker, a)
    dots, line = _shown_dots(marks)
    assert len(dots) == 1 and not line.visible and "Double-click a second point" in _text(w)
    _double_click(picker, b)
    dots, line = _shown_dots(marks)
    assert len(dots) == 2 and line.visible
    np.testing.assert_allclose(line.geometry.attributes["position"].array, [a, b], atol=1e-6)
    assert w.measurement == pytest.approx(2.0, rel=0.01)
    assert "Distance: 2.000 units (scale unknown: see w.set_scale)" in _text(w)
    # The box and area are the full mesh's, in its own units.
    assert f"Box {box_text(w.mesh.extents, 'unknown')} · Area {area_text(w.mesh.area, 'unknown')}" in _text(w)

    w.set_scale(a, b, 0.5)  # the sphere is 50 cm across
    assert w.measurement == pytest.approx(0.5, rel=0.01)
    assert "Distance: 0.500 m (50.0 cm)" in _text(w) and "scale unknown" not in _text(w)
    assert f"Area {area_text(w.mesh.area, 'm')}" in _text(w) and w.mesh.area == pytest.approx(np.pi / 4, rel=0.02)


def test_a_third_double_click_starts_again_and_a_miss_changes_nothing(finished_widget):
    w = finished_widget
    picker, marks, _readout = _parts(w)
    a, b = _opposite_vertices(w)
    _double_click(picker, a)
    _double_click(picker, [9.0, 9.0, 9.0], hit=False)  # beside the mesh
    assert len(_shown_dots(marks)[0]) == 1
    _double_click(picker, b)
    assert w.measurement == pytest.approx(2.0, rel=0.01)

    _double_click(picker, [0.0, 0.0, 1.0])
    dots, line = _shown_dots(marks)
    assert w.measurement is None and len(dots) == 1 and not line.visible
    np.testing.assert_allclose(dots[0], [0.0, 0.0, 1.0])
    assert "Double-click a second point" in _text(w) and "Distance" not in _text(w)
    _double_click(picker, [0.0, 0.0, -1.0])
    assert w.measurement == pytest.approx(2.0, rel=0.01) and "Distance: 2.000 units" in _text(w)


def test_a_new_result_starts_without_a_measurement_and_picks_on_its_own_mesh(finished_widget, tmp_path):
    from _media import write_video

    w = finished_widget
    picker, marks, _readout = _parts(w)
    _double_click(picker, [0.0, 0.0, 1.0])
    _double_click(picker, [0.0, 0.0, -1.0])
    w.submit(write_video(tmp_path / "other.mp4", frames=14))
    assert w.measurement is None  # no result, so nothing measured on it
    w.wait(timeout=120)
    [mesh] = [c for c in w.scene.scene.children if isinstance(c, pythreejs.Mesh)]
    assert _parts(w)[0] is picker and picker.controlling is mesh
    assert w.measurement is None and _shown_dots(marks)[0] == [] and "Double-click two points" in _text(w)


def test_measuring_keeps_to_the_picks_on_a_decimated_view(make_widget, video):
    # Picks land on the displayed (decimated) copy; the box and area still come from every face.
    w = make_widget(video, max_faces=200)
    w.wait(timeout=120)
    picker, _marks, _readout = _parts(w)
    _double_click(picker, [0.3, 0.0, 0.0])
    _double_click(picker, [0.0, 0.4, 0.0])
    assert w.measurement == pytest.approx(0.5, rel=0.01)
    assert f"Area {area_text(w.mesh.area, 'unknown')}" in _text(w)


def test_the_readings_read_as_on_the_view_page():
    import trimesh

    assert length_text(1.23456, "unknown") == "1.235 units" and length_text(2, "unknown") == "2.000 units"
    assert length_text(1234.4, "unknown") == "1234 units"
    assert length_text(0.753, "m") == "0.753 m (75.3 cm)" and length_text(2.5, "m") == "2.500 m"
    assert box_text([1.2, 0.8, 0.45], "m") == "1.20 × 0.80 × 0.45 m"
    assert area_text(3.2149, "m") == "3.21 m²" and area_text(3.2149, "unknown") == "3.21 units²"

    box = trimesh.creation.box(extents=[2.0, 1.0, 0.5])
    measuring = Measuring(box)
    assert measuring.lines()[0] == "Box 2.00 × 1.00 × 0.500 units · Area 7.00 units²"
    measuring.pick([-1.0, -0.5, -0.25])
    measuring.pick([1.0, 0.5, 0.25])
    assert measuring.distance == pytest.approx(np.sqrt(5.25))
