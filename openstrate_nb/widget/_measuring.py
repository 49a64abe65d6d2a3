"""Measuring in the widget's 3D view: double-click two points of the mesh for their distance.

The same readings as the ``/view`` page's Measure tool (js/src/viewer/measure.js): the box
and surface area of the result, then the distance between the last two picked points, in
metres once the scale is known (a marker, or ``w.set_scale``) and in the mesh's own units,
saying so, before. ``Measuring`` is the arithmetic and the words, plain Python;
``MeasureTool`` connects it to a pythreejs view (picks in, marks and a readout out).

Picks land on the displayed copy, which may be decimated; the box and area come from the
full mesh. Both are in the same frame, so only a later ``set_scale`` (a uniform scale about
the origin) separates them, and ``rescaled`` follows it.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import ipywidgets
    import pythreejs
    import trimesh

__all__ = ["MeasureTool", "Measuring", "area_text", "box_text", "length_text"]

#: what the readout says when the distance is not in metres yet
SCALE_HINT = "scale unknown: see w.set_scale"


def _significant(value: float, digits: int) -> str:
    """``value`` to ``digits`` significant digits, trailing zeros kept (JavaScript's toPrecision)."""
    return f"{float(value):#.{digits}g}".rstrip(".")


def length_text(value: float, units: str) -> str:
    """``"1.234 m"``, ``"0.753 m (75.3 cm)"`` or ``"1.234 units"`` (as lengthText on ``/view``)."""
    if units != "m":
        return f"{_significant(value, 4)} units"
    return f"{value:.3f} m ({value * 100:.1f} cm)" if value < 1 else f"{value:.3f} m"


def box_text(extents: Any, units: str) -> str:
    """``"1.20 × 0.80 × 0.45 m"``: the box's width, height and depth."""
    dims = [f"{v:.2f}" if units == "m" else _significant(v, 3) for v in np.asarray(extents, dtype=float)]
    return f"{' × '.join(dims)} {'m' if units == 'm' else 'units'}"


def area_text(value: float, units: str) -> str:
    return f"{_significant(value, 3)} {'m²' if units == 'm' else 'units²'}"


def _diagonal(mesh: trimesh.Trimesh) -> float:
    return float(np.linalg.norm(mesh.extents)) if len(mesh.vertices) else 0.0


class Measuring:
    """Up to two picked points on the view of ``mesh``; a third pick starts a new pair."""

    def __init__(self, mesh: trimesh.Trimesh):
        self._shown_diagonal = _diagonal(mesh)
        self.points: list[np.ndarray] = []  # in the displayed copy's frame, as the picker gives them
        self.rescaled(mesh)

    def rescaled(self, mesh: trimesh.Trimesh) -> None:
        """``mesh`` replaces the one shown, scaled (``w.set_scale``); the view itself is not redrawn."""
        from ..scale import mesh_scale

        self.units = mesh_scale(mesh)["units"]
        # Measured on the whole mesh once here, not on every pick.
        self._box, self._area = mesh.extents if len(mesh.vertices) else np.zeros(3), float(mesh.area)
        diagonal = _diagonal(mesh)
        self._to_mesh = diagonal / self._shown_diagonal if self._shown_diagonal > 0 else 1.0

    def pick(self, point: Any) -> None:
        point = np.asarray(point, dtype=float).reshape(3)
        self.points = [point] if len(self.points) == 2 else [*self.points, point]

    @property
    def distance(self) -> float | None:
        """Between the two picked points, in ``units``; None until there are two."""
        if len(self.points) < 2:
            return None
        return float(np.linalg.norm(self.points[1] - self.points[0])) * self._to_mesh

    def lines(self) -> list[str]:
        """What the readout says, line by line."""
        lines = [f"Box {box_text(self._box, self.units)} · Area {area_text(self._area, self.units)}"]
        distance = self.distance
        if distance is not None:
            hint = "" if self.units == "m" else f" ({SCALE_HINT})"
            lines.append(f"Distance: {length_text(distance, self.units)}{hint}")
        elif self.points:
            lines.append("Double-click a second point")
        else:
            lines.append("Double-click two points of the mesh to measure their distance")
        return lines


class MeasureTool:
    """A pythreejs view's measuring: its picker's picks in, marks in the view and a readout out."""

    def __init__(self, renderer: pythreejs.Renderer):
        import ipywidgets

        from .. import _three

        self._picker, self._marks = _three.add_measuring(renderer)
        self._picker.observe(self._on_pick, "point")
        self._radius = 0.01
        self.measuring: Measuring | None = None
        #: the lines under the view
        self.readout: ipywidgets.HTML = ipywidgets.HTML(layout={"width": "100%"})
        self.readout.add_class("osnb-measure")

    def show(self, mesh: trimesh.Trimesh, positions: np.ndarray) -> None:
        """A new result is in the view (``positions``, its displayed copy): start afresh."""
        span = np.ptp(positions.reshape(-1, 3), axis=0) if positions.size else np.zeros(3)
        self._radius = float(np.linalg.norm(span)) / 150 or 0.01
        self.measuring = Measuring(mesh)
        self._redraw()

    def hide(self) -> None:
        """No result in the view (a live preview replaced it): no marks, no readings."""
        self.measuring = None
        self._redraw()

    def rescaled(self, mesh: trimesh.Trimesh) -> None:
        if self.measuring is not None:
            self.measuring.rescaled(mesh)
            self._redraw()

    def _on_pick(self, change: dict[str, Any]) -> None:
        # A double-click beside the mesh also sends a "pick": no hit, no distance, point (0, 0, 0).
        if self.measuring is None or self._picker.distance is None:
            return
        self.measuring.pick(change["new"])
        self._redraw()

    def _redraw(self) -> None:
        from .. import _three

        measuring = self.measuring
        _three.show_marks(self._marks, measuring.points if measuring else [], self._radius)
        lines = measuring.lines() if measuring else []
        self.readout.value = ('<div style="font-size: 12px; line-height: 1.5; padding: 4px 0; text-align: center">'
                              + "<br>".join(html.escape(line) for line in lines) + "</div>")
