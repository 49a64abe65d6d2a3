"""``reconstruct_many`` in JupyterLab (headless Chromium): a row per video moving on its own,
the overall bar, the failure in its row, and nothing in the console or the kernel's log."""

from __future__ import annotations

import pytest
from _jupyter import write_notebook
from _media import write_video

pytestmark = pytest.mark.browser

# The phases each row's status cell has shown, recorded as they change.
RECORD_ROW_PHASES = """
(root) => {
  window.__osnbRows = {};
  const seen = () => root.querySelectorAll('tbody tr').forEach((tr, i) => {
    const phases = (window.__osnbRows[i] = window.__osnbRows[i] || []);
    if (phases[phases.length - 1] !== tr.dataset.phase) phases.push(tr.dataset.phase);
  });
  seen();
  new MutationObserver(seen).observe(root, { subtree: true, attributes: true, childList: true });
}
"""


def test_a_batch_shows_a_row_per_video_and_the_failure_in_its_row(
        jupyter, openstrate_server, notebook_root, open_notebook, console_errors, kernel_log, artifacts):
    clips = notebook_root / "batch-clips"
    clips.mkdir()
    write_video(clips / "first.mp4", frames=9)
    write_video(clips / "second.mp4", frames=10)
    (clips / "third.mp4").write_text("not a video\n" * 500)
    write_notebook(notebook_root, "batch.ipynb", [
        "import openstrate_nb\n"
        f"batch = openstrate_nb.reconstruct_many('batch-clips', base_url={openstrate_server.base_url!r}, "
        "concurrency=1, poll_interval=0.2, cache=False)\nbatch",
    ])
    nb = open_notebook(f"{jupyter}/lab/tree/batch.ipynb")
    console_errors.clear()
    nb.record_kernel_errors()
    nb.run_cell(0)
    table = nb.cell(0).locator(".osnb-batch")
    table.wait_for(timeout=60_000)
    table.evaluate(RECORD_ROW_PHASES)
    table.locator(".osnb-batch-summary", has_text="3 of 3 done (1 failed)").wait_for(timeout=120_000)
    nb.page.screenshot(path=str(artifacts / "lab-10-batch.png"), full_page=True)

    rows = table.locator("tbody tr")
    assert rows.count() == 3
    assert [rows.nth(i).locator("td").first.inner_text() for i in range(3)] == ["first.mp4", "second.mp4", "third.mp4"]
    assert [rows.nth(i).get_attribute("data-phase") for i in range(3)] == ["complete", "complete", "failed"]
    assert "faces" in rows.nth(0).inner_text() and "is not a video inside" in rows.nth(2).inner_text()
    assert table.locator(".osnb-batch-bar").get_attribute("aria-valuenow") == "100"
    # One at a time (concurrency=1): the second row was still waiting while the first reconstructed.
    phases = nb.page.evaluate("() => window.__osnbRows")
    assert "reconstructing" in phases["0"] and phases["1"][0] == "idle", phases
    log = kernel_log()
    assert "Traceback" not in log, log[-3000:]
    assert not nb.kernel_errors(), nb.kernel_errors()
    assert not console_errors, console_errors
