"""The /view iframe from a browser on another machine than the kernel (JupyterHub, Binder, SSH).

The student's browser reaches Jupyter by a name that is not loopback, under a per-user base
URL (as JupyterHub serves /user/NAME/), and cannot reach the kernel's loopback address at
all (every request to the embedded server's own address is refused). The widget must load
the viewer through jupyter-server-proxy under that base URL, and the viewer must draw the mesh.
"""

from __future__ import annotations

import pytest
from _jupyter import REMOTE_HOST as HOST
from _jupyter import NotebookPage, jupyter_server, refuse_kernel_loopback, see_the_viewer_through_the_proxy, write_notebook
from _media import write_video

pytestmark = pytest.mark.browser



def test_a_remote_browser_sees_the_viewer_through_jupyters_proxy_under_the_users_base_url(
        openstrate_server, remote_chromium, tmp_path, artifacts):
    root = tmp_path / "home"
    root.mkdir()
    video = write_video(tmp_path / "remote-walk.mp4", frames=10)
    write_notebook(root, "remote.ipynb", [
        "from openstrate_nb import ReconstructWidget\n"
        f"w = ReconstructWidget({str(video)!r}, base_url={openstrate_server.base_url!r}, poll_interval=0.2)\nw",
        "job = w.wait()",
    ])
    server_port = openstrate_server.base_url.rsplit(":", 1)[1]
    with jupyter_server(root, tmp_path / "jupyter", base_url="/user/ana/") as base:
        jupyter_port = base.split(":")[2].split("/")[0]
        context = remote_chromium.new_context(viewport={"width": 1100, "height": 950})
        page = context.new_page()
        # The kernel's loopback is the student's own laptop: nothing is there.
        refused = refuse_kernel_loopback(page, server_port)
        nb = NotebookPage(page, f"http://{HOST}:{jupyter_port}/user/ana/lab/tree/remote.ipynb")
        src = see_the_viewer_through_the_proxy(nb, "/user/ana/", server_port)
        # "Open in a new tab" goes the same way (without the theme).
        assert nb.cell(0).locator(".osnb-result a").get_attribute("href") == src.split("?")[0]
        page.screenshot(path=str(artifacts / "lab-9-remote-proxy.png"), full_page=True)
        assert refused == []  # nothing even tried the kernel's own address
        context.close()
