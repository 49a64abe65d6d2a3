"""The widget rides out a server that dies mid-job and comes back: no click needed."""

from __future__ import annotations

import time

from openstrate_nb import OpenStrate
from openstrate_nb.widget import ReconstructWidget


def test_a_server_killed_mid_job_and_restarted_is_followed_to_the_end(served, video):
    server = served("--pipeline", "_pipelines:sleeping_pipeline")
    widget = ReconstructWidget(video, client=OpenStrate(server.base_url), poll_interval=0.05)
    try:
        deadline = time.monotonic() + 60
        while widget.stage != "thinking":
            assert time.monotonic() < deadline, (widget.phase, widget.error)
            time.sleep(0.05)
        server.kill()
        deadline = time.monotonic() + 30
        while "Cannot reach the server for" not in widget.notice:
            assert time.monotonic() < deadline, "the widget did not say it lost the server"
            time.sleep(0.05)
        server.args = ("--pipeline", "_pipelines:quick_pipeline")
        server.start()
        widget.wait(timeout=120)
        assert widget.status == "complete" and widget.notice == "" and widget.error == ""
        assert widget.mesh is not None and widget.job.extra["attempts"] == 2
    finally:
        widget.close()
