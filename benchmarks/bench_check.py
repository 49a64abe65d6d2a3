"""``check_video`` against decoding the same video once with PyAV (target <= 1.5x).

    .venv/bin/python benchmarks/bench_check.py [--realdata ../shared/realdata] [--rounds 2]

Decoding once means what any look at the pixels needs: every frame decoded and converted to
an RGB array (``frame.to_ndarray(format="rgb24")``), with PyAV's threaded decoding. The check
decodes at the pipeline's working size, measures every frame and tracks the camera over the
thumbnails to choose keyframes, as the pipeline's first stage does. Best of ``--rounds``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def decode_once(path: Path) -> int:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return sum(1 for frame in container.decode(stream) if frame.to_ndarray(format="rgb24") is not None)


def main() -> None:
    import bench_reconstruction  # the 20 s rendered walkthrough, made once and kept in its cache
    from _common import best_of, real_footage

    from openstrate_nb.local.pipeline.check import check_video

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realdata", type=Path, default=os.environ.get("OPENSTRATE_REALDATA"))
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    videos = real_footage(args.realdata)
    videos.insert(1, bench_reconstruction.video("walkthrough"))
    print("| video | frames | decode once s | check_video s | ratio | verdict |")
    print("|---|---|---|---|---|---|")
    for video in videos:
        frames = decode_once(video)
        decode_s = best_of(lambda: decode_once(video), args.rounds)
        check = check_video(video)
        check_s = best_of(lambda: check_video(video), args.rounds)
        verdict = "ok" if check.ok else check.code
        print(f"| {video.name} | {frames} | {decode_s:.2f} | {check_s:.2f} | {check_s / decode_s:.1f}x | {verdict} |",
              flush=True)


if __name__ == "__main__":
    main()
