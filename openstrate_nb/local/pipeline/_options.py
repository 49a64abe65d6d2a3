"""Tunable settings of the reconstruction pipeline.

The defaults were chosen on real camera footage (benchmarks/bench_realworld.py) and must
also fit a phone walkthrough on 2 cores.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass
class PipelineOptions:
    #: Frames are downscaled so their long side is at most this many pixels.
    max_long_side: int = 960
    #: At most this many keyframes go into structure from motion (its cost grows faster than linearly).
    max_keyframes: int = 100
    #: Fewer keyframes than this and the motion step is narrowed (short or slow videos).
    min_keyframes: int = 20
    #: A new keyframe once tracked corners moved this share of the frame's long side...
    keyframe_step: float = 0.05
    #: ...or before fewer than this share of the last keyframe's corners can still be tracked.
    min_overlap: float = 0.7
    #: Frames sharper than this share of their neighbours' median can be keyframes.
    min_relative_sharpness: float = 0.6
    #: SIFT features per keyframe.
    max_features: int = 4096
    #: SIFT's first octave: -1 upsamples images twice (more small features, ~3x the cost);
    #: None picks -1 below 700 px and 0 above.
    sift_first_octave: int | None = None
    #: Match every pair of keyframes up to this many; sequential matching (plus look-alike
    #: pairs, which close loops) above.
    exhaustive_matching_up_to: int = 25
    #: Sequential matching pairs each keyframe with this many following ones.
    match_overlap: int = 10
    #: Dense depth runs on keyframes downscaled to this long side.
    dense_long_side: int = 640
    #: Neighbour views each depth map is matched against.
    dense_neighbours: int = 4
    #: A depth must score at least this NCC (mean over its two best neighbours).
    min_ncc: float = 0.5
    #: Depth maps are computed for at most this many keyframes (evenly spread).
    max_depth_views: int = 60
    #: TSDF voxel edge in pixel footprints at the median scene depth.
    voxel_pixels: float = 3.0
    #: Mesh pieces with fewer faces than this share of the largest piece are dropped.
    min_piece_share: float = 0.02
    #: A photo texture cut from the keyframes (glTF baseColorTexture, unlit); False: vertex colours.
    texture: bool = True
    #: The texture's keyframes keep the video's resolution up to this long side.
    texture_long_side: int = 1920
    #: The texture atlas is at most this many pixels on a side (patches shrink alike to fit).
    max_texture_side: int = 4096
    #: Potts weight of the texture's view choice: how much a face wants its neighbours' view.
    texture_smoothness: float = 1.0
    #: How much of the per-view colour gains (seam levelling) the texture applies: 0 none, 1 all.
    #: 0 by default: on the real sets every frame's own exposure differs from the levelled
    #: one by up to 20%, and through the video's cameras the levelled texture scores lower
    #: (castle30: 24.5 dB unlevelled, 23.6 dB at 0.5, 22.0 dB at 1; benchmarks/README.md).
    texture_levelling: float = 0.0
    #: JPEG quality of the texture inside the GLB.
    texture_quality: int = 88
    #: Threads for OpenCV and COLMAP (default: all cores). The result does not depend on it.
    num_threads: int = 0
    #: Every random choice (COLMAP's RANSAC and mapping) starts from this seed, and keyframes
    #: enter COLMAP's database in video order, so the same video and version give the same
    #: files byte for byte. None: COLMAP's clock seeds and thread-order image ids, a result
    #: that differs from run to run (no faster; see benchmarks/README.md).
    seed: int | None = 0
    #: The printed side, in metres, of the ArUco markers (DICT_4X4_50, ``openstrate-nb marker``)
    #: filmed with the scene: the result is then scaled to metres. None: the result keeps the
    #: reconstruction's own units (markers are still looked for and reported).
    marker_size_m: float | None = None

    #: Write every stage's pictures and measures, and the live preview, under the work
    #: directory's ``stages/`` (docs/stage-artifacts.md). The result does not depend on it.
    stage_artifacts: bool = True

    def threads(self) -> int:
        return self.num_threads if self.num_threads > 0 else max(1, os.cpu_count() or 1)
