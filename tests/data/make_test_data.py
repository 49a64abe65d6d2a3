"""How the real test material in this folder was made from its sources (run once, by hand).

    python tests/data/make_test_data.py --castle DIR_WITH_castle30.mp4 --opencv-data DIR

``--castle``: a folder with ``castle30.mp4`` and ``castle30_gt.json`` (Strecha et al.'s
castle-P30 photos as a 2 fps video, camera centres in metres). ``--opencv-data``: OpenCV's
sample data as Debian's ``opencv-doc`` installs it (``/usr/share/doc/opencv-doc/examples/data``).
Nothing here is rendered: every pixel comes from a camera.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def write_video(path: Path, frames: list[np.ndarray], fps: int, crf: int = 23) -> None:
    import av

    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": str(crf)}
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def castle(source: Path) -> None:
    """castle-P30 at 768x512 (from 1280x852), all 30 photos, with the camera centres."""
    import av
    import cv2

    with av.open(str(source / "castle30.mp4")) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    small = [cv2.resize(f, (768, 512), interpolation=cv2.INTER_AREA) for f in frames]
    write_video(HERE / "castle_courtyard.mp4", small, fps=2)
    (HERE / "castle_courtyard_gt.json").write_bytes((source / "castle30_gt.json").read_bytes())


def aloe(data: Path) -> None:
    """Middlebury's Aloe pair at a third of its size, with its ground-truth disparity.

    The disparity (pixels of the full-size pair) is sampled at the third-size pixel centres,
    divided by three and stored times 64 in a 16-bit PNG; 0 means unknown.
    """
    import cv2

    left, right = cv2.imread(str(data / "aloeL.jpg")), cv2.imread(str(data / "aloeR.jpg"))
    gt = cv2.imread(str(data / "aloeGT.png"), cv2.IMREAD_GRAYSCALE).astype(np.float64)
    h, w = gt.shape
    size = (round(w / 3), round(h / 3))
    quality = [cv2.IMWRITE_JPEG_QUALITY, 95]
    cv2.imwrite(str(HERE / "aloe_left.jpg"), cv2.resize(left, size, interpolation=cv2.INTER_AREA), quality)
    cv2.imwrite(str(HERE / "aloe_right.jpg"), cv2.resize(right, size, interpolation=cv2.INTER_AREA), quality)
    ys = np.clip(np.round((np.arange(size[1]) + 0.5) * 3 - 0.5).astype(int), 0, h - 1)
    xs = np.clip(np.round((np.arange(size[0]) + 0.5) * 3 - 0.5).astype(int), 0, w - 1)
    third = gt[np.ix_(ys, xs)] / 3.0
    cv2.imwrite(str(HERE / "aloe_disparity.png"), np.round(third * 64).astype(np.uint16))


def unrelated(data: Path) -> None:
    """Six photos of six different things, as a 1 fps video: nothing to match between them."""
    import cv2

    names = ["building.jpg", "fruits.jpg", "home.jpg", "baboon.jpg", "aero1.jpg", "board.jpg"]
    frames = []
    for name in names:
        bgr = cv2.imread(str(data / name))
        frames.append(cv2.cvtColor(cv2.resize(bgr, (384, 288), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB))
    write_video(HERE / "unrelated_photos.mp4", frames, fps=1, crf=20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--castle", type=Path, required=True)
    ap.add_argument("--opencv-data", type=Path, default=Path("/usr/share/doc/opencv-doc/examples/data"))
    args = ap.parse_args()
    castle(args.castle)
    aloe(args.opencv_data)
    unrelated(args.opencv_data)
    print(json.dumps(sorted(p.name for p in HERE.iterdir())))


if __name__ == "__main__":
    main()
