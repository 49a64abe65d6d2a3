"""The widget judges a video with the pipeline's own first pass before sending it: footage
the pipeline would refuse is refused on the kernel's machine, and nothing reaches the server."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def dark_sample(tmp_path):
    """The bundled sample at 5% of its brightness: real pixels, too dark to match."""
    import av

    from openstrate_nb.local import sample_video

    path = tmp_path / "dark_walk.mp4"
    with av.open(str(sample_video())) as source, av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=15)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for frame in source.decode(video=0):
            dark = (frame.to_ndarray(format="rgb24") * 0.05).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(dark, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def _run(server, path, **kwargs):
    from openstrate_nb import OpenStrate
    from openstrate_nb.widget import ReconstructWidget

    w = ReconstructWidget(client=OpenStrate(server.base_url, poll_interval=0.05), poll_interval=0.05, cache=False,
                          **kwargs)
    phases = []
    w.observe(lambda change: phases.append(change["new"]), "phase")
    w.submit(path)
    return w, phases


def test_a_dark_video_is_refused_before_a_byte_is_sent(start_server, tmp_path, dark_sample):
    from openstrate_nb import OpenStrateError

    data = tmp_path / "server-data"
    server = start_server(data_dir=data)
    w, phases = _run(server, dark_sample)
    try:
        with pytest.raises(OpenStrateError, match="^The video is too dark"):
            w.wait(timeout=60)  # wait() raises what the widget shows
        assert w.phase == "failed" and "checking" in phases and "uploading" not in phases
        assert w.error.startswith("The video is too dark: only 0 of 120 frames have enough light")
        assert "nothing was sent" in w.error and not w.can_retry and not w.job_id
        assert not any((data / "files").iterdir())  # the server never saw it
    finally:
        w.close()


def test_check_false_sends_it_anyway(server, dark_sample):
    w, phases = _run(server, dark_sample, check=False)
    try:
        job = w.wait(timeout=60)  # the test server's quick pipeline does not judge footage
        assert job.status == "complete" and "checking" not in phases and "uploading" in phases
    finally:
        w.close()


def test_a_video_that_passes_goes_on_to_the_server(server, video):
    w, phases = _run(server, video)
    try:
        assert w.wait(timeout=60).status == "complete"
        assert phases.index("checking") < phases.index("uploading")
    finally:
        w.close()
