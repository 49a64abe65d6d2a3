"""Printed scale markers: the sheet to print, and finding its corners in a picture.

A marker is an ArUco square from OpenCV's ``DICT_4X4_50``: any of its 50 ids counts, the
side printed on the sheet is what the reconstruction scales to. All of them need the
``local`` extra (OpenCV).

    marker_sheet("marker.pdf", size_m=0.10)       # print at 100%, then film it with the scene
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["MARKER_DICTIONARY", "Marker", "marker_sheet", "find_markers", "edge_fitted_corners", "plausible_square"]

MARKER_DICTIONARY = "DICT_4X4_50"
_DPI = 300
_PAPERS_MM = {"A4": (210.0, 297.0), "letter": (215.9, 279.4)}
_MARGIN_MM = 20.0


def _aruco():
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - the local extra brings it
        raise ImportError('markers need OpenCV, from the local extra: pip install "openstrate_nb[local]"') from exc
    return cv2, cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, MARKER_DICTIONARY))


@dataclass(frozen=True)
class Marker:
    """One marker seen in a picture: its id and its four corners (pixels, clockwise from
    the marker's own top left), as OpenCV's ArUco detector finds them."""

    id: int
    corners: np.ndarray  # (4, 2) float


def _px(mm: float) -> int:
    return int(round(mm / 25.4 * _DPI))


def marker_sheet(path: str | os.PathLike[str], size_m: float = 0.10, *, marker_id: int = 0,
                 paper: str = "A4") -> Path:
    """Write a printable sheet (PDF, or PNG by the suffix) with one marker of side ``size_m``.

    The sheet states the marker's dictionary, id and side, and carries a 10 cm ruler, so a
    printer that scaled the page is caught with a ruler before filming.
    """
    from PIL import Image, ImageDraw, ImageFont

    if paper not in _PAPERS_MM:
        raise ValueError(f"paper={paper!r}: choose one of {', '.join(_PAPERS_MM)}.")
    width_mm, height_mm = _PAPERS_MM[paper]
    largest = min(width_mm, height_mm - 80.0) - 2 * _MARGIN_MM
    if isinstance(size_m, bool) or not isinstance(size_m, (int, float)) or not 0.02 <= size_m * 1000 <= largest:
        raise ValueError(f"size_m={size_m!r}: a marker on {paper} paper can be 0.02 to {largest / 1000:.2f} m wide.")
    if not isinstance(marker_id, int) or not 0 <= marker_id < 50:
        raise ValueError(f"marker_id={marker_id!r}: {MARKER_DICTIONARY} has ids 0 to 49.")
    path = Path(path)
    if path.suffix.lower() not in (".pdf", ".png"):
        raise ValueError(f"{path.name}: write the sheet as .pdf (to print) or .png.")
    cv2, dictionary = _aruco()
    side_px = _px(size_m * 1000)
    marker = cv2.aruco.generateImageMarker(dictionary, marker_id, side_px, borderBits=1)
    page = Image.new("L", (_px(width_mm), _px(height_mm)), 255)
    left, top = (page.width - side_px) // 2, _px(_MARGIN_MM + 25)
    page.paste(Image.fromarray(marker), (left, top))
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=_px(4.2))
    small = ImageFont.load_default(size=_px(3.2))
    x = _px(_MARGIN_MM)
    draw.text((x, _px(_MARGIN_MM)), f"openstrate_nb scale marker: ArUco {MARKER_DICTIONARY}, id {marker_id}",
              font=font, fill=0)
    below = top + side_px + _px(8)
    lines = [f"The black square is {size_m * 1000:.1f} mm wide. Give the reconstruction marker_size_m={size_m:g}.",
             "Print at 100% (actual size, no fit to page), check the ruler below, and lay the sheet flat",
             "where the camera sees it from several sides."]
    for n, line in enumerate(lines):
        draw.text((x, below + n * _px(5.5)), line, font=small, fill=0)
    ruler_y = below + len(lines) * _px(5.5) + _px(8)
    draw.line([(x, ruler_y), (x + _px(100), ruler_y)], fill=0, width=3)
    for cm in range(11):
        tick = _px(4 if cm % 5 == 0 else 2.5)
        draw.line([(x + _px(cm * 10), ruler_y - tick), (x + _px(cm * 10), ruler_y)], fill=0, width=3)
    draw.text((x + _px(102), ruler_y - _px(3)), "10 cm", font=small, fill=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".pdf":
        # Black and white only: a lossless bilevel image, where a JPEG would soften the edges.
        page.convert("1").save(path, "PDF", resolution=float(_DPI))
    else:
        page.save(path, dpi=(_DPI, _DPI))
    return path


def find_markers(image: np.ndarray) -> list[Marker]:
    """Every ``DICT_4X4_50`` marker in an RGB or grey picture, with corners where its four
    outer edges, fitted as straight lines, meet (``edge_fitted_corners``)."""
    cv2, dictionary = _aruco()
    grey = image if image.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    parameters = cv2.aruco.DetectorParameters()
    parameters.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    corners, ids, _ = cv2.aruco.ArucoDetector(dictionary, parameters).detectMarkers(grey)
    if ids is None:
        return []
    smooth = cv2.GaussianBlur(grey.astype(np.float32), (0, 0), _EDGE_SIGMA_PX)
    found = [(int(i), np.asarray(c, dtype=float).reshape(4, 2)) for i, c in zip(ids.ravel(), corners)]
    return [Marker(i, edge_fitted_corners(smooth, c)) for i, c in found if plausible_square(c)]


#: a light blur before finding edges: steadier peaks, and a symmetric blur moves no edge
_EDGE_SIGMA_PX = 0.7
#: a marker's 6 x 6 cells (code and border) need a pixel each at the least to be read
_MIN_SIDE_PX = 6.0


def plausible_square(corners: np.ndarray) -> bool:
    """Whether a detection's four corners (pixels) can be a printed marker: a convex quadrilateral
    at least ``_MIN_SIDE_PX`` across (its area over its longest side), room for the marker's
    cells. ArUco also reads codes into specks: on the real poster_cube footage, id 17 as a
    1 x 5 px sliver and as a 24 x 4 px flat quad."""
    import cv2

    outline = corners.astype(np.float32).reshape(-1, 1, 2)
    longest = np.linalg.norm(corners - np.roll(corners, -1, axis=0), axis=1).max()
    return bool(cv2.isContourConvex(outline) and cv2.contourArea(outline) >= _MIN_SIDE_PX * longest)


def edge_fitted_corners(grey: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Corners of a dark square on a light ground, moved to where its four edges meet.

    ArUco's own corners sit inside the square on small, soft markers (its threshold cuts the
    blurred edge short of the middle: on the bundled sample's 30 px markers, the sub-pixel
    corners make the side 0.6% short, and the reconstruction 0.6% too large). Here each
    edge is sampled across at many points along it, the edge taken where the brightness falls
    fastest (the middle of a blurred step, wherever the blur), and a straight line fitted
    through those points; adjacent lines meet at the corners. ``corners`` (4, 2) come back
    unchanged where an edge gives too few points to fit. ``find_markers`` blurs ``grey``
    lightly first, once for all the markers in a picture.
    """
    import cv2

    grey = np.asarray(grey, dtype=np.float32)  # differences of uint8 brightness would wrap around
    centre = corners.mean(axis=0)
    cell = min(np.linalg.norm(corners - np.roll(corners, -1, axis=0), axis=1)) / 6  # 4x4 code + border
    reach = float(np.clip(0.4 * cell, 1.0, 2.0))  # stays off the code's own edges one cell inside
    offsets = np.arange(-reach, reach + 1e-9, 0.25)
    lines = []
    for a, b in zip(corners, np.roll(corners, -1, axis=0)):
        length = float(np.linalg.norm(b - a))
        along = (b - a) / length
        inwards = np.array([-along[1], along[0]])
        if np.dot(centre - (a + b) / 2, inwards) < 0:
            inwards = -inwards
        starts = a + np.outer(np.arange(0.15 * length, 0.85 * length, 0.7), along)  # away from the corners
        samples = (starts[:, None, :] + offsets[None, :, None] * inwards).astype(np.float32)
        profile = cv2.remap(grey, samples[..., 0], samples[..., 1], cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)  # no false edge at the picture's border
        fall = profile[:, :-1] - profile[:, 1:]  # light outside, dark inside
        peak = np.argmax(fall, axis=1)
        inside = (peak > 0) & (peak < fall.shape[1] - 1) & (fall.max(axis=1) > 0)
        if inside.sum() < 4:
            return corners
        rows = np.nonzero(inside)[0]
        left, mid, right = (fall[rows, peak[rows] + k] for k in (-1, 0, 1))
        curve = left - 2 * mid + right  # a parabola through the peak and its neighbours
        shift = np.divide(0.5 * (left - right), curve, out=np.zeros_like(curve), where=curve < 0)
        depth = offsets[0] + (peak[rows] + 0.5 + shift) * (offsets[1] - offsets[0])
        points = starts[rows] + depth[:, None] * inwards
        middle = points.mean(axis=0)
        direction = np.linalg.svd(points - middle)[2][0]
        lines.append((middle, direction))
    fitted = []
    for before, after in zip(lines[-1:] + lines[:-1], lines):  # corner i: edge i-1 meets edge i
        (p, d), (q, e) = before, after
        system = np.column_stack([d, -e]).astype(float)
        if abs(np.linalg.det(system)) < 1e-6:
            return corners
        t = np.linalg.solve(system, q - p)
        fitted.append(p + t[0] * d)
    return np.array(fitted, dtype=float)
