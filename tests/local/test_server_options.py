"""Options for one reconstruction (``marker_size_m``): sent with an upload or a reconstruct
request, checked before anything is kept, and handed to the pipeline."""

from __future__ import annotations

import httpx
import pytest

from openstrate_nb import BadRequestError, JobFailedError, OpenStrate

OPTIONS = "_pipelines:options_pipeline"


@pytest.fixture(scope="module")
def options_server(tmp_path_factory):
    from openstrate_nb.local import start

    with start(data_dir=tmp_path_factory.mktemp("options"), pipeline=OPTIONS) as server:
        yield server


def test_an_upload_with_options_reaches_the_pipeline_and_the_job_document(options_server, video):
    with OpenStrate(options_server.base_url, poll_interval=0.05) as client:
        job = client.wait(client.upload(video, options={"marker_size_m": 0.1}).job_id, timeout=60)
        assert job.extra["options"] == {"marker_size_m": 0.1} and job.extra["stats"]["marker_size_m"] == 0.1
        plain = client.wait(client.upload(video).job_id, timeout=60)
        assert "options" not in plain.extra and plain.extra["stats"]["marker_size_m"] is None


def test_reconstruct_takes_options_too(options_server, video):
    with OpenStrate(options_server.base_url, poll_interval=0.05) as client:
        upload = client.upload(video)
        client.wait(upload.job_id, timeout=60)
        job = client.wait(client.reconstruct(upload.url, options={"marker_size_m": 0.25}).job_id, timeout=60)
    assert job.extra["stats"]["marker_size_m"] == 0.25


@pytest.mark.parametrize("options, message", [
    ({"marker_size": 0.1}, "unknown option 'marker_size'; this server knows: marker_size_m."),
    ({"marker_size_m": -1}, "marker_size_m=-1: give the printed side of the scale markers in metres"),
    ({"marker_size_m": "10cm"}, "marker_size_m='10cm': give"),
])
def test_bad_options_are_refused_and_nothing_is_kept(options_server, video, options, message):
    files = options_server.data_dir / "files"
    before = sorted(files.iterdir())
    with OpenStrate(options_server.base_url) as client:
        with pytest.raises(BadRequestError, match=message):
            client.upload(video, options=options)
        with pytest.raises(BadRequestError, match=message):
            client.reconstruct("https://example.org/walk.mp4", options=options)
    assert sorted(files.iterdir()) == before


def test_options_that_are_not_a_json_object_are_refused(options_server, video):
    with video.open("rb") as f:
        r = httpx.post(options_server.base_url + "/api/upload", files={"file": ("walk.mp4", f, "video/mp4")},
                       data={"options": "marker_size_m=0.1"})
    assert r.status_code == 400 and r.json()["error"] == 'options must be a JSON object, such as {"marker_size_m": 0.1}.'


def test_a_pipeline_without_options_says_so(start_server, video):
    server = start_server()  # the quick pipeline, which takes no options
    with OpenStrate(server.base_url, poll_interval=0.05) as client:
        with pytest.raises(JobFailedError) as failed:
            client.wait(client.upload(video, options={"marker_size_m": 0.1}).job_id, timeout=60)
    assert failed.value.job.code == "options_not_supported" and "takes no options" in failed.value.job.error
