"""``export_html``: one file that opens from disk with no network and says where it came from.

The page is exported from a finished ``ReconstructWidget`` (real embedded server, the quick
test pipeline), then opened as ``file://`` in headless Chromium with every request that is
not the file itself refused; the viewer must reach ``data-state="ready"`` and draw a canvas
with many colours.
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import datetime

import pytest
from _jupyter import distinct_colours

from openstrate_nb import OpenStrate, export_html
from openstrate_nb.cache import file_sha256
from openstrate_nb.widget import ReconstructWidget

ROW = re.compile(r"<dt>(.*?)</dt><dd>(.*?)</dd>", re.S)


def _rows(page: str) -> dict[str, str]:
    return {html.unescape(k): html.unescape(v) for k, v in ROW.findall(page)}


@pytest.fixture
def finished_widget(server, video, tmp_path, monkeypatch):
    """A widget whose reconstruction completed on the session's embedded server."""
    monkeypatch.setenv("OPENSTRATE_NB_CACHE", str(tmp_path / "cache"))
    widget = ReconstructWidget(video, client=OpenStrate(server.base_url, poll_interval=0.05), poll_interval=0.05)
    try:
        widget.wait(timeout=300)  # a guard against a hang, not a speed requirement
        yield widget
    finally:
        widget.close()


def test_page_from_a_widget_lists_video_server_job_and_mesh(finished_widget, server, video, tmp_path):
    page = export_html(finished_widget, tmp_path / "out" / "walk.html")
    text = page.read_text("utf-8")
    rows = _rows(text)

    assert rows["source video"] == video.name
    assert rows["video sha256"] == file_sha256(video)
    assert rows["server"] == server.base_url
    assert rows["job"] == finished_widget.job_id
    assert datetime.fromisoformat(rows["reconstructed"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(rows["exported"].replace("Z", "+00:00"))
    assert rows["faces"] == f"{len(finished_widget.mesh.faces):,}"
    assert rows["vertices"] == f"{len(finished_widget.mesh.vertices):,}"
    assert rows["watertight"].startswith("yes" if finished_widget.mesh.is_watertight else "no")
    assert rows["mesh sha256"] == hashlib.sha256(finished_widget.mesh_path.read_bytes()).hexdigest()
    assert f"<title>{html.escape(video.name)}" in text
    # Nothing to fetch: no external script, stylesheet or image.
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", text)


def test_page_from_a_mesh_lists_its_summary_and_the_given_provenance(tmp_path):
    import trimesh

    box = trimesh.creation.box(extents=[1.0, 2.0, 3.0])
    page = export_html(box, tmp_path / "box.html", provenance={"source video": "walk.mp4", "server": "https://openstrate.com"})
    rows = _rows(page.read_text("utf-8"))
    assert rows["source video"] == "walk.mp4" and rows["server"] == "https://openstrate.com"
    assert rows["faces"] == "12" and rows["vertices"] == "8"
    assert rows["extents (x × y × z)"].startswith("1 × 2 × 3")
    assert rows["watertight"] == "yes" and float(rows["volume"]) == pytest.approx(6.0)
    with pytest.raises(ValueError, match="should end in .html"):
        export_html(box, tmp_path / "box.txt")


def test_a_widget_without_a_result_is_refused_with_a_reason(tmp_path):
    widget = ReconstructWidget()
    try:
        with pytest.raises(RuntimeError, match="no mesh yet"):
            export_html(widget, tmp_path / "nothing.html")
    finally:
        widget.close()
    assert not (tmp_path / "nothing.html").exists()


@pytest.mark.browser
def test_exported_page_draws_the_mesh_from_disk_with_the_network_refused(finished_widget, chromium, artifacts,
                                                                          tmp_path):
    page_path = export_html(finished_widget, tmp_path / "offline" / "result.html")
    context = chromium.new_context(viewport={"width": 1000, "height": 700})
    refused: list[str] = []

    def only_the_file(route):
        url = route.request.url
        if url.startswith(("file://", "data:", "blob:")):
            route.continue_()
        else:
            refused.append(url)
            route.abort("internetdisconnected")

    context.route("**/*", only_the_file)
    requested: list[str] = []
    try:
        page = context.new_page()
        page.on("request", lambda request: requested.append(request.url))
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(page_path.as_uri())
        page.wait_for_selector('#viewer[data-state="ready"]', timeout=60_000)
        canvas = page.locator("#viewer canvas").first
        canvas.wait_for(state="visible")
        page.wait_for_timeout(500)  # let SwiftShader present a few frames before the picture
        png = canvas.screenshot(path=str(artifacts / "export-offline.png"))
        colours = distinct_colours(png)
        summary = page.locator("header details").inner_text()
    finally:
        context.close()

    assert refused == [] and all(u.startswith(("file://", "data:", "blob:")) for u in requested), requested
    assert errors == []
    assert colours > 200, f"the canvas looks blank ({colours} colours)"
    assert "About this result" in summary
