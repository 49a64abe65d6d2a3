"""Keyframe selection by how far the view moved, skipping blurred frames.

A fixed frame rate cannot serve both a slow 30 s walkthrough (hundreds of nearly identical
frames) and a fast 3 s orbit (every frame counts), so we measure motion: corners of the
last keyframe are tracked with pyramidal Lucas-Kanade into later frames, and a new keyframe
is taken once their median displacement passes a share of the image size. Among the frames
around that point the sharpest (variance of the Laplacian, relative to its neighbours, since
absolute sharpness depends on the scene) wins, so motion-blurred frames are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

THUMB_LONG_SIDE = 320  # motion is measured on small greyscale copies: fast, and blur-tolerant


@dataclass
class FrameStats:
    """What pass one over the video keeps per frame (a few tens of KB each)."""

    index: list[int]
    time_s: list[float]
    thumbs: list[np.ndarray]  # uint8 greyscale, long side THUMB_LONG_SIDE
    sharpness: np.ndarray  # variance of the Laplacian at working resolution
    brightness: np.ndarray  # mean grey level 0..255


def frame_measures(rgb: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Thumbnail, sharpness and brightness of one working-resolution RGB frame."""
    import cv2

    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    sharp = float(cv2.Laplacian(grey, cv2.CV_32F).var())
    h, w = grey.shape
    s = THUMB_LONG_SIDE / max(h, w)
    thumb = cv2.resize(grey, (max(8, round(w * s)), max(8, round(h * s))), interpolation=cv2.INTER_AREA)
    return thumb, sharp, float(grey.mean())


def relative_sharpness(sharpness: np.ndarray, radius: int = 7) -> np.ndarray:
    """Sharpness divided by the median of its temporal neighbourhood (1 = typical)."""
    n = len(sharpness)
    out = np.empty(n)
    for i in range(n):
        lo, hi = max(0, i - radius), min(n, i + radius + 1)
        out[i] = sharpness[i] / max(float(np.median(sharpness[lo:hi])), 1e-9)
    return out


def _corners(thumb: np.ndarray) -> np.ndarray | None:
    import cv2

    pts = cv2.goodFeaturesToTrack(thumb, maxCorners=300, qualityLevel=0.01, minDistance=7, blockSize=5)
    return None if pts is None or len(pts) < 8 else pts.astype(np.float32)


def _displacement(ref: np.ndarray, cur: np.ndarray, pts: np.ndarray, guess: np.ndarray | None):
    """Median displacement of ``pts`` from ``ref`` to ``cur`` (thumb pixels), share tracked, new positions."""
    import cv2

    flags = 0
    nxt = None
    if guess is not None:
        nxt, flags = guess.copy(), cv2.OPTFLOW_USE_INITIAL_FLOW
    new, status, err = cv2.calcOpticalFlowPyrLK(
        ref, cur, pts, nxt, winSize=(21, 21), maxLevel=4, flags=flags,
        criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03),
    )
    ok = status.ravel() == 1
    if ok.sum() < 8:
        return np.inf, 0.0, new
    d = np.linalg.norm((new - pts).reshape(-1, 2)[ok], axis=1)
    return float(np.median(d)), float(ok.mean()), new


def motion_profile(thumbs: list[np.ndarray]) -> np.ndarray:
    """Median displacement between consecutive frames as a share of the long side (for checks)."""
    out = np.zeros(len(thumbs))
    side = float(max(thumbs[0].shape))
    for i in range(1, len(thumbs)):
        pts = _corners(thumbs[i - 1])
        if pts is None:
            continue
        d, _, _ = _displacement(thumbs[i - 1], thumbs[i], pts, None)
        out[i] = d / side if np.isfinite(d) else 1.0
    return out


def select(stats: FrameStats, step: float, usable: np.ndarray, report=None) -> list[int]:
    """Positions (into ``stats`` lists) of keyframes spaced by ``step`` (share of the long side).

    ``usable`` marks frames that are sharp and bright enough to be keyframes.
    """
    thumbs = stats.thumbs
    n = len(thumbs)
    side = float(max(thumbs[0].shape))
    rel = relative_sharpness(stats.sharpness)
    good = np.nonzero(usable)[0]
    if good.size == 0:
        return []
    # Start on the sharpest usable frame of the first few.
    first = good[good < good[0] + 5]
    keys = [int(first[np.argmax(rel[first])])]
    ref = keys[0]
    pts = _corners(thumbs[ref])
    disp = {}
    guess = None
    j = ref + 1
    while j < n:
        if report is not None:
            report(j, n)
        if pts is None:  # nothing to track (blank frame): fall back to time spacing
            d, frac = (step * side if j - ref >= 10 else 0.0), 1.0
        else:
            d, frac, guess = _displacement(thumbs[ref], thumbs[j], pts, guess)
        disp[j] = d / side
        lost = frac < 0.4 or not np.isfinite(d)
        if disp[j] >= step or lost:
            window = [k for k in range(ref + 1, j + 1) if disp.get(k, 0) >= 0.6 * step and usable[k]]
            if lost and not window:
                window = [k for k in range(ref + 1, j + 1) if usable[k]]
            pick = _sharpest_far(window, rel, disp) if window else j
            keys.append(pick)
            ref, pts, guess, disp = pick, _corners(thumbs[pick]), None, {}
            j = pick + 1
            continue
        j += 1
    # The end of the walk matters as much as the start: keep a late frame if it moved enough.
    if keys[-1] < n - 1 and disp:
        last = max(disp)
        if disp[last] >= 0.5 * step:
            tail = [k for k in disp if usable[k] and disp[k] >= 0.5 * step]
            keys.append(int(max(tail, key=lambda k: rel[k])) if tail else last)
    return keys


def _sharpest_far(window: list[int], rel: np.ndarray, disp: dict) -> int:
    """Among nearly-sharpest frames of the window, the one that moved farthest.

    Preferring the farthest keeps the spacing close to the step; preferring sharpness first
    keeps blurred frames out.
    """
    best = max(rel[k] for k in window)
    sharp = [k for k in window if rel[k] >= 0.85 * best]
    return int(max(sharp, key=lambda k: disp.get(k, 0.0)))


def choose(stats: FrameStats, usable: np.ndarray, step: float, max_keyframes: int, min_keyframes: int,
           report=None) -> tuple[list[int], float]:
    """Keyframes with the step widened until they fit the cap (or narrowed to reach the minimum)."""
    keys = select(stats, step, usable, report)
    tries = 0
    while len(keys) > max_keyframes and tries < 8:
        step *= max(1.1, len(keys) / max_keyframes)
        keys = select(stats, step, usable, report)
        tries += 1
    while len(keys) < min_keyframes and step > 0.01 and tries < 12:
        step *= 0.6
        more = select(stats, step, usable, report)
        if len(more) > max_keyframes:
            break
        keys = more
        tries += 1
    return keys[:max_keyframes], step
