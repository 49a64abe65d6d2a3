"""The live preview: the model so far in the widget's 3D view while the job runs, then the result.

The server runs ``growing_pipeline`` (tests/_pipelines.py), which writes the preview as the
real pipeline does (``pipeline/recorder.py``) in four growing versions; the real pipeline's
preview is tested on the sample in tests/local/test_stage_artifacts.py.
"""

from __future__ import annotations

import time

import numpy as np
import pytest


@pytest.fixture(scope="module")
def growing_server(start_server):
    return start_server(pipeline="_pipelines:growing_pipeline")


def _watch(w, timeout=60.0) -> list[tuple[str, int, bool]]:
    """(status, preview_points, result shown) every 50 ms until the widget is done."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.append((w.status, w.preview_points, w.mesh is not None))
        if w.phase in ("complete", "failed"):
            break
        time.sleep(0.05)
    return seen


def test_the_widget_shows_the_model_growing_then_the_mesh(growing_server, video):
    import pythreejs as three

    from openstrate_nb import OpenStrate
    from openstrate_nb.widget import ReconstructWidget

    w = ReconstructWidget(video, client=OpenStrate(growing_server.base_url, poll_interval=0.1), poll_interval=0.1,
                          cache=False)
    try:
        seen = _watch(w)
        w.wait(timeout=30)
        before_mesh = [points for status, points, shown in seen if not shown and points]
        assert len(set(before_mesh)) >= 3 and before_mesh == sorted(before_mesh)  # it grew, view by view
        assert max(before_mesh) == 3200
        # Then the result replaced it: a mesh in the view, no preview left beside it.
        children = w.scene.scene.children
        assert any(isinstance(c, three.Mesh) for c in children)
        assert not any(isinstance(c, three.Points) for c in children)
        assert not any(getattr(c, "name", "") == "osnb-live-preview" for c in children)
    finally:
        w.close()


def test_a_server_without_a_preview_shows_the_bar_only(server, video):
    from openstrate_nb import OpenStrate
    from openstrate_nb.widget import ReconstructWidget

    w = ReconstructWidget(video, client=OpenStrate(server.base_url, poll_interval=0.1), poll_interval=0.1, cache=False)
    try:
        seen = _watch(w)
        w.wait(timeout=30)
        assert {points for _, points, _ in seen} == {0}
        assert not any(shown for status, _, shown in seen if status == "processing")
    finally:
        w.close()


def test_the_client_reads_the_model_so_far(growing_server, video):
    from openstrate_nb import JobStatus, OpenStrate

    with OpenStrate(growing_server.base_url, poll_interval=0.1) as client:
        job = client.upload(video)
        models = []
        for poll in client.watch(job.job_id, poll_interval=0.1):
            model = client.live_model(poll.job)
            if model is not None and (not models or len(model.points) != len(models[-1].points)):
                models.append(model)
            if poll.delay is None:
                break
        assert [len(m.points) for m in models][:3] == [800, 1600, 2400]
        assert all(m.points.dtype == np.float32 and m.colors.shape == m.points.shape for m in models)
        assert np.allclose(np.linalg.norm(models[0].points, axis=1), 1.0, atol=1e-5)  # the sphere's points
        assert [len(m.world_from_camera) for m in models][:3] == [2, 4, 6] and models[0].stage == "mapping"
        done = client.status(job.job_id)
        assert done.status == JobStatus.COMPLETE and client.live_model(done) is None  # only while it runs
