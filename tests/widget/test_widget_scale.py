"""``w.set_scale``: a finished result given real-world size from one known length."""

from __future__ import annotations

import numpy as np
import pytest

from openstrate_nb import mesh_scale, mesh_summary


def test_set_scale_makes_the_result_metric(finished_widget):
    w = finished_widget
    before = w.mesh
    a, b = before.bounds  # two opposite corners of the result's box
    metric = w.set_scale(a, b, 2.0)
    assert w.mesh is metric and mesh_scale(metric)["units"] == "m"
    assert np.linalg.norm(metric.bounds[1] - metric.bounds[0]) == pytest.approx(2.0)
    assert mesh_summary(w.mesh)["units"] == "m" and mesh_summary(before)["units"] == "unknown"


def test_set_scale_before_a_result_says_to_wait(make_widget):
    w = make_widget()
    with pytest.raises(RuntimeError, match="no result to scale yet: wait"):
        w.set_scale([0, 0, 0], [1, 0, 0], 1.0)


def test_options_go_with_the_video_and_key_the_cache_apart(start_server, video):
    from openstrate_nb import OpenStrate
    from openstrate_nb.widget import ReconstructWidget

    server = start_server(pipeline="_pipelines:options_pipeline")
    made = []

    def run(**kwargs):
        w = ReconstructWidget(video, client=OpenStrate(server.base_url, poll_interval=0.05), poll_interval=0.05, **kwargs)
        made.append(w)
        return w.wait(timeout=60)

    try:
        with_marker = run(options={"marker_size_m": 0.1})
        assert with_marker.extra["options"] == {"marker_size_m": 0.1}
        plain = run()  # the same video without options is another job, not the cached one
        assert plain.job_id != with_marker.job_id and "options" not in plain.extra
        again = run(options={"marker_size_m": 0.1})  # and with the same options, the cached one
        assert again.job_id == with_marker.job_id and made[-1].from_cache
    finally:
        for w in made:
            w.close()


def test_options_must_be_a_dict(make_widget):
    with pytest.raises(TypeError, match="options must be a dict"):
        make_widget(options=0.1)
