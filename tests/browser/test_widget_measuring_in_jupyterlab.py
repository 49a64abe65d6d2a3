"""Measuring in the widget's pythreejs view, in headless Chromium: a double-click reaches the
kernel through pythreejs' Picker, the marks and the readout come back, and set_scale turns
the readout into metres."""

from __future__ import annotations

import re

import pytest
from _jupyter import NotebookPage, write_notebook
from _media import write_video

pytestmark = pytest.mark.browser


def test_two_double_clicks_on_the_view_measure_and_set_scale_gives_metres(
        jupyter, openstrate_server, notebook_root, page, console_errors, artifacts, tmp_path, kernel_log):
    video = write_video(tmp_path / "measure-walk.mp4", frames=10)
    write_notebook(notebook_root, "measure.ipynb", [
        "from openstrate_nb import ReconstructWidget\n"
        f"w = ReconstructWidget({str(video)!r}, base_url={openstrate_server.base_url!r}, poll_interval=0.2)\nw",
        "job = w.wait()",
        # The result is a unit sphere: centre to pole is 1 m from here on.
        "w.set_scale([0, 0, 0], [0, 0, 1], 1.0)\nprint(f'measured {w.measurement:.3f}')",
    ])
    nb = NotebookPage(page, f"{jupyter}/lab/tree/measure.ipynb")
    console_errors.clear()
    nb.record_kernel_errors()
    card = nb.run_widget_to_its_result()
    canvas = card.locator(".osnb-scene canvas")
    readout = card.locator(".osnb-scene .osnb-measure")
    readout.get_by_text("Double-click two points").wait_for(timeout=30_000)

    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    middle = {"x": box["width"] / 2, "y": box["height"] / 2}
    canvas.dblclick(position=middle)
    readout.get_by_text("Double-click a second point").wait_for(timeout=30_000)
    canvas.dblclick(position={"x": middle["x"] + box["width"] / 8, "y": middle["y"]})
    readout.get_by_text(re.compile(r"Distance: [0-9.]+ units \(scale unknown")).wait_for(timeout=30_000)
    # Under the view, not beside it.
    assert readout.bounding_box()["y"] >= box["y"] + box["height"] - 1, (readout.bounding_box(), box)
    readout.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "lab-measure-units.png"))

    nb.run_cell(2)
    readout.get_by_text(re.compile(r"Distance: [0-9.]+ m")).wait_for(timeout=30_000)
    measured = nb.cell(2).locator(".jp-OutputArea-output", has_text="measured").inner_text()
    shown = re.search(r"Distance: ([0-9.]+) m", readout.inner_text()).group(1)
    assert measured.split()[-1] == shown and 0 < float(shown) < 2, (measured, shown)
    readout.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "lab-measure-metres.png"))

    log = kernel_log()
    assert "TraitError" not in log and "Traceback" not in log, log[-3000:]
    assert not nb.kernel_errors(), nb.kernel_errors()
    assert not console_errors, console_errors
