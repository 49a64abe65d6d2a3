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
    ks = keyframes.select(slow, usable_s, 0.08, 0.7).positions
    kf = keyframes.select(fast, usable_f, 0.08, 0.7).positions
    # Both cover the same distance (~600 px / 534 px), so both get a similar number of keyframes
    # although one has 600 frames and the other 90.
    assert 15 <= len(ks) <= 30 and 15 <= len(kf) <= 30
    gaps_s, gaps_f = np.diff(ks), np.diff(kf)
    assert gaps_s.min() >= 20 and gaps_f.max() <= 6


def test_each_keyframe_overlaps_the_last_whatever_the_speed(texture):
    """A pan that speeds up: the motion step alone would leave gaps; the overlap rule does not."""
    speed = np.concatenate([np.full(100, 1.0), np.full(60, 14.0)])
    stats = _stats_for_shift(speed, texture)
    sel = keyframes.select(stats, np.ones(len(stats.thumbs), bool), 0.5, 0.7)
    assert sel.overlap and min(sel.overlap) >= 0.7
    # A step of half the frame would space keyframes 160 px apart; 70% overlap of a 320 px
    # view allows about 96 px (corners do not reach the very edge): 6 frames in the fast part,
    # about 96 in the slow one.
    assert np.diff(sel.positions[-8:]).max() <= 6
    assert np.diff(sel.positions).max() <= 100


def test_photo_sets_keep_every_usable_frame(texture):
    """Consecutive frames 70 px apart (a set of photos walked around a subject): all kept."""
    stats = _stats_for_shift(np.full(19, 70.0), texture)
    usable = np.ones(len(stats.thumbs), bool)
    sel = keyframes.choose(stats, usable, 0.05, 0.7, max_keyframes=100, min_keyframes=20)
    assert sel.photo_set and sel.positions == list(range(20))


def test_a_still_camera_does_not_move_when_something_moves_in_view():
    rng = np.random.default_rng(0)
    start = rng.uniform(0, 300, (200, 1, 2)).astype(np.float32)
    end = start.copy()
    end[:120] += np.float32([25.0, 4.0])  # a hand sweeps through 60% of the corners
    assert keyframes.camera_shift(start, end) < 0.5
    end = start + np.float32([12.0, 0.0])  # the whole view pans
    assert keyframes.camera_shift(start, end) == pytest.approx(12.0, abs=0.01)


def test_blurred_frames_are_not_keyframes(texture):
    stats = _stats_for_shift(np.full(299, 2.0), texture)
    stats.sharpness[::4] = 20.0  # every fourth frame is motion-blurred
    usable = keyframes.relative_sharpness(stats.sharpness) >= 0.6
    keys = keyframes.select(stats, usable, 0.08, 0.7).positions
    assert len(keys) > 10
    assert all(k % 4 != 0 for k in keys)


def test_keyframe_cap(texture):
    stats = _stats_for_shift(np.full(599, 3.0), texture)
    usable = np.ones(len(stats.thumbs), bool)
    sel = keyframes.choose(stats, usable, 0.02, 0.7, max_keyframes=30, min_keyframes=5)
    assert len(sel.positions) <= 30 and sel.step > 0.02 and not sel.photo_set
    assert sel.positions == sorted(sel.positions)
