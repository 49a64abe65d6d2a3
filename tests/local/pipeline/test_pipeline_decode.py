"""Decoding honours display rotation; keyframes follow motion, not the frame rate (fast)."""

from __future__ import annotations

import numpy as np
import pytest

from openstrate_nb.local.pipeline import decode, keyframes


def _marked(h=48, w=64):
    img = np.zeros((h, w, 3), np.uint8)
    img[: h // 2, : w // 2] = (255, 0, 0)  # red top-left quadrant
    img[h // 2 :, w // 2 :] = (0, 0, 255)  # blue bottom-right quadrant
    return img


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_rotation_tag_decodes_upright(tmp_path, video_writer, rotation):
    img = _marked()
    path = video_writer(tmp_path / f"rot{rotation}.mp4", [img] * 3, rotation=rotation)
    info = decode.probe(path)
    assert info.rotation == rotation % 360
    # The display matrix rotates counter-clockwise by its angle, as np.rot90 does for k > 0.
    expected = np.rot90(img, k=rotation // 90)
    assert (info.width, info.height) == (expected.shape[1], expected.shape[0])
    _, _, frame = next(decode.frames(path, max_long_side=960))
    assert frame.shape == expected.shape
    assert np.abs(frame.astype(int) - expected.astype(int)).mean() < 12


def test_downscale_keeps_aspect_and_even_sizes():
    assert decode.output_size(1920, 1080, 960) == (960, 540)
    assert decode.output_size(1080, 1920, 960) == (540, 960)
    assert decode.output_size(640, 360, 960) == (640, 360)
    w, h = decode.output_size(4032, 3023, 960)
    assert max(w, h) == 960 and w % 2 == 0 and h % 2 == 0


def test_frames_come_in_decode_order_with_times(tmp_path, video_writer, texture):
    frames = [np.roll(texture(96, 128), 3 * i, axis=1) for i in range(20)]
    path = video_writer(tmp_path / "v.mp4", frames, fps=10)
    got = list(decode.frames(path, 960))
    assert [g[0] for g in got] == list(range(20))
    assert got[0][1] == 0.0 and got[-1][1] == pytest.approx(1.9, abs=1e-6)
    some = list(decode.frames(path, 960, wanted={3, 7}))
    assert [g[0] for g in some] == [3, 7]
    assert np.array_equal(some[0][2], got[3][2])


def _stats_for_shift(shift_per_frame: np.ndarray, texture) -> keyframes.FrameStats:
    """Thumbnails of a textured plane panned by a varying number of pixels per frame."""
    big = texture(200, 2600, seed=3)
    pos = np.concatenate([[0.0], np.cumsum(shift_per_frame)])
    thumbs = [np.ascontiguousarray(big[20:200, int(p) : int(p) + 320].mean(axis=2).astype(np.uint8)) for p in pos]
    n = len(thumbs)
    return keyframes.FrameStats(list(range(n)), [i / 30 for i in range(n)], thumbs, np.full(n, 100.0), np.full(n, 120.0))


def test_keyframes_follow_motion_not_frame_rate(texture):
    slow = _stats_for_shift(np.full(599, 1.0), texture)  # 20 s at 30 fps, 1 px per frame
    fast = _stats_for_shift(np.full(89, 6.0), texture)  # 3 s at 30 fps, 6 px per frame
    usable_s = np.ones(len(slow.thumbs), bool)
    usable_f = np.ones(len(fast.thumbs), bool)
    ks = keyframes.select(slow, 0.08, usable_s)
    kf = keyframes.select(fast, 0.08, usable_f)
    # Both cover the same distance (~600 px / 534 px), so both get a similar number of keyframes
    # although one has 600 frames and the other 90.
    assert 15 <= len(ks) <= 30 and 15 <= len(kf) <= 30
    gaps_s, gaps_f = np.diff(ks), np.diff(kf)
    assert gaps_s.min() >= 20 and gaps_f.max() <= 6


def test_blurred_frames_are_not_keyframes(texture):
    stats = _stats_for_shift(np.full(299, 2.0), texture)
    stats.sharpness[::4] = 20.0  # every fourth frame is motion-blurred
    usable = keyframes.relative_sharpness(stats.sharpness) >= 0.6
    keys = keyframes.select(stats, 0.08, usable)
    assert len(keys) > 10
    assert all(k % 4 != 0 for k in keys)


def test_keyframe_cap(texture):
    stats = _stats_for_shift(np.full(599, 3.0), texture)
    usable = np.ones(len(stats.thumbs), bool)
    keys, step = keyframes.choose(stats, usable, 0.02, max_keyframes=30, min_keyframes=5)
    assert len(keys) <= 30 and step > 0.02
    assert keys == sorted(keys)
