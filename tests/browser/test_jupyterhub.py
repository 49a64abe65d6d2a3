"""A real JupyterHub classroom: a student logs in, runs the widget, and sees the viewer.

JupyterHub from PyPI with its proxy (configurable-http-proxy, from npm in js/), the dummy
authenticator (any password) and the simple local-process spawner; the student's browser
reaches the hub by a name that is not loopback and cannot reach the kernel's loopback at
all. The /view iframe must go through the hub's /user/NAME/proxy/PORT/ path
(jupyter-server-proxy in the student's server) and the viewer must draw the mesh.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from _jupyter import REMOTE_HOST as HOST
from _jupyter import (REPO, NotebookPage, _free_port, refuse_kernel_loopback, see_the_viewer_through_the_proxy,
                      wait_until_answering, write_notebook)
from _media import write_video

pytestmark = pytest.mark.browser

PROXY = REPO / "js" / "node_modules" / ".bin" / "configurable-http-proxy"

HUB_CONFIG = """
c = get_config()  # noqa: F821
settings = {settings!r}
c.JupyterHub.bind_url = f"http://127.0.0.1:{{settings['port']}}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{{settings['hub_port']}}"
c.JupyterHub.authenticator_class = "dummy"
c.JupyterHub.spawner_class = "simple"
c.JupyterHub.db_url = "sqlite:///" + settings["scratch"] + "/hub.sqlite"
c.JupyterHub.cookie_secret_file = settings["scratch"] + "/cookie_secret"
c.ConfigurableHTTPProxy.command = [settings["proxy"]]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{{settings['proxy_api_port']}}"
c.ConfigurableHTTPProxy.pid_file = settings["scratch"] + "/proxy.pid"
c.Authenticator.allow_all = True
c.SimpleLocalProcessSpawner.home_dir_template = settings["scratch"] + "/home/{{username}}"
c.Spawner.cmd = [settings["python"], "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.args = ["--allow-root", "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=",
                  "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
c.Spawner.environment = settings["environment"]
"""


@pytest.fixture
def hub(tmp_path):
    if not PROXY.exists():
        pytest.fail(f"{PROXY} is missing: run npm ci in js/ (make test does)")
    scratch = tmp_path / "hub"
    (scratch / "home" / "ana").mkdir(parents=True)
    port = _free_port()
    settings = {
        "port": port, "hub_port": _free_port(), "proxy_api_port": _free_port(), "scratch": str(scratch),
        "proxy": str(PROXY), "python": sys.executable,
        "environment": {
            "PYTHONPATH": str(REPO),
            "OPENSTRATE_NB_CACHE": str(scratch / "kernel-cache"),
            "OPENSTRATE_NB_DATA": str(scratch / "kernel-data"),
            "JUPYTER_CONFIG_DIR": str(scratch / "jupyter-config"),
        },
    }
    config = scratch / "jupyterhub_config.py"
    config.write_text(HUB_CONFIG.format(settings=settings))
    log = open(scratch / "hub.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=scratch, stdout=log,
                               stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        wait_until_answering(process, f"http://127.0.0.1:{port}/hub/api", scratch / "hub.log")
        yield {"port": port, "home": scratch / "home" / "ana", "log": scratch / "hub.log"}
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_a_student_on_jupyterhub_sees_the_viewer_through_their_servers_proxy(hub, openstrate_server, tmp_path,
                                                                           remote_chromium, artifacts):
    video = write_video(tmp_path / "hub-walk.mp4", frames=10)
    write_notebook(hub["home"], "class.ipynb", [
        "from openstrate_nb import ReconstructWidget\n"
        f"w = ReconstructWidget({str(video)!r}, base_url={openstrate_server.base_url!r}, poll_interval=0.2)\nw",
        "job = w.wait()",
    ])
    server_port = openstrate_server.base_url.rsplit(":", 1)[1]
    site = f"http://{HOST}:{hub['port']}"
    context = remote_chromium.new_context(viewport={"width": 1100, "height": 950})
    page = context.new_page()
    # The kernel's loopback is the student's own laptop: nothing is there.
    refused = refuse_kernel_loopback(page, server_port)
    page.goto(f"{site}/hub/login")
    page.fill("input[name=username]", "ana")
    page.fill("input[name=password]", "any password")
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url("**/user/ana/lab**", timeout=180_000)

    nb = NotebookPage(page, f"{site}/user/ana/lab/tree/class.ipynb")
    see_the_viewer_through_the_proxy(nb, "/user/ana/", server_port)
    page.screenshot(path=str(artifacts / "hub-1-student.png"), full_page=True)
    assert refused == []  # nothing even tried the kernel's own address
    context.close()
