"""Videos that cannot be reconstructed end with one actionable sentence (fast: tiny videos)."""

from __future__ import annotations

import numpy as np
import pytest

from openstrate_nb.local.pipeline import ReconstructionError, reconstruct


def _run(path, tmp_path):
    calls = []
    with pytest.raises(ReconstructionError) as info:
        reconstruct(path, tmp_path / "job", lambda s, c, n: calls.append((s, c, n)))
    message = str(info.value)
    assert message.endswith(".") and "\n" not in message
    return message


def test_static_camera(tmp_path, video_writer, texture):
    rng = np.random.default_rng(1)
    base = texture(240, 320).astype(np.int16)
    # A tripod shot: the same view with a little sensor noise.
    frames = [np.clip(base + rng.integers(-3, 4, base.shape), 0, 255).astype(np.uint8) for _ in range(60)]
    msg = _run(video_writer(tmp_path / "static.mp4", frames), tmp_path)
    assert msg == "The camera does not move: walk or pan slowly around the subject."


def test_too_short(tmp_path, video_writer, texture):
    frames = [np.roll(texture(240, 320), 4 * i, axis=1) for i in range(6)]
    msg = _run(video_writer(tmp_path / "short.mp4", frames), tmp_path)
    assert msg.startswith("The video is too short")
    assert msg.endswith("film at least 3 seconds while moving around the subject.")


def test_too_dark(tmp_path, video_writer, texture):
    frames = [(np.roll(texture(240, 320), 6 * i, axis=1) // 25).astype(np.uint8) for i in range(45)]
    msg = _run(video_writer(tmp_path / "dark.mp4", frames), tmp_path)
    assert msg == "The video is too dark: film in better light or turn on more lamps."


def test_no_video_stream(tmp_path):
    import av

    path = tmp_path / "sound.wav"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 8000), np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for p in stream.encode(frame):
            out.mux(p)
        for p in stream.encode():
            out.mux(p)
    msg = _run(path, tmp_path)
    assert msg == "This file has no video stream: upload a video, not an audio file or an image."


def test_not_a_video(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_bytes(b"these are not the frames you are looking for\n" * 50)
    msg = _run(path, tmp_path)
    assert msg == "This file could not be read as a video: upload an MP4, MOV, MKV or WebM file."


def test_truncated_file(tmp_path):
    from openstrate_nb.local._sample import sample_video

    data = sample_video().read_bytes()
    path = tmp_path / "truncated.mp4"
    path.write_bytes(data[: len(data) // 50])  # an upload cut off early: header without its frames
    msg = _run(path, tmp_path)
    assert msg in {
        "The video could not be decoded: the file may be damaged or truncated, re-export or re-upload it.",
        "This file could not be read as a video: upload an MP4, MOV, MKV or WebM file.",
    }
