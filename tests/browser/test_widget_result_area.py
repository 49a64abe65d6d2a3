"""The widget as a user lives with it, in headless Chromium: the result area in a narrow
window and in the dark theme, "New video", Cancel during a reconstruction, a failure that
looks like one, and a whole run with no error in the browser's console or the kernel's log.
"""

from __future__ import annotations

import io

import httpx
import numpy as np
import pytest
from _jupyter import NotebookPage, seconds_left, write_notebook
from _media import write_video
from PIL import Image

pytestmark = pytest.mark.browser

NARROW = {"width": 700, "height": 950}

# Every text of the reconstruction row, recorded as it changes (no sampling, no timing).
RECORD_JOB_ROW = """
(root) => {
  window.__osnbJob = [];
  const text = root.querySelector('.osnb-row[data-row=job] .osnb-text');
  new MutationObserver(() => window.__osnbJob.push(text.textContent)).observe(
    text, { childList: true, characterData: true, subtree: true });
}
"""


def _inside(inner, outer, slack=1.0) -> bool:
    return (inner["x"] >= outer["x"] - slack and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack)


def _corner_luminance(png: bytes) -> float:
    pixel = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))[6, 6].astype(float)
    return float(pixel @ [0.2126, 0.7152, 0.0722] / 255)


def _wait_for(predicate, page, timeout_ms: int = 20_000) -> bool:
    for _ in range(timeout_ms // 250):
        if predicate():
            return True
        page.wait_for_timeout(250)
    return predicate()


def test_the_result_fits_a_narrow_window_follows_the_dark_theme_and_offers_a_new_video(
        jupyter, openstrate_server, notebook_root, chromium, artifacts, tmp_path, kernel_log):
    context = chromium.new_context(viewport=NARROW)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    video = write_video(tmp_path / "narrow-walk.mp4", frames=10)
    write_notebook(notebook_root, "narrow.ipynb", [
        "from openstrate_nb import ReconstructWidget\n"
        f"w = ReconstructWidget({str(video)!r}, base_url={openstrate_server.base_url!r}, poll_interval=0.2)\nw",
        "job = w.wait()",
    ])
    nb = NotebookPage(page, f"{jupyter}/lab/tree/narrow.ipynb")
    nb.record_kernel_errors()
    card = nb.run_widget_to_its_result()
    canvas = card.locator(".osnb-scene canvas")
    iframe = card.locator(".osnb-result iframe")
    # The iframe loads lazily: in a narrow window it may start below the fold.
    iframe.scroll_into_view_if_needed()
    viewer = iframe.element_handle().content_frame()
    viewer.wait_for_selector("#viewer[data-state=ready]", timeout=60_000)

    # One card, as wide as the cell's output and no wider; both views inside it.
    output = nb.cell(0).locator(".jp-OutputArea-output").first.bounding_box()
    box = card.bounding_box()
    assert _inside(box, output), (box, output)
    for part in (iframe, canvas):
        assert _inside(part.bounding_box(), box), (part.bounding_box(), box)
    # The kernel drew its view for this width (the browser told it), not a fixed 640 px scaled down.
    drawn = _wait_for(lambda: abs(canvas.evaluate("c => c.width / devicePixelRatio") - canvas.bounding_box()["width"]) < 40,
                      page)
    assert drawn, (canvas.evaluate("c => c.width"), canvas.bounding_box())
    assert canvas.bounding_box()["width"] < 640
    assert "up to 100 MiB" not in card.inner_text()  # the picker is gone once a video is picked
    page.screenshot(path=str(artifacts / "lab-7-narrow.png"), full_page=True)

    # The dark theme reaches both views: the /view page by message (no reload), the kernel's by its trait.
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
    viewer.wait_for_function("() => document.documentElement.dataset.theme === 'dark'", timeout=20_000)
    assert _wait_for(lambda: _corner_luminance(iframe.screenshot()) < 0.3, page)
    assert _wait_for(lambda: _corner_luminance(canvas.screenshot()) < 0.3, page)
    page.screenshot(path=str(artifacts / "lab-8-narrow-dark.png"), full_page=True)
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'", timeout=30_000)
    assert _wait_for(lambda: _corner_luminance(canvas.screenshot()) > 0.7, page)

    # "New video…" after a result: the same video again attaches to its job, nothing is sent.
    with page.expect_file_chooser() as chooser:
        card.locator("button", has_text="New video").click()
    chooser.value.set_files(str(video))
    card.locator(".osnb-notice", has_text="nothing was sent again").wait_for(timeout=60_000)
    card.locator(".osnb-pill", has_text="Complete").wait_for(timeout=60_000)
    card.locator(".osnb-scene canvas").wait_for(state="visible", timeout=60_000)

    log = kernel_log()
    assert "TraitError" not in log and "Traceback" not in log, log[-3000:]
    assert not nb.kernel_errors(), nb.kernel_errors()
    assert not errors, errors
    context.close()


def test_cancel_during_a_reconstruction_and_a_failure_without_retry_in_notebook7(
        jupyter, openstrate_server, notebook_root, open_notebook, console_errors, artifacts, tmp_path, kernel_log):
    write_notebook(notebook_root, "cancel.ipynb", [
        "from openstrate_nb import ReconstructWidget\n"
        f"w = ReconstructWidget(base_url={openstrate_server.base_url!r}, poll_interval=0.2)\nw",
    ])
    nb = open_notebook(f"{jupyter}/notebooks/cancel.ipynb")
    page = nb.page
    # From here on, the widget's doing (Notebook 7's own start-up is not under test).
    console_errors.clear()
    nb.record_kernel_errors()
    nb.run_cell(0)
    widget = nb.cell(0).locator(".osnb")
    widget.wait_for(timeout=60_000)
    nb.wait_idle()
    assert "up to 100 MiB" in widget.locator(".osnb-hint").inner_text()  # the cap, before a file is picked

    # A text file renamed to .mp4 passes the picker's type check; the server finds no video in
    # it. Sending it again cannot change that: a failure, drawn as one, and no Retry.
    notes = tmp_path / "notes.mp4"
    notes.write_text("my notes on the walk\n" * 2000)
    widget.locator("input[type=file]").set_input_files(str(notes))
    widget.locator(".osnb-pill", has_text="Failed").wait_for(timeout=60_000)
    assert "not a video" in widget.locator(".osnb-error").inner_text()
    assert not widget.locator("button", has_text="Retry").is_visible()
    assert widget.evaluate("(root) => root.dataset.phase") == "failed"

    # A real video: the time left shows and falls; Cancel stops the server's job.
    widget.evaluate(RECORD_JOB_ROW)
    video = write_video(tmp_path / "to-cancel.mp4", frames=40)
    widget.locator("input[type=file]").set_input_files(str(video))
    page.wait_for_function(
        "() => new Set(window.__osnbJob.filter(t => / left/.test(t)).map(t => t.match(/(\\d+ \\w+|a few seconds) left/)[0])).size >= 3",
        timeout=120_000)
    job_id = widget.locator(".osnb-job code").inner_text().strip()
    widget.locator("button", has_text="Cancel").click()
    widget.locator(".osnb-pill", has_text="Cancelled").wait_for(timeout=10_000)
    page.screenshot(path=str(artifacts / "nb7-cancelled.png"), full_page=True)
    job = httpx.get(f"{openstrate_server.base_url}/api/reconstruct/status/{job_id}").json()
    assert job["status"] == "failed" and job["code"] == "cancelled", job

    left = [s for s in map(seconds_left, page.evaluate("() => window.__osnbJob")) if s is not None]
    assert left[0] > left[-1], left
    assert sum(b > a for a, b in zip(left, left[1:])) <= len(left) // 4, left  # it mostly counts down
    log = kernel_log()
    assert "TraitError" not in log and "Traceback" not in log, log[-3000:]
    assert not nb.kernel_errors(), nb.kernel_errors()
    assert not console_errors, console_errors
