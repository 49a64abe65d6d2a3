"""``export_html``'s page opens from disk with no network (what it lists: tests/test_export.py).

The page is exported from a finished ``ReconstructWidget`` (real embedded server, the quick
test pipeline), then opened as ``file://`` in headless Chromium with every request that is
not the file itself refused; the viewer must reach ``data-state="ready"`` and draw a canvas
with many colours.
"""

from __future__ import annotations

import pytest
from _jupyter import distinct_colours

from openstrate_nb import export_html


pytestmark = pytest.mark.browser


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
