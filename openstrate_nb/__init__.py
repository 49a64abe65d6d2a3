"""openstrate_nb: turn a walkthrough video into a 3D mesh from inside a notebook.

``import openstrate_nb`` stays light: the client is imported now; the widget, the mesh
helpers (trimesh, pythreejs) and the embedded server only when first used.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .api import *  # noqa: F403  (the client's own __all__)
from .api import __all__ as _api_all

# A library logs, the application decides what is shown: without this, Python's last-resort
# handler would print the embedded server's warnings into notebook cells.
logging.getLogger("openstrate_nb").addHandler(logging.NullHandler())

if TYPE_CHECKING:  # pragma: no cover
    from ._provenance import provenance
    from ._verify import verify
    from .local.pipeline.check import check_video
    from .export import export_html
    from .figures import camera_path_over_points, depth_beside_frame, keyframe_strip, score_timeline, texture_sources
    from .markers import marker_sheet
    from .scale import mesh_scale, scale_mesh
    from .mesh import display_mesh, load_glb, mesh_summary, show_mesh, to_pythreejs
    from .widget import BatchWidget, ReconstructWidget, reconstruct_many

_LAZY = {
    "ReconstructWidget": "openstrate_nb.widget",
    "BatchWidget": "openstrate_nb.widget",
    "reconstruct_many": "openstrate_nb.widget",
    "load_glb": "openstrate_nb.mesh",
    "to_pythreejs": "openstrate_nb.mesh",
    "show_mesh": "openstrate_nb.mesh",
    "display_mesh": "openstrate_nb.mesh",
    "mesh_summary": "openstrate_nb.mesh",
    "export_html": "openstrate_nb.export",
    "scale_mesh": "openstrate_nb.scale",
    "marker_sheet": "openstrate_nb.markers",
    "mesh_scale": "openstrate_nb.scale",
    "provenance": "openstrate_nb._provenance",
    "verify": "openstrate_nb._verify",
    "check_video": "openstrate_nb.local.pipeline.check",
    "keyframe_strip": "openstrate_nb.figures",
    "score_timeline": "openstrate_nb.figures",
    "depth_beside_frame": "openstrate_nb.figures",
    "camera_path_over_points": "openstrate_nb.figures",
    "texture_sources": "openstrate_nb.figures",
}

__all__ = ["__version__", *_api_all, *_LAZY, "load_ipython_extension", "unload_ipython_extension"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'openstrate_nb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext openstrate_nb``: register ``%openstrate`` and put ``ReconstructWidget`` in scope."""
    from .magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .magics import unload_ipython_extension as unload

    unload(ipython)
