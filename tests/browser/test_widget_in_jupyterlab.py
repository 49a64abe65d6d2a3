"""ReconstructWidget in JupyterLab 4 and Notebook 7, in headless Chromium.

One notebook walks the whole story a user sees, in order: the widget renders; a 20 MB
video set on the picker's file input travels to the kernel and on to the server with both
bars advancing; reconstruction progress moves while no cell runs and while another cell
sleeps; the /view iframe and the pythreejs view show the mesh; after a kernel restart,
``ReconstructWidget(job_id=...)`` shows the same result; picking the same video again sends
nothing and attaches to that job.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
from _jupyter import distinct_colours, write_notebook

pytestmark = pytest.mark.browser

# Every text change of the widget's rows and status pill, recorded in the page as it
# happens (a MutationObserver), so the assertions need no timing.
RECORD_ROWS = """
(root) => {
  window.__osnbLog = window.__osnbLog || [];
  const seen = (name, text) => window.__osnbLog.push([name, text, Math.round(performance.now())]);
  const watch = (node, name) => {
    new MutationObserver(() => seen(name, node.textContent)).observe(
      node, { childList: true, characterData: true, subtree: true });
    seen(name, node.textContent);
  };
  for (const row of root.querySelectorAll('.osnb-row')) watch(row.querySelector('.osnb-text'), row.dataset.row);
  watch(root.querySelector('.osnb-pill'), 'phase');
}
"""


def write_big_video(path, frames: int = 36):
    """About 20 MB of real H.264 (lossless noise does not compress), so the server accepts it."""
    import av

    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10, options={"qp": "0", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        for _ in range(frames):
            image = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _log(page, name):
    return [text for row, text, *_ in page.evaluate("() => window.__osnbLog") if row == name]


def _percents(texts):
    return [int(m.group(1)) for m in (re.search(r"(\d+)%", t) for t in texts) if m]


def _steps(texts):
    """The job row's percentages while it shows "Step k of n: ..." (one bar for the whole job)."""
    return _percents(t for t in texts if re.match(r"Step \d+ of \d+: ", t))


def _screenshot_canvas(page, cell, artifacts, name):
    canvas = cell.locator(".jp-OutputArea-output canvas").first
    canvas.wait_for(state="visible", timeout=60_000)
    # Give WebGL (SwiftShader) a few frames to draw before the picture is taken.
    page.wait_for_timeout(1500)
    png = canvas.screenshot(path=str(artifacts / name))
    return distinct_colours(png)


def test_picker_upload_progress_result_and_reattach_in_jupyterlab(jupyter, openstrate_server, notebook_root,
                                                                   open_notebook, artifacts, tmp_path):
    video = write_big_video(tmp_path / "walk-20mb.mp4")
    assert video.stat().st_size > 19e6
    write_notebook(notebook_root, "lab.ipynb", [
        "from openstrate_nb import ReconstructWidget\n"
        f"w = ReconstructWidget(base_url={openstrate_server.base_url!r}, poll_interval=0.2)\nw",
    ])
    nb = open_notebook(f"{jupyter}/lab/tree/lab.ipynb")
    page = nb.page
    nb.run_cell(0)
    widget = nb.cell(0).locator(".osnb")
    widget.wait_for(timeout=60_000)
    nb.wait_idle()
    assert widget.locator(".osnb-drop").is_visible()
    page.screenshot(path=str(artifacts / "lab-1-widget.png"))

    widget.evaluate(RECORD_ROWS)
    widget.locator("input[type=file]").set_input_files(str(video))

    # Reconstruction starts once the video has crossed both hops.
    page.wait_for_function(
        "() => (window.__osnbLog || []).some(([row, text]) => row === 'job' && /^Step \\d+ of \\d+: /.test(text))",
        timeout=180_000)
    page.screenshot(path=str(artifacts / "lab-2-uploaded.png"))
    kernel, server = _percents(_log(page, "kernel")), _percents(_log(page, "server"))
    assert kernel[-1] == 100 and any(0 < p < 100 for p in kernel), kernel
    assert kernel == sorted(kernel)
    assert server[-1] == 100 and server[0] < 100 and server == sorted(server), server
    assert re.search(r"MiB / (1[89]|20) MiB · 100% · [\d.]+ [KM]iB/s", _log(page, "kernel")[-1])

    # Progress while the kernel is idle (no cell runs) ...
    seen = "new Set((window.__osnbLog || []).filter(([r, t]) => r === 'job' && /^Step .*\\d+%/.test(t))" \
           ".map(([r, t]) => t.match(/(\\d+)%/)[1])).size"
    steps_before = len(set(_steps(_log(page, "job"))))
    page.wait_for_function(f"() => {seen} >= {steps_before + 2}", timeout=120_000)
    assert not page.evaluate(f"() => {nb.running_cell_js(0)}")

    # ... and while another cell blocks the kernel.
    nb.run_cell(1, "import time\ntime.sleep(8)")
    page.wait_for_function(f"() => {nb.running_cell_js(1)}", timeout=60_000)
    during = len(set(_steps(_log(page, "job"))))
    page.wait_for_function(f"() => {seen} >= {during + 3} && {nb.running_cell_js(1)}", timeout=60_000)
    percents = _steps(_log(page, "job"))
    assert percents == sorted(percents) and len(set(percents)) >= 5  # the bar never went back

    # The result: the /view iframe from the embedded server, and the pythreejs view below it.
    nb.wait_idle()
    widget.locator(".osnb-pill", has_text="Complete").wait_for(timeout=180_000)
    iframe = widget.locator(".osnb-result iframe")
    src = iframe.get_attribute("src")
    # The /view page of the kernel-side server, through Jupyter's own proxy (it reaches the
    # browser from any machine), told the notebook's theme.
    port = openstrate_server.base_url.rsplit(":", 1)[1]
    assert src.startswith(f"/proxy/{port}/view/") and src.endswith(".glb?theme=light"), src
    assert iframe.get_attribute("sandbox") == "allow-scripts allow-same-origin"
    assert iframe.get_attribute("allow") == "fullscreen"
    assert widget.locator(".osnb-result a").get_attribute("href") == src.split("?")[0]
    viewer = page.frame_locator(".osnb-result iframe")
    viewer.locator("#viewer").wait_for(timeout=60_000)
    job_id = widget.locator(".osnb-job code").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f-]{36}", job_id)
    colours = _screenshot_canvas(page, nb.cell(0), artifacts, "lab-3-pythreejs.png")
    page.screenshot(path=str(artifacts / "lab-3-complete.png"), full_page=True)
    assert colours > 200, colours

    # A kernel restart loses every Python object; the job id is enough to show the result again.
    nb.restart_kernel()
    nb.run_cell(2, "from openstrate_nb import ReconstructWidget\n"
                   f"again = ReconstructWidget(job_id={job_id!r}, base_url={openstrate_server.base_url!r})\nagain")
    again = nb.cell(2).locator(".osnb")
    again.locator(".osnb-pill", has_text="Complete").wait_for(timeout=120_000)
    assert again.locator(".osnb-job code").inner_text().strip() == job_id
    assert again.locator(".osnb-result iframe").get_attribute("src") == src
    colours_again = _screenshot_canvas(page, nb.cell(2), artifacts, "lab-4-reattached.png")
    assert colours_again > 200, colours_again

    # The same video picked again: the browser hashes it, the kernel knows its job, and not
    # a byte crosses either hop.
    nb.run_cell(3, f"fresh = ReconstructWidget(base_url={openstrate_server.base_url!r}, poll_interval=0.2)\nfresh")
    fresh = nb.cell(3).locator(".osnb")
    fresh.wait_for(timeout=60_000)
    nb.wait_idle()
    page.evaluate("() => { window.__osnbLog = []; }")
    fresh.evaluate(RECORD_ROWS)
    fresh.locator("input[type=file]").set_input_files(str(video))
    fresh.locator(".osnb-pill", has_text="Complete").wait_for(timeout=120_000)
    assert "nothing was sent again" in fresh.locator(".osnb-notice").inner_text()
    assert not [text for text in _log(page, "kernel") + _log(page, "server") if text]
    assert fresh.locator(".osnb-job code").inner_text().strip() == job_id


def test_run_all_reproduces_a_kernel_side_video_in_notebook7(jupyter, openstrate_server, notebook_root,
                                                              open_notebook, artifacts, tmp_path):
    from _media import write_video

    video = write_video(tmp_path / "small.mp4", frames=12)
    write_notebook(notebook_root, "nb7.ipynb", [
        "from openstrate_nb import ReconstructWidget\n"
        f"w = ReconstructWidget({str(video)!r}, base_url={openstrate_server.base_url!r}, poll_interval=0.2)\nw",
        # wait() blocks this cell while the widget above keeps updating; then the mesh is there.
        "job = w.wait()\nprint('faces', len(w.mesh.faces))",
    ])
    nb = open_notebook(f"{jupyter}/notebooks/nb7.ipynb")
    page = nb.page
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
    widget = nb.cell(0).locator(".osnb")
    widget.wait_for(timeout=60_000)
    assert not widget.locator(".osnb-drop").is_visible()  # a kernel-side run needs no picker
    widget.locator(".osnb-pill", has_text="Complete").wait_for(timeout=180_000)
    nb.cell(1).locator(".jp-OutputArea-output", has_text="faces 5120").wait_for(timeout=60_000)
    assert widget.locator(".osnb-row[data-row=kernel]").is_hidden()
    assert "100%" in widget.locator(".osnb-row[data-row=server] .osnb-text").inner_text()
    page.frame_locator(".osnb-result iframe").locator("#viewer").wait_for(timeout=60_000)
    colours = _screenshot_canvas(page, nb.cell(0), artifacts, "nb7-pythreejs.png")
    page.screenshot(path=str(artifacts / "nb7-complete.png"), full_page=True)
    assert colours > 200, colours


def test_a_200_mb_file_reaches_the_kernel_under_a_default_jupyter_server(jupyter, openstrate_server, notebook_root,
                                                                         open_notebook, artifacts, tmp_path):
    # One message of 200 MB would be dropped by the server's 10 MiB websocket limit; chunks are not.
    big = tmp_path / "big-walk.mp4"
    with big.open("wb") as fh:
        for _ in range(200):
            fh.write(os.urandom(1 << 20))
    write_notebook(notebook_root, "big.ipynb", [
        "from openstrate_nb import OpenStrate, ReconstructWidget\n"
        # The kernel takes it whatever the embedded server's cap, so the server's own refusal shows.
        f"client = OpenStrate({openstrate_server.base_url!r}, max_upload_bytes=600 * 2**20)\n"
        "w = ReconstructWidget(client=client)\nw",
        "w.kernel_hop['sent']",
    ])
    nb = open_notebook(f"{jupyter}/lab/tree/big.ipynb")
    page = nb.page
    nb.run_cell(0)
    widget = nb.cell(0).locator(".osnb")
    widget.wait_for(timeout=60_000)
    nb.wait_idle()
    widget.evaluate(RECORD_ROWS)
    widget.locator("input[type=file]").set_input_files(str(big))
    widget.locator(".osnb-pill", has_text="Failed").wait_for(timeout=300_000)
    page.screenshot(path=str(artifacts / "lab-5-200mb.png"))
    kernel = _log(page, "kernel")
    assert "200 MiB / 200 MiB · 100%" in kernel[-1]
    assert len(set(_percents(kernel))) >= 3  # the bar moved through the upload, not 0 then 100
    # Random bytes are no video (and over the embedded server's 100 MB cap): the server's
    # refusal is the error shown, in its own words; sending the same bytes again cannot
    # change it, so there is no Retry, and the bars turn to the failure colour.
    error = widget.locator(".osnb-error").inner_text()
    assert error and not error.startswith("HTTP"), error
    assert not widget.locator("button", has_text="Retry").is_visible()
    assert widget.evaluate("(root) => root.dataset.phase") == "failed"
    fill = widget.evaluate("(root) => getComputedStyle(root.querySelector('[data-row=kernel] .osnb-fill')).backgroundColor")
    assert fill != widget.evaluate("(root) => getComputedStyle(root.querySelector('.osnb-primary')).backgroundColor")
    assert page.locator("text=Connection lost").count() == 0
    nb.run_cell(1)
    nb.cell(1).locator(".jp-OutputArea-output", has_text=str(200 * (1 << 20))).wait_for(timeout=30_000)


def test_the_widget_reads_well_in_the_dark_theme(jupyter, notebook_root, open_notebook, artifacts):
    write_notebook(notebook_root, "dark.ipynb", [
        "from openstrate_nb import ReconstructWidget\nReconstructWidget(base_url='http://127.0.0.1:9')",
    ])
    nb = open_notebook(f"{jupyter}/lab/tree/dark.ipynb")
    page = nb.page
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
    nb.run_cell(0)
    widget = nb.cell(0).locator(".osnb")
    widget.wait_for(timeout=60_000)
    text = widget.evaluate("el => getComputedStyle(el).color")
    background = widget.evaluate("el => getComputedStyle(el).backgroundColor")
    assert _luminance(text) > 0.6 and _luminance(background) < 0.3, (text, background)

    # Drag and drop: a file that is no video is refused in the page; a video goes to the kernel,
    # whose upload to the (absent) server then fails with a readable error and Retry.
    drop_file = """([name, size]) => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(size)], name, { type: 'application/octet-stream' }));
        return data;
    }"""
    drop = widget.locator(".osnb-drop")
    drop.dispatch_event("drop", {"dataTransfer": page.evaluate_handle(drop_file, ["notes.txt", 10])})
    assert "not a video" in widget.locator(".osnb-error").inner_text()
    drop.dispatch_event("drop", {"dataTransfer": page.evaluate_handle(drop_file, ["walk.mp4", 300_000])})
    widget.locator(".osnb-pill", has_text="Failed").wait_for(timeout=60_000)
    assert "293 KiB / 293 KiB · 100%" in widget.locator(".osnb-row[data-row=kernel] .osnb-text").inner_text()
    drawn = widget.locator(".osnb-row[data-row=kernel] .osnb-fill").evaluate(
        "el => el.getBoundingClientRect().width / el.parentElement.getBoundingClientRect().width")
    assert drawn > 0.99  # the bar is drawn full, not left halfway by an unfinished CSS transition
    assert "Could not talk to http://127.0.0.1:9" in widget.locator(".osnb-error").inner_text()
    assert widget.locator("button", has_text="Retry").is_visible()
    page.screenshot(path=str(artifacts / "lab-6-dark.png"))
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")


def _luminance(css_colour: str) -> float:
    r, g, b = (int(v) for v in re.findall(r"\d+", css_colour)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255
