"""notebooks/quickstart.ipynb, run top to bottom in Notebook 7 as a user would ("Run All").

Its outputs are cleared first, so everything checked here came from this run: the kernel
starts the embedded server itself (%openstrate serve, since no OPENSTRATE_BASE_URL reaches
the kernel), reconstructs the sample with the real pipeline, and the page then shows the
widget complete, the server's /view page drawn in the widget's iframe, a pythreejs canvas
with the mesh, and no widget error anywhere.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from _jupyter import REPO, distinct_colours, seconds_left

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDGET_ERRORS = re.compile(r"Error displaying widget|Failed to (load|create) (model|view)|Could not render|"
                           r"Class \S+ not found in module|model not found", re.I)

ALL_RAN = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = Array.from(panel.content.model.cells).filter((c) => c.type === 'code');
  return kernel && kernel.status === 'idle' && cells.every((c) => c.executionCount !== null);
}"""

OUTPUTS = """() => Array.from(window.jupyterapp.shell.currentWidget.content.model.cells)
  .filter((c) => c.type === 'code')
  .map((c) => ({ source: c.sharedModel.getSource(), outputs: c.outputs.toJSON() }))"""


# Every 0.5 s, the reconstruction row's percentage (aria-valuenow) and text, once it shows.
SAMPLE_THE_BAR = """() => {
  window.__osnbBar = [];
  setInterval(() => {
    const row = document.querySelector('.osnb-row[data-row=job]');
    if (!row || row.hidden) return;
    const now = row.querySelector('.osnb-bar').getAttribute('aria-valuenow');
    window.__osnbBar.push([now === null ? null : Number(now), row.querySelector('.osnb-text').textContent]);
  }, 500);
}"""


def _text(outputs: list[dict]) -> str:
    parts = []
    for out in outputs:
        text = out.get("text") or (out.get("data") or {}).get("text/plain") or ""
        parts.append("".join(text) if isinstance(text, list) else text)
    return "".join(parts)


def test_quickstart_runs_to_the_end_in_notebook7(jupyter, notebook_root, open_notebook, artifacts):
    notebook = nbformat.read(REPO / "notebooks" / "quickstart.ipynb", as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(notebook, notebook_root / "quickstart.ipynb")

    nb = open_notebook(f"{jupyter}/notebooks/quickstart.ipynb")
    page = nb.page
    console_errors: list[str] = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    nb.record_kernel_errors()
    page.evaluate(SAMPLE_THE_BAR)
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    # A guard against a hang, not a speed requirement: the real pipeline runs in the kernel.
    page.wait_for_function(ALL_RAN, timeout=900_000, polling=1000)

    cells = page.evaluate(OUTPUTS)
    errors = [(c["source"][:60], o.get("ename"), o.get("evalue")) for c in cells for o in c["outputs"]
              if o.get("output_type") == "error"]
    assert errors == []
    by_source = {c["source"]: _text(c["outputs"]) for c in cells}
    assert any("Embedded OpenStrate server running at http://127.0.0.1:" in text for text in by_source.values())
    assert by_source["job = w.wait()\nprint(job.status)"].strip() == "complete"
    assert any(text.strip() == "mesh looks sane" for text in by_source.values())
    assert any(text.strip() == "sample_walkthrough.html True" for text in by_source.values())
    assert (notebook_root / "results" / "sample_walkthrough.html").is_file()

    widget = page.locator(".osnb").first
    widget.scroll_into_view_if_needed()
    widget.locator(".osnb-pill", has_text="Complete").wait_for(timeout=60_000)
    page.frame_locator(".osnb-result iframe").locator('#viewer[data-state="ready"]').wait_for(timeout=120_000)

    canvas = page.locator(".jp-OutputArea-output canvas").last
    canvas.scroll_into_view_if_needed()
    canvas.wait_for(state="visible", timeout=60_000)
    page.wait_for_timeout(1500)  # let SwiftShader draw a few frames before the picture
    colours = distinct_colours(canvas.screenshot(path=str(artifacts / "nb7-quickstart-scene.png")))
    page.screenshot(path=str(artifacts / "nb7-quickstart.png"), full_page=True)

    body = page.locator("body").inner_text()
    assert not WIDGET_ERRORS.search(body), WIDGET_ERRORS.search(body).group(0)
    assert console_errors == []
    assert nb.kernel_errors() == []

    # The reconstruction bar over the whole real job, read every 0.5 s: it never went back,
    # it moved through the job, and the time left was shown and fell.
    samples = page.evaluate("() => window.__osnbBar")
    percents = [p for p, _ in samples if p is not None]
    assert percents == sorted(percents), percents
    assert len(set(percents)) >= 5, percents
    left = [seconds_left(text) for _, text in samples if seconds_left(text) is not None]
    assert len(set(left)) >= 2 and left[0] > left[-1], left
    assert colours > 200, f"the pythreejs view looks blank ({colours} colours)"
