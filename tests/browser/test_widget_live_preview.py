"""The live preview in JupyterLab (headless Chromium): the model so far is drawn in the
widget's 3D view while the job runs, and the mesh replaces it when the result comes.

The server runs ``growing_pipeline`` (tests/_pipelines.py: four versions of a growing point
cloud, 2.5 s apart); the real pipeline's preview is tested in tests/local/test_stage_artifacts.py.
"""

from __future__ import annotations

import re

import pytest
from _jupyter import distinct_colours, write_notebook
from _media import write_video

pytestmark = pytest.mark.browser


@pytest.fixture
def growing_server(tmp_path, monkeypatch):
    from openstrate_nb.local import start

    monkeypatch.setenv("OPENSTRATE_TEST_LIVE_STEP", "2.5")  # the worker process reads it
    with start(port=0, data_dir=tmp_path / "data", pipeline="_pipelines:growing_pipeline") as srv:
        yield srv


def test_points_appear_and_grow_before_the_mesh_replaces_them(
        jupyter, growing_server, notebook_root, open_notebook, console_errors, kernel_log, artifacts):
    video = write_video(notebook_root / "growing-walk.mp4", frames=8)
    write_notebook(notebook_root, "live.ipynb", [
        "from openstrate_nb import ReconstructWidget\n"
        f"w = ReconstructWidget({video.name!r}, base_url={growing_server.base_url!r}, poll_interval=0.2, cache=False)\nw",
        "w.preview_points, w.mesh is None",
    ])
    nb = open_notebook(f"{jupyter}/lab/tree/live.ipynb")
    console_errors.clear()
    nb.record_kernel_errors()
    nb.run_cell(0)
    card = nb.cell(0).locator(".osnb-card")
    canvas = nb.cell(0).locator(".osnb-scene canvas")
    canvas.wait_for(state="visible", timeout=60_000)  # the first version of the model, before any mesh
    assert card.locator(".osnb-pill", has_text="Complete").count() == 0
    # The progress line says how much of the model the view shows.
    card.locator('[data-row="job"] .osnb-text', has_text=re.compile(r"model so far: [\d,]+ points")).wait_for(
        timeout=10_000)
    card.screenshot(path=str(artifacts / "lab-11-live-progress.png"))
    nb.run_cell(1)
    early = nb.cell(1).locator(".jp-OutputArea-output").inner_text()
    points, no_mesh = early.strip("()").split(", ")
    assert int(points) >= 800 and no_mesh == "True", early
    nb.page.wait_for_timeout(1500)  # three.js draws on its next frame
    shot = canvas.screenshot(path=str(artifacts / "lab-11-live-preview.png"))
    assert distinct_colours(shot) > 30  # coloured points, not an empty view

    card.locator(".osnb-pill", has_text="Complete").wait_for(timeout=120_000)
    nb.run_cell(1)
    nb.page.wait_for_function(
        "() => document.querySelectorAll('.jp-Cell')[1].innerText.includes('3200, False')", timeout=30_000)
    nb.cell(0).locator(".osnb-measure", has_text="Box").wait_for(timeout=30_000)  # the mesh's readings
    assert "model so far" not in card.locator('[data-row="job"] .osnb-text').inner_text()
    nb.page.wait_for_timeout(1500)
    canvas.screenshot(path=str(artifacts / "lab-12-live-then-mesh.png"))
    log = kernel_log()
    assert "Traceback" not in log, log[-3000:]
    assert not nb.kernel_errors(), nb.kernel_errors()
    assert not console_errors, console_errors
