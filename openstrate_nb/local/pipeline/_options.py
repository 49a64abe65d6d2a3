"""Tunable settings of the reconstruction pipeline (defaults suit a phone walkthrough on 2 cores)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass
class PipelineOptions:
    #: Frames are downscaled so their long side is at most this many pixels.
    max_long_side: int = 960
    #: At most this many keyframes go into structure from motion (its cost grows faster than linearly).
    max_keyframes: int = 80
    #: Fewer keyframes than this and the motion step is narrowed (short or slow videos).
    min_keyframes: int = 24
    #: A new keyframe once tracked corners moved this share of the frame's long side.
    keyframe_step: float = 0.03
    #: Frames sharper than this share of their neighbours' median can be keyframes.
    min_relative_sharpness: float = 0.6
    #: SIFT features per keyframe.
    max_features: int = 2500
    #: SIFT's first octave: -1 upsamples images twice (more small features, ~3x the cost);
    #: None picks -1 for keyframes under 800 px and 0 above.
    sift_first_octave: int | None = None
    #: Sequential matching pairs each keyframe with this many following ones.
    match_overlap: int = 8
    #: Stereo runs on keyframes downscaled to this long side (SGBM cost grows with pixels x
    #: disparities; multi-view fusion recovers the precision lost, see benchmarks/README.md).
    stereo_long_side: int = 576
    #: TSDF voxel edge as a share of the reconstructed scene's bounding-box diagonal.
    voxel_rel: float = 0.0018
    #: Mesh pieces with fewer faces than this share of the largest piece are dropped.
    min_piece_share: float = 0.02
    #: Threads for OpenCV and COLMAP (default: all cores).
    num_threads: int = 0

    def threads(self) -> int:
        return self.num_threads if self.num_threads > 0 else max(1, os.cpu_count() or 1)
