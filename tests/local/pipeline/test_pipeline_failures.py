"""Every failure code comes from a real input that causes it, with one sentence whose numbers
are the ones that decided (fast: each stops early).

The inputs are cut from the real castle courtyard photos (tests/data/): two of them, all of
them underexposed or out of focus, one of them held still, plus six photos of unrelated
things, and broken files.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from openstrate_nb.local.pipeline import ReconstructionError, reconstruct


def _fail(path, tmp_path) -> ReconstructionError:
    with pytest.raises(ReconstructionError) as info:
        reconstruct(path, tmp_path / "job", lambda s, c, n: None)
    message = str(info.value)
    assert message.endswith(".") and "\n" not in message and message[0].isupper()
    return info.value


def test_two_frames_are_too_short(tmp_path, video_writer, castle_frames):
    err = _fail(video_writer(tmp_path / "two.mp4", castle_frames[:2], fps=2), tmp_path)
    assert err.code == "too_short"
    assert str(err).startswith("The video has only 2 frames: a reconstruction needs at least 5 views")


def test_footage_filmed_in_the_dark(tmp_path, video_writer, castle_frames):
    # The same courtyard with about 1/25 of the light reaching the sensor.
    dark = [(f.astype(np.float32) * 0.04).astype(np.uint8) for f in castle_frames[:12]]
    err = _fail(video_writer(tmp_path / "dark.mp4", dark, fps=2), tmp_path)
    assert err.code == "too_dark"
    assert "only 0 of 12 frames have enough light" in str(err)
    # The frames' scores are written before the verdict, so the job shows why.
    frames = json.loads((tmp_path / "job" / "stages" / "frames.json").read_text())
    assert [row["why"] for row in frames["frames"]] == ["too_dark"] * 12
    assert all(row["brightness"] < frames["thresholds"]["dark_level"] for row in frames["frames"])


def test_footage_out_of_focus(tmp_path, video_writer, castle_frames):
    import cv2

    blurred = [cv2.GaussianBlur(f, (0, 0), 8) for f in castle_frames[:12]]
    err = _fail(video_writer(tmp_path / "blurred.mp4", blurred, fps=2), tmp_path)
    assert err.code == "too_blurred"
    assert "only 0 of 12 frames are lit and show sharp detail" in str(err)


def test_a_tripod_shot_does_not_move(tmp_path, video_writer, castle_frames):
    still = [castle_frames[3]] * 40  # 4 s at 10 fps; the encoder adds its own noise
    err = _fail(video_writer(tmp_path / "tripod.mp4", still, fps=10), tmp_path)
    assert err.code == "no_motion"
    found = re.search(r"over ([\d.]+) s the view shifts by ([\d.]+)% of the frame", str(err))
    assert found and float(found[1]) == pytest.approx(3.9, abs=0.05) and float(found[2]) < 1.0
    frames = json.loads((tmp_path / "job" / "stages" / "frames.json").read_text())["frames"]
    assert len(frames) == 40 and not any(row["kept"] for row in frames)


def test_photos_of_unrelated_things_cannot_be_placed(tmp_path, real_data):
    err = _fail(real_data / "unrelated_photos.mp4", tmp_path)
    assert err.code == "not_enough_views"
    found = re.match(r"Only (\d+) of (\d+) keyframes could be placed", str(err))
    assert found and int(found[2]) == 6 and int(found[1]) < 5


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
    err = _fail(path, tmp_path)
    assert err.code == "no_video_stream"
    assert str(err) == "This file has no video stream: upload a video, not an audio file or an image."


def test_not_a_video(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_bytes(b"these are not the frames you are looking for\n" * 50)
    err = _fail(path, tmp_path)
    assert err.code == "not_a_video"
    assert str(err) == "This file could not be read as a video: upload an MP4, MOV, MKV or WebM file."


def test_an_upload_cut_off_early(tmp_path, real_data):
    data = (real_data / "castle_courtyard.mp4").read_bytes()
    path = tmp_path / "truncated.mp4"
    path.write_bytes(data[: len(data) // 50])  # the header without its frames
    err = _fail(path, tmp_path)
    assert err.code in {"damaged", "not_a_video"}
