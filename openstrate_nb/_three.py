"""Everything that touches pythreejs, in one place.

pythreejs 2.4.2 bundles three.js r97 and is no longer maintained; keeping it behind these
few functions means a replacement (another viewer widget) touches one file. Input is
plain numpy arrays from ``openstrate_nb.mesh.display_arrays``; numpy arrays given to
``BufferAttribute`` travel to the browser as binary buffers, not JSON lists.
"""

from __future__ import annotations

import numpy as np
import pythreejs as three

from ._framing import DEFAULT_DIRECTION, camera_basis, framed_view
from ._look import DARK_BACKGROUND, LIGHT_BACKGROUND, PLAIN_MESH_COLOR

__all__ = ["add_measuring", "preview_object", "show_preview_in", "background_for", "mesh_object", "renderer_for", "resize", "set_dark", "show_in",
           "show_marks"]

_FOV_DEGREES = 45.0
# The /view page's measuring marks (stage.js): red, drawn over the mesh, dots 1/150 of the box.
_MARK_COLOR = "#ff3b30"
_MARK_NAME = "osnb-measure-marks"
_PREVIEW_NAME = "osnb-live-preview"
_CAMERA_COLOR = "#ff9500"


#: JPEG quality of the texture a notebook carries with the kernel's view.
_TEXTURE_QUALITY = 80


def mesh_object(arrays: dict) -> three.Mesh:
    """A ``Mesh`` over a ``BufferGeometry`` from ``display_arrays``: textured or vertex-coloured
    and unlit (the captured colours, as the GLB says), or plain grey and lit."""
    attributes = {"position": three.BufferAttribute(array=arrays["positions"].reshape(-1, 3), normalized=False)}
    # Reconstructions are open surfaces seen from inside and out.
    if "uv" in arrays:
        # 16-bit texture coordinates, read as 0..1 by the GPU (normalized): half the bytes a saved
        # notebook carries, 1/65535 of the atlas (a fiftieth of a texel) of precision.
        uv16 = np.rint(np.clip(arrays["uv"].reshape(-1, 2), 0.0, 1.0) * 65535.0).astype(np.uint16)
        attributes["uv"] = three.BufferAttribute(array=uv16, normalized=True)
        # r97 has no colour management: the texture's sRGB bytes reach the screen as they are.
        texture = three.ImageTexture(imageUri=_jpeg_data_uri(arrays["texture"]), flipY=True,
                                     minFilter="LinearMipMapLinearFilter", magFilter="LinearFilter")
        material = three.MeshBasicMaterial(map=texture, side="DoubleSide")
    elif "colors" in arrays:
        attributes["color"] = three.BufferAttribute(array=arrays["colors"].reshape(-1, 3), normalized=False)
        material = three.MeshBasicMaterial(vertexColors="VertexColors", color="white", side="DoubleSide")
    else:
        attributes["normal"] = three.BufferAttribute(array=arrays["normals"].reshape(-1, 3), normalized=False)
        material = three.MeshStandardMaterial(color=PLAIN_MESH_COLOR, roughness=0.85, metalness=0.0,
                                              side="DoubleSide")
    index = arrays["index"]
    if len(arrays["positions"]) < 1 << 16:
        index = index.astype(np.uint16)  # half the bytes a saved notebook carries
    geometry = three.BufferGeometry(attributes=attributes, index=three.BufferAttribute(array=index))
    return three.Mesh(geometry=geometry, material=material)


def _jpeg_data_uri(rgb: np.ndarray) -> str:
    import base64

    from ._gltf import jpeg_bytes

    return "data:image/jpeg;base64," + base64.b64encode(jpeg_bytes(rgb, _TEXTURE_QUALITY)).decode("ascii")


def renderer_for(mesh: three.Object3D, points: np.ndarray, *, width: int = 640, height: int = 420,
                 dark: bool = False, start: dict | None = None) -> three.Renderer:
    """A ``Renderer`` with orbit controls, a light that follows the camera, and the camera
    framing ``points`` (the displayed positions) from the viewers' default direction.
    ``mesh`` is what it shows first: a result's mesh, or a live preview; ``start``: where the
    result was filmed from (``display_arrays``' ``filmed_from``), the camera's first place."""
    key_light = three.DirectionalLight(
        color="white", intensity=0.65, position=[1.0, 1.5, 1.0],
        # Given here rather than left to the browser: pythreejs' front end creates a missing
        # target or shadow itself and sends its id back, which the kernel refuses with a
        # TraitError on every render (pythreejs #388, #406). Shadows stay off; these are inert.
        target=three.Object3D(),
        shadow=three.DirectionalLightShadow(camera=three.OrthographicCamera(-1, 1, 1, -1, 0.5, 500)),
    )
    camera = three.PerspectiveCamera(fov=_FOV_DEGREES, aspect=width / height, children=[key_light])
    scene = three.Scene(
        children=[mesh, camera, three.AmbientLight(color="#ffffff", intensity=0.55)],
        background=background_for(dark),
    )
    controls = three.OrbitControls(controlling=camera)
    _frame(camera, controls, points, start)
    return three.Renderer(camera=camera, scene=scene, controls=[controls], width=width, height=height,
                          antialias=True)


def show_in(renderer: three.Renderer, mesh: three.Mesh, points: np.ndarray, start: dict | None = None) -> None:
    """Put ``mesh`` in place of the renderer's mesh and frame it (from ``start`` when given).

    Reusing one renderer (its camera, controls and canvas) for each new result keeps every
    widget the browser may still be talking to open: a renderer that is dropped is closed,
    and a camera update already on its way then lands on a closed comm ("No such comm").
    """
    scene = renderer.scene
    # The result replaces the last one and the live preview that came before it.
    scene.children = tuple(child for child in scene.children
                           if not isinstance(child, three.Mesh) and child.name != _PREVIEW_NAME) + (mesh,)
    for picker in renderer.controls:
        if isinstance(picker, three.Picker):
            picker.controlling = mesh  # picks land on the mesh shown, not on the one replaced
    _frame(renderer.camera, renderer.controls[0], points, start)


def add_measuring(renderer: three.Renderer) -> tuple[three.Picker, three.Group]:
    """A ``Picker`` on the renderer's mesh and, in its scene, the (hidden) marks of a measurement.

    The picker answers a double-click, not a click: a drag that turns the view ends in a
    click too, and would drop a point each time. It controls the mesh alone, so the marks
    themselves are never picked.
    """
    [mesh] = [child for child in renderer.scene.children if isinstance(child, three.Mesh)]
    picker = three.Picker(controlling=mesh, event="dblclick")
    renderer.controls = tuple(renderer.controls) + (picker,)
    over = {"color": _MARK_COLOR, "depthTest": False}  # seen through the surface, as on /view
    # One unit sphere scaled per result, and a line whose two points move: every pick moves
    # existing objects instead of opening new widgets in the browser.
    sphere = three.SphereBufferGeometry(radius=1.0, widthSegments=16, heightSegments=12)
    dots = [three.Mesh(geometry=sphere, material=three.MeshBasicMaterial(**over), visible=False, renderOrder=10)
            for _ in range(2)]
    segment = three.BufferGeometry(attributes={"position": three.BufferAttribute(
        array=np.zeros((2, 3), dtype=np.float32), normalized=False)})
    # Not culled: three.js keeps the line's first bounding sphere, which later points leave.
    line = three.Line(geometry=segment, material=three.LineBasicMaterial(**over), visible=False, renderOrder=10,
                      frustumCulled=False)
    marks = three.Group(children=[*dots, line], name=_MARK_NAME)
    renderer.scene.children = tuple(renderer.scene.children) + (marks,)
    return picker, marks


def show_marks(marks: three.Group, points: list[np.ndarray], radius: float) -> None:
    """Draw up to two picked points as dots of ``radius``, joined by a line when there are two."""
    *dots, line = marks.children
    for index, dot in enumerate(dots):
        shown = index < len(points)
        with dot.hold_sync():
            if shown:
                dot.position = tuple(float(v) for v in points[index])
                dot.scale = (radius, radius, radius)
            dot.visible = shown
    if len(points) == 2:
        line.geometry.attributes["position"].array = np.asarray(points, dtype=np.float32).reshape(2, 3)
    line.visible = len(points) == 2


def preview_object(points: np.ndarray, colors: np.ndarray, world_from_camera: np.ndarray) -> three.Group:
    """The model so far: coloured points, and each placed camera as a small frustum (OpenCV
    axes: x right, y down, z forward) on a line along the path."""
    positions = np.ascontiguousarray(points, dtype=np.float32).reshape(-1, 3)
    rgb = np.ascontiguousarray(colors, dtype=np.float32).reshape(-1, 3) / np.float32(255.0)
    span = float(np.linalg.norm(np.ptp(positions, axis=0))) if len(positions) else 1.0
    cloud = three.Points(
        geometry=three.BufferGeometry(attributes={
            "position": three.BufferAttribute(array=positions, normalized=False),
            "color": three.BufferAttribute(array=rgb, normalized=False)}),
        material=three.PointsMaterial(size=span / 200 or 0.01, vertexColors="VertexColors"))
    children: list[three.Object3D] = [cloud]
    segments = _frusta_segments(np.asarray(world_from_camera, dtype=np.float64).reshape(-1, 4, 4), 0.03 * span)
    if len(segments):
        children.append(three.LineSegments(
            geometry=three.BufferGeometry(attributes={"position": three.BufferAttribute(array=segments,
                                                                                        normalized=False)}),
            material=three.LineBasicMaterial(color=_CAMERA_COLOR)))
    return three.Group(children=children, name=_PREVIEW_NAME)


def _frusta_segments(world_from_camera: np.ndarray, size: float) -> np.ndarray:
    """Line segments (pairs of points, float32) of a pyramid per camera and the path between them."""
    corners_cam = np.array([[-0.6, -0.45, 1.0], [0.6, -0.45, 1.0], [0.6, 0.45, 1.0], [-0.6, 0.45, 1.0]]) * size
    segments = []
    for pose in world_from_camera:
        centre, corners = pose[:3, 3], corners_cam @ pose[:3, :3].T + pose[:3, 3]
        for k in range(4):
            segments += [centre, corners[k], corners[k], corners[(k + 1) % 4]]
    centres = world_from_camera[:, :3, 3]
    for a, b in zip(centres[:-1], centres[1:]):
        segments += [a, b]
    return np.asarray(segments, dtype=np.float32).reshape(-1, 3)


def show_preview_in(renderer: three.Renderer, preview: three.Group, points: np.ndarray, *, frame: bool) -> None:
    """Put ``preview`` in place of the last one (``frame``: point the camera at ``points``).

    The earlier preview's widgets are left open, not closed: the browser may still be drawing
    them, and a message to a closed comm is an error in the kernel ("No such comm").
    """
    scene = renderer.scene
    scene.children = tuple(child for child in scene.children if child.name != _PREVIEW_NAME) + (preview,)
    if frame and len(points):
        _frame(renderer.camera, renderer.controls[0], np.asarray(points, dtype=np.float32))


def _frame(camera: three.PerspectiveCamera, controls: three.OrbitControls, points: np.ndarray,
           start: dict | None = None) -> None:
    """Point the camera so ``points`` fill its view, from the viewers' default direction, or
    put it where the video was filmed from (``start``), orbiting what it looked at."""
    target, distance = framed_view(points, fov_degrees=_FOV_DEGREES, aspect=camera.aspect)
    if start is not None:
        from ._framing import filmed_view

        position, target, up, fov = filmed_view(start, points)
        extent = float(np.linalg.norm(np.ptp(points, axis=0))) if len(points) else 1.0
        with camera.hold_sync():
            camera.fov = fov
            camera.up = tuple(up.tolist())
            camera.position = tuple(position.tolist())
            camera.near, camera.far = extent / 5000.0, extent * 20.0
        controls.target = tuple(target.tolist())
        camera.lookAt(target.tolist())
        return
    _right, _up, back = camera_basis(DEFAULT_DIRECTION)
    with camera.hold_sync():
        camera.fov = _FOV_DEGREES
        camera.up = (0.0, 1.0, 0.0)
        camera.position = tuple((target + back * distance).tolist())
        camera.near, camera.far = distance / 1000.0, distance * 20.0
    controls.target = tuple(target.tolist())
    camera.lookAt(target.tolist())


def background_for(dark: bool) -> str:
    """The view's background in the page's theme: the ``/view`` viewer's greys (stage.js)."""
    return DARK_BACKGROUND if dark else LIGHT_BACKGROUND


def resize(renderer: three.Renderer, width: int, height: int) -> None:
    """Draw at ``width`` x ``height`` pixels; the camera's aspect follows."""
    with renderer.hold_sync():
        renderer.width, renderer.height = int(width), int(height)
    renderer.camera.aspect = width / height


def set_dark(renderer: three.Renderer, dark: bool) -> None:
    renderer.scene.background = background_for(dark)
