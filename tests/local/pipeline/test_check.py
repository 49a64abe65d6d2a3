"""``check_video``: the pipeline's first pass alone agrees with the pipeline, on real inputs.

The failure inputs are the real courtyard photos made too short, too dark, out of focus and
held still (as in test_pipeline_failures.py); the passes are the real footage in tests/data
and the bundled sample.
"""

from __future__ import annotations

import numpy as np
import pytest

from openstrate_nb.local import sample_video
from openstrate_nb.local.pipeline import ReconstructionError, reconstruct
from openstrate_nb.local.pipeline._reconstruct import MIN_PATH_MOTION
from openstrate_nb.local.pipeline.check import check_video


def _pipeline_refusal(path, tmp_path) -> ReconstructionError:
    with pytest.raises(ReconstructionError) as info:
        reconstruct(path, tmp_path / "job", lambda s, c, n: None)
    return info.value


def _failure_inputs(tmp_path, video_writer, castle_frames):
    import cv2

    yield "too_short", video_writer(tmp_path / "two.mp4", castle_frames[:2], fps=2)
    dark = [(f.astype(np.float32) * 0.04).astype(np.uint8) for f in castle_frames[:12]]
    yield "too_dark", video_writer(tmp_path / "dark.mp4", dark, fps=2)
    blurred = [cv2.GaussianBlur(f, (0, 0), 8) for f in castle_frames[:12]]
    yield "too_blurred", video_writer(tmp_path / "blurred.mp4", blurred, fps=2)
    yield "no_motion", video_writer(tmp_path / "tripod.mp4", [castle_frames[3]] * 40, fps=10)


def test_every_refusal_the_check_sees_is_the_pipelines_own_in_the_same_words(tmp_path, video_writer, castle_frames):
    for expected, video in _failure_inputs(tmp_path, video_writer, castle_frames):
        check = check_video(video)
        refusal = _pipeline_refusal(video, tmp_path)
        assert (check.ok, check.code) == (False, expected) == (False, refusal.code)
        assert check.problem == str(refusal)
        assert check.problem in str(check)  # the printed check says what to re-film


def test_the_numbers_behind_a_refusal_are_reported(tmp_path, video_writer, castle_frames):
    inputs = dict(_failure_inputs(tmp_path, video_writer, castle_frames))
    dark = check_video(inputs["too_dark"])
    assert (dark.frames, dark.dark_frames) == (12, 12)
    blurred = check_video(inputs["too_blurred"])
    assert (blurred.dark_frames, blurred.blurred_frames) == (0, 12)
    tripod = check_video(inputs["no_motion"])
    # Near or under the threshold, the pipeline's own keyframe pass decided (and counted keyframes).
    assert tripod.motion is not None and tripod.motion < MIN_PATH_MOTION and tripod.keyframes is not None
    assert tripod.duration_s == pytest.approx(3.9, abs=0.05) and (tripod.width, tripod.height) == (768, 512)


def test_real_footage_and_the_sample_pass(real_data):
    for video in (real_data / "castle_courtyard.mp4", sample_video()):
        check = check_video(video)
        assert check.ok and check.code is None and check.problem is None, str(check)
        # Clearly moving: the quick measure cleared twice the pipeline's threshold on its own.
        assert check.motion >= 2 * MIN_PATH_MOTION and check.keyframes is None
        assert "looks reconstructable" in str(check)


def test_what_the_check_cannot_see_is_left_to_the_reconstruction(real_data, tmp_path):
    # Six photos of unrelated things: frames fine, views that cannot be placed together.
    video = real_data / "unrelated_photos.mp4"
    assert check_video(video).ok
    assert _pipeline_refusal(video, tmp_path).code == "not_enough_views"


def test_a_file_that_is_no_video_is_named_as_such(tmp_path):
    notes = tmp_path / "notes.mp4"
    notes.write_text("my notes\n" * 100)
    check = check_video(notes)
    assert not check.ok and check.code == "not_a_video" and "could not be read as a video" in check.problem
