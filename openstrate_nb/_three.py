"""Everything that touches pythreejs, in one place.

pythreejs 2.4.2 bundles three.js r97 and is no longer maintained; keeping it behind these
few functions means a replacement (another viewer widget) touches one file. Input is
plain numpy arrays from ``openstrate_nb.mesh.display_arrays``; numpy arrays given to
``BufferAttribute`` travel to the browser as binary buffers, not JSON lists.
"""

from __future__ import annotations

import math

import numpy as np
import pythreejs as three

__all__ = ["mesh_object", "renderer_for"]

_FOV_DEGREES = 45.0
_PLAIN_COLOR = "#b8b8b8"


def mesh_object(arrays: dict[str, np.ndarray]) -> three.Mesh:
    """A ``Mesh`` over a ``BufferGeometry`` built from positions, normals, index and optional colours."""
    attributes = {
        "position": three.BufferAttribute(array=arrays["positions"].reshape(-1, 3), normalized=False),
        "normal": three.BufferAttribute(array=arrays["normals"].reshape(-1, 3), normalized=False),
    }
    has_colors = "colors" in arrays
    if has_colors:
        attributes["color"] = three.BufferAttribute(array=arrays["colors"].reshape(-1, 3), normalized=False)
    geometry = three.BufferGeometry(attributes=attributes, index=three.BufferAttribute(array=arrays["index"]))
    material = three.MeshStandardMaterial(
        vertexColors="VertexColors" if has_colors else "NoColors",
        color="white" if has_colors else _PLAIN_COLOR,
        roughness=0.85,
        metalness=0.0,
        # Reconstructions are open surfaces seen from inside and out.
        side="DoubleSide",
    )
    return three.Mesh(geometry=geometry, material=material)


def renderer_for(mesh: three.Mesh, bounds: np.ndarray, *, width: int = 640, height: int = 420) -> three.Renderer:
    """A ``Renderer`` with orbit controls, lights that follow the camera, and the camera fitted to ``bounds``."""
    bounds = np.asarray(bounds, dtype=float).reshape(2, 3)
    center = (bounds[0] + bounds[1]) / 2.0
    radius = max(float(np.linalg.norm(bounds[1] - bounds[0])) / 2.0, 1e-6)
    # Far enough that the bounding sphere fills the view, seen from above and to the side.
    distance = radius / math.sin(math.radians(_FOV_DEGREES) / 2.0) * 1.1
    direction = np.array([1.0, 0.8, 1.2])
    direction /= np.linalg.norm(direction)
    position = center + direction * distance
    key_light = three.DirectionalLight(color="white", intensity=0.65, position=[1.0, 1.5, 1.0])
    camera = three.PerspectiveCamera(
        position=position.tolist(),
        fov=_FOV_DEGREES,
        aspect=width / height,
        near=distance / 1000.0,
        far=distance * 20.0,
        children=[key_light],
    )
    scene = three.Scene(
        children=[mesh, camera, three.AmbientLight(color="#ffffff", intensity=0.55)],
        background="#20232a",
    )
    controls = three.OrbitControls(controlling=camera, target=center.tolist())
    camera.lookAt(center.tolist())
    return three.Renderer(camera=camera, scene=scene, controls=[controls], width=width, height=height,
                          antialias=True)
