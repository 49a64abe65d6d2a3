"""Keyframes chosen so that each one overlaps the last, whatever the camera's speed.

A fixed frame rate cannot serve both a slow 30 s walkthrough (hundreds of nearly identical
frames) and a fast orbit or a set of photos (every frame counts). So corners of the last
keyframe are tracked with pyramidal Lucas-Kanade into the following frames, and a new
keyframe is taken before fewer than ``min_overlap`` of them can still be followed (the views
then share enough content for feature matching to link them) or once they moved ``step`` of
the frame (enough parallax for depth). Tracks are checked forwards and backwards, so a
track that jumped does not count as overlap. Photo sets, where consecutive frames already
differ too much to track, therefore keep every usable frame. Among the frames around the
chosen point the sharpest wins (variance of the Laplacian relative to its neighbours, since
absolute sharpness depends on the scene), so motion-blurred frames are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

THUMB_LONG_SIDE = 320  # tracking runs on small greyscale copies: fast, and blur-tolerant
FB_TOLERANCE = 1.0  # thumb pixels a forward-backward track may miss its start by


@dataclass
class FrameStats:
    """What pass one over the video keeps per frame (a few tens of KB each)."""

    index: list[int]
    time_s: list[float]
    thumbs: list[np.ndarray]  # uint8 greyscale, long side THUMB_LONG_SIDE
    sharpness: np.ndarray  # variance of the Laplacian at working resolution (compares neighbours)
    brightness: np.ndarray  # grey level 0..255 that the brightest tenth of the frame reaches
    detail: np.ndarray | None = None  # variance of the Laplacian of the thumbnail (compares with a fixed level)


@dataclass
class Selection:
    positions: list[int]  # keyframes, as positions in the FrameStats lists
    step: float  # motion step used (share of the long side)
    overlap: list[float] = field(default_factory=list)  # tracked share from each keyframe to the next
    photo_set: bool = False  # every usable frame kept: consecutive frames are already far apart
    path_motion: float = 0.0  # tracked image motion summed over consecutive keyframes (share of the long side)
    #: per looked-at position, how far the view had moved since the previous keyframe (share
    #: of the long side; inf where tracking was lost): what decided when to take the next one
    motion: dict[int, float] = field(default_factory=dict)


def frame_measures(rgb: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    """Thumbnail, sharpness, brightness and detail of one working-resolution RGB frame.

    Brightness is the level the brightest tenth of the thumbnail reaches, not the mean: a
    lit object on a black cloth is well exposed although most of the frame is dark. Detail is
    the sharpness of the thumbnail, which compression noise (it averages out) and the
    frame's resolution (it is fixed) do not sway: real footage measured 130 or more, the
    same footage out of focus (a blur of 8 px on 768) 4.5.
    """
    import cv2

    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    sharp = float(cv2.Laplacian(grey, cv2.CV_32F).var())
    h, w = grey.shape
    s = THUMB_LONG_SIDE / max(h, w)
    thumb = cv2.resize(grey, (max(8, round(w * s)), max(8, round(h * s))), interpolation=cv2.INTER_AREA)
    counts = np.bincount(thumb.ravel(), minlength=256)
    brightest_tenth = int(np.searchsorted(np.cumsum(counts), 0.9 * thumb.size))
    detail = float(cv2.Laplacian(thumb, cv2.CV_32F).var())
    return thumb, sharp, float(brightest_tenth), detail


def relative_sharpness(sharpness: np.ndarray, radius: int = 7) -> np.ndarray:
    """Sharpness divided by the median of its temporal neighbourhood (1 = typical)."""
    n = len(sharpness)
    out = np.empty(n)
    for i in range(n):
        lo, hi = max(0, i - radius), min(n, i + radius + 1)
        out[i] = sharpness[i] / max(float(np.median(sharpness[lo:hi])), 1e-9)
    return out


def corners(thumb: np.ndarray, count: int = 400) -> np.ndarray | None:
    """Corners spread over the image (``None`` when it has too few to track)."""
    import cv2

    pts = cv2.goodFeaturesToTrack(thumb, maxCorners=count, qualityLevel=0.005, minDistance=8, blockSize=5)
    return None if pts is None or len(pts) < 12 else pts.astype(np.float32)


def track(ref: np.ndarray, cur: np.ndarray, pts: np.ndarray, guess: np.ndarray | None = None):
    """Follow ``pts`` from ``ref`` into ``cur``: (new positions, mask of tracks that are
    inside the image and come back to their start when tracked backwards)."""
    import cv2

    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03)
    flags = cv2.OPTFLOW_USE_INITIAL_FLOW if guess is not None else 0
    new, st, _ = cv2.calcOpticalFlowPyrLK(ref, cur, pts, None if guess is None else guess.copy(), winSize=(21, 21),
                                          maxLevel=4, flags=flags, criteria=criteria)
    back, st2, _ = cv2.calcOpticalFlowPyrLK(cur, ref, new, pts.copy(), winSize=(21, 21), maxLevel=4,
                                            flags=cv2.OPTFLOW_USE_INITIAL_FLOW, criteria=criteria)
    h, w = cur.shape
    p = new.reshape(-1, 2)
    ok = (st.ravel() == 1) & (st2.ravel() == 1)
    ok &= np.linalg.norm((back - pts).reshape(-1, 2), axis=1) <= FB_TOLERANCE
    ok &= (p[:, 0] >= 0) & (p[:, 0] <= w - 1) & (p[:, 1] >= 0) & (p[:, 1] <= h - 1)
    return new, ok


def camera_shift(start: np.ndarray, end: np.ndarray) -> float:
    """How far the view moved between two frames (thumb pixels), from tracked points.

    Not simply the median displacement of all points: a hand pushing objects around, or a
    person walking through, moves many corners while the camera does not move at all. When a
    quarter of the points stand still, the camera stands still; otherwise it is the median
    displacement of the points that follow the dominant image motion (a RANSAC homography).
    """
    import cv2

    moved = np.linalg.norm(end.reshape(-1, 2) - start.reshape(-1, 2), axis=1)
    still = moved < 1.0
    if len(moved) and still.mean() >= 0.25:
        return float(np.median(moved[still]))
    if len(moved) >= 12:
        H, inliers = cv2.findHomography(start.reshape(-1, 2), end.reshape(-1, 2), cv2.RANSAC, 2.0)
        if H is not None and inliers.sum() >= max(8, 0.3 * len(moved)):
            return float(np.median(moved[inliers.ravel() > 0]))
    return float(np.median(moved))


def select(stats: FrameStats, usable: np.ndarray, step: float, min_overlap: float, report=None) -> Selection:
    """Keyframes spaced by ``step`` of motion but never sharing less than ``min_overlap`` of
    tracked corners with the previous keyframe."""
    thumbs = stats.thumbs
    n = len(thumbs)
    side = float(max(thumbs[0].shape))
    rel = relative_sharpness(stats.sharpness)
    good = np.nonzero(usable)[0]
    if good.size == 0:
        return Selection([], step)
    first = good[good < good[0] + 5]
    keys = [int(first[np.argmax(rel[first])])]
    overlaps: list[float] = []
    path = 0.0
    untracked = 0  # keyframe gaps that could not be tracked at all (photo-set signature)
    ref = keys[0]
    pts = corners(thumbs[ref])
    moved: dict[int, float] = {}
    shared: dict[int, float] = {}
    motion: dict[int, float] = {}
    guess = None
    j = ref + 1
    while j < n:
        if report is not None:
            report(j, n)
        if pts is None:  # nothing to track (blank frame): fall back to time spacing
            d, frac = (step if j - ref >= 10 else 0.0), 1.0
        else:
            new, ok = track(thumbs[ref], thumbs[j], pts, guess)
            frac = float(ok.mean())
            d = camera_shift(pts[ok], new[ok]) / side if ok.sum() >= 8 else np.inf
            guess = new
        moved[j], shared[j] = d, frac
        motion[j] = float(d)
        if d >= step or frac < min_overlap:
            # Take the sharp frame that went farthest while the overlap still held.
            window = [k for k in range(ref + 1, j + 1)
                      if usable[k] and shared[k] >= min_overlap and moved[k] >= 0.6 * min(step, moved[j])]
            if not window:
                window = [k for k in range(ref + 1, j + 1) if usable[k]] or [j]
                if j == ref + 1:
                    untracked += 1
            pick = _sharpest_far(window, rel, moved)
            keys.append(pick)
            overlaps.append(shared[pick])
            path += min(moved[pick], 1.0)
            ref, pts, guess, moved, shared = pick, corners(thumbs[pick]), None, {}, {}
            j = pick + 1
            continue
        j += 1
    # The end of the walk matters as much as the start: keep a late frame if it moved enough.
    if keys[-1] < n - 1 and moved:
        tail = [k for k in moved if usable[k] and moved[k] >= 0.5 * step]
        if tail:
            pick = int(max(tail, key=lambda k: (rel[k] >= 0.85 * max(rel[t] for t in tail), moved[k])))
            keys.append(pick)
            overlaps.append(shared[pick])
            path += min(moved[pick], 1.0)
        else:
            path += max((min(d, 1.0) for d in moved.values()), default=0.0)
    photo_set = len(keys) > 1 and untracked >= 0.5 * (len(keys) - 1)
    return Selection(keys, step, overlaps, photo_set, path, motion)


def _sharpest_far(window: list[int], rel: np.ndarray, moved: dict) -> int:
    """Among nearly-sharpest frames of the window, the one that moved farthest."""
    best = max(rel[k] for k in window)
    sharp = [k for k in window if rel[k] >= 0.85 * best]
    return int(max(sharp, key=lambda k: moved.get(k, 0.0) if np.isfinite(moved.get(k, 0.0)) else 1e9))


def consecutive_motion(stats: FrameStats, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tracked motion (share of the long side; 1.0 when tracking fails) and tracked share
    between each pair of consecutive ``positions``."""
    thumbs = stats.thumbs
    side = float(max(thumbs[0].shape))
    motion, shared = [], []
    for a, b in zip(positions[:-1], positions[1:]):
        pts = corners(thumbs[a])
        if pts is None:
            motion.append(0.0)
            shared.append(1.0)
            continue
        new, ok = track(thumbs[a], thumbs[b], pts)
        shared.append(float(ok.mean()))
        motion.append(camera_shift(pts[ok], new[ok]) / side if ok.sum() >= 8 else 1.0)
    return np.asarray(motion), np.asarray(shared)


def choose(stats: FrameStats, usable: np.ndarray, step: float, min_overlap: float, max_keyframes: int,
           min_keyframes: int, detailed: np.ndarray | None = None, report=None) -> Selection:
    """Every usable frame of a photo set; otherwise keyframes with the motion step widened
    until they fit the cap, or narrowed to reach the minimum. The overlap rule is never
    loosened: a video that needs more keyframes than the cap to stay overlapping is cut to
    the cap only as a last resort, evenly.

    A photo set (or a short clip filmed fast) is one whose consecutive ``detailed`` frames
    (bright and sharp enough; ``usable`` also asks a video's frame to be among the sharpest
    of its neighbours, which says nothing between photos) already move half a step or more,
    or where the rules above would keep half of them anyway: dropping any would only lose
    overlap.
    """
    good = np.nonzero(usable if detailed is None else detailed)[0]
    photos = None
    if 2 <= len(good) <= max_keyframes:
        motion, shared = consecutive_motion(stats, good)
        photos = Selection([int(k) for k in good], step, shared.tolist(), True, float(np.minimum(motion, 1).sum()),
                           {int(k): float(m) for k, m in zip(good[1:], motion)})
        if np.median(motion) >= 0.5 * step:
            return photos  # no need to track through the video: every frame is a keyframe
    sel = select(stats, usable, step, min_overlap, report)
    tries = 0
    while len(sel.positions) > max_keyframes and tries < 8 and not sel.photo_set:
        # The motion summed over keyframes says which step fits the cap (each select is a
        # pass of tracking over the whole video, so guess well rather than creep up on it).
        step = max(step * 1.15, sel.path_motion / (0.9 * max_keyframes))
        wider = select(stats, usable, step, min_overlap, report)
        if len(wider.positions) >= len(sel.positions):
            break
        sel = wider
        tries += 1
    while len(sel.positions) < min_keyframes and step > 0.01 and tries < 12 and not sel.photo_set:
        step *= 0.6
        more = select(stats, usable, step, min_overlap, report)
        if len(more.positions) > max_keyframes:
            break
        sel = more
        tries += 1
    if photos is not None and (sel.photo_set or len(sel.positions) >= 0.5 * len(good)):
        return photos
    if len(sel.positions) > max_keyframes:
        keep = np.unique(np.round(np.linspace(0, len(sel.positions) - 1, max_keyframes)).astype(int))
        sel = Selection([sel.positions[k] for k in keep], sel.step, [], sel.photo_set, sel.path_motion, sel.motion)
    return sel
