"""How a result looks in every view: the kernel's pythreejs view, the PNG preview and (with
the same values in ``js/src/viewer/parse.js`` and ``stage.js``) the ``/view`` page."""

from __future__ import annotations

__all__ = ["DARK_BACKGROUND", "LIGHT_BACKGROUND", "PLAIN_MESH_COLOR", "rgb"]

#: A mesh without colours of its own.
PLAIN_MESH_COLOR = "#b9bec7"
#: Behind the mesh, in a light and in a dark page.
LIGHT_BACKGROUND = "#eceef2"
DARK_BACKGROUND = "#1d2026"


def rgb(hex_color: str) -> tuple[float, float, float]:
    """``"#b9bec7"`` as (r, g, b) in 0..1."""
    value = hex_color.lstrip("#")
    return tuple(int(value[i:i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]
