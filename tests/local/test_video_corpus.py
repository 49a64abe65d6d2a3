"""Real-world footage through the real pipeline: each video reconstructs or fails with advice.

The files are made here with PyAV (nothing downloaded): what phones and cameras produce,
and what broken copies look like. None may hang, crash a worker for good, or stop the
server answering.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import httpx
import numpy as np
import pytest

from openstrate_nb import BadRequestError, JobFailedError, OpenStrate

FRAMES = 48  # 3.2 s at 15 fps: enough views for every early check, so every frame is decoded
ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts"


def _panning_frames(width=320, height=240, count=FRAMES):
    rng = np.random.default_rng(7)
    texture = rng.integers(0, 255, (height // 8, (width + 4 * count) // 8, 3), dtype=np.uint8)
    texture = np.kron(texture, np.ones((8, 8, 1), dtype=np.uint8))
    return [np.ascontiguousarray(texture[:height, 4 * i: 4 * i + width]) for i in range(count)]


def _encode(path: Path, codec: str, pix_fmt: str, frames, *, rotation=None, pts=None, rate=15) -> Path:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = pix_fmt
        if pts is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for index, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            if pts is not None:
                frame.pts, frame.time_base = pts[index], Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _truncate_before_moov(source: Path, path: Path) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: data.index(b"moov") - 4])
    return path


def _corpus(folder: Path) -> dict[str, Path]:
    from _media import write_audio_only

    frames = _panning_frames()
    h264 = _encode(folder / "h264.mp4", "libx264", "yuv420p", frames)
    vfr_pts = np.cumsum([0] + [40 + 40 * (i % 3) for i in range(FRAMES - 1)]).tolist()
    half = folder / "half.mp4"
    half.write_bytes(h264.read_bytes()[: h264.stat().st_size // 2])
    mismatch = folder / "really-matroska.mp4"
    mismatch.write_bytes(_encode(folder / "inner.mkv", "libx264", "yuv420p", frames).read_bytes())
    return {
        "portrait with a rotation tag": _encode(folder / "portrait.mp4", "libx264", "yuv420p",
                                                [np.ascontiguousarray(np.rot90(f, -1)) for f in frames], rotation=90),
        "variable frame rate": _encode(folder / "vfr.mp4", "libx264", "yuv420p", frames, pts=vfr_pts),
        "10-bit HEVC": _encode(folder / "hevc10.mp4", "libx265", "yuv420p10le", frames),
        "VP9 in WebM": _encode(folder / "vp9.webm", "libvpx-vp9", "yuv420p", frames),
        "MJPEG in AVI": _encode(folder / "mjpeg.avi", "mjpeg", "yuvj420p", frames),
        "audio only": write_audio_only(folder / "audio.mp4"),
        "one frame": _encode(folder / "one.mp4", "libx264", "yuv420p", frames[:1]),
        "moov atom missing": _truncate_before_moov(h264, folder / "truncated.mp4"),
        "cut in half": half,
        "container and extension disagree": mismatch,
    }


@pytest.fixture(scope="module")
def corpus_server(start_server):
    return start_server(workers=2, pipeline="openstrate_nb.local.pipeline:reconstruct", job_timeout=300)


@pytest.fixture(scope="module")
def corpus_results(corpus_server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    results = {}
    with OpenStrate(corpus_server.base_url, poll_interval=0.2) as client:
        uploads = {name: client.upload(path) for name, path in _corpus(folder).items()}
        for name, upload in uploads.items():
            try:
                results[name] = client.wait(upload.job_id, timeout=600)
            except JobFailedError as exc:
                results[name] = exc.job
    ARTIFACTS.mkdir(exist_ok=True)
    summary = {name: {"status": str(job.status), "error": job.error, "code": job.code, "stats": job.extra.get("stats")}
               for name, job in results.items()}
    (ARTIFACTS / "video-corpus.json").write_text(json.dumps(summary, indent=2))
    return results


@pytest.mark.slow
@pytest.mark.parametrize("name", ["portrait with a rotation tag", "variable frame rate", "10-bit HEVC", "VP9 in WebM",
                                  "MJPEG in AVI", "audio only", "one frame", "moov atom missing", "cut in half",
                                  "container and extension disagree"])
def test_each_video_reconstructs_or_fails_with_advice(corpus_results, name):
    job = corpus_results[name]
    assert job.status in ("complete", "failed"), job
    assert job.extra["attempts"] == 1, "a worker crashed on this video"
    if job.status == "failed":
        assert "internal error" not in job.error, job.error
        assert len(job.error) < 300 and job.error.rstrip().endswith((".", "!")), job.error


DECODABLE = ["portrait with a rotation tag", "variable frame rate", "10-bit HEVC", "VP9 in WebM", "MJPEG in AVI",
             "container and extension disagree"]


@pytest.mark.slow
@pytest.mark.parametrize("name", DECODABLE)
def test_every_real_format_is_decoded_through_to_the_reconstruction(corpus_results, name):
    job = corpus_results[name]
    # Complete, or refused for what the camera did (too few placed views, no motion),
    # never for the file: each format must decode frame by frame.
    if job.status == "failed":
        assert job.code not in {"not_a_video", "damaged", "too_short", "no_video_stream"}, job.error


@pytest.mark.slow
def test_broken_and_soundless_files_get_their_own_reasons(corpus_results):
    assert "no video stream" in corpus_results["audio only"].error.lower()
    assert corpus_results["audio only"].code == "no_video_stream"
    assert corpus_results["one frame"].code == "too_short"
    assert "only 1 frame:" in corpus_results["one frame"].error
    assert corpus_results["moov atom missing"].code in {"damaged", "not_a_video"}


@pytest.mark.slow
def test_the_server_answered_throughout_and_refuses_empty_files(corpus_server, corpus_results, tmp_path):
    assert httpx.get(corpus_server.base_url + "/openstrate-reconstruction-api.openapi.yaml").status_code == 200
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(BadRequestError, match="is empty"):
        OpenStrate(corpus_server.base_url).upload(tmp_path / "empty.mp4")
