"""The result's GLB, written byte by byte: glTF 2.0 with exactly what viewers need.

Written here rather than through trimesh's exporter because the result needs things it
does not do: the texture's JPEG bytes stored as they are (trimesh re-encodes every image),
``KHR_materials_unlit`` (a scan's colours are what the camera saw; a viewer must not light
them again), a camera node at a keyframe's pose, and vertex colours in linear light as glTF
requires (``COLOR_0`` is linear; sRGB bytes there come out brightened twice).

The same arrays give the same bytes: no dates, no dictionaries of unspecified order.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

import numpy as np

__all__ = ["GltfCamera", "srgb_to_linear", "linear_to_srgb", "jpeg_bytes", "glb_bytes"]

_FLOAT, _UINT = 5126, 5125
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_LINEAR, _LINEAR_MIPMAP_LINEAR, _CLAMP = 9729, 9987, 33071
UNLIT = "KHR_materials_unlit"


@dataclass
class GltfCamera:
    """Where a viewer starts: a keyframe's pose (OpenCV axes: x right, y down, z forward)
    and its vertical field of view; ``extras`` say which keyframe and how far to orbit."""

    world_from_camera: np.ndarray  # 4x4
    yfov: float  # radians
    aspect: float  # width / height
    znear: float
    extras: dict


def srgb_to_linear(rgb_uint8: np.ndarray) -> np.ndarray:
    """sRGB bytes (0..255) as linear-light floats (0..1), the transfer function of IEC 61966-2-1."""
    c = np.asarray(rgb_uint8, dtype=np.float32) / np.float32(255.0)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear-light values (0..1) in sRGB's transfer function (0..1)."""
    c = np.clip(np.asarray(linear, dtype=np.float64), 0.0, 1.0)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


def jpeg_bytes(rgb, quality: int) -> bytes:
    """An sRGB picture (an (H, W, 3) uint8 array or a PIL image) as a baseline JPEG, the
    texture format every glTF viewer reads (libjpeg, 4:2:0: the same bytes every run)."""
    import io

    from PIL import Image

    image = rgb if isinstance(rgb, Image.Image) else Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=int(quality))
    return buffer.getvalue()


def _gltf_camera_matrix(world_from_camera: np.ndarray) -> list[float]:
    """Column-major node matrix: glTF's camera looks down -z with +y up, OpenCV's down +z with -y up."""
    m = np.asarray(world_from_camera, dtype=np.float64).copy()
    m[:3, 1] *= -1.0
    m[:3, 2] *= -1.0
    return [round(float(x), 9) for x in m.T.ravel()]


class _Buffer:
    """The BIN chunk and its bufferViews, each 4-byte aligned."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.views: list[dict] = []
        self.length = 0

    def add(self, data: bytes, target: int | None = None) -> int:
        view = {"buffer": 0, "byteOffset": self.length, "byteLength": len(data)}
        if target is not None:
            view["target"] = target
        self.views.append(view)
        pad = (-len(data)) % 4
        self.parts.append(data + b"\0" * pad)
        self.length += len(data) + pad
        return len(self.views) - 1


def glb_bytes(positions: np.ndarray, faces: np.ndarray, *, uv: np.ndarray | None = None,
              texture_jpeg: bytes | None = None, linear_colors: np.ndarray | None = None,
              camera: GltfCamera | None = None, extras: dict | None = None, mesh_extras: dict | None = None) -> bytes:
    """One triangle mesh as GLB: textured (``uv`` in glTF's top-left convention and the
    JPEG's bytes) or vertex-coloured (``linear_colors``, RGB 0..1), unlit either way; with
    ``camera`` as a second node of the scene, ``extras`` as ``asset.extras`` and
    ``mesh_extras`` as the mesh's ``extras``."""
    positions = np.ascontiguousarray(positions, dtype="<f4").reshape(-1, 3)
    indices = np.ascontiguousarray(faces, dtype="<u4").reshape(-1)
    buf = _Buffer()
    accessors: list[dict] = []

    def accessor(array: np.ndarray, kind: str, component: int, target: int, bounds: bool = False) -> int:
        acc = {"bufferView": buf.add(array.tobytes(), target), "componentType": component, "count": len(array),
               "type": kind}
        if bounds:
            acc["min"] = [float(x) for x in array.min(axis=0)]
            acc["max"] = [float(x) for x in array.max(axis=0)]
        accessors.append(acc)
        return len(accessors) - 1

    attributes = {"POSITION": accessor(positions, "VEC3", _FLOAT, _ARRAY_BUFFER, bounds=True)}
    material: dict = {"pbrMetallicRoughness": {"metallicFactor": 0.0, "roughnessFactor": 1.0},
                      "doubleSided": True,  # scans are open surfaces seen from both sides
                      "extensions": {UNLIT: {}}}
    tree: dict = {"asset": {"version": "2.0", "generator": "openstrate_nb"}}
    if texture_jpeg is not None:
        if uv is None:
            raise ValueError("A textured mesh needs texture coordinates.")
        attributes["TEXCOORD_0"] = accessor(np.ascontiguousarray(uv, dtype="<f4").reshape(-1, 2), "VEC2", _FLOAT,
                                            _ARRAY_BUFFER)
        tree["images"] = [{"bufferView": None, "mimeType": "image/jpeg"}]
        tree["samplers"] = [{"magFilter": _LINEAR, "minFilter": _LINEAR_MIPMAP_LINEAR, "wrapS": _CLAMP,
                             "wrapT": _CLAMP}]
        tree["textures"] = [{"sampler": 0, "source": 0}]
        material["pbrMetallicRoughness"]["baseColorTexture"] = {"index": 0}
    elif linear_colors is not None:
        attributes["COLOR_0"] = accessor(np.ascontiguousarray(linear_colors, dtype="<f4").reshape(-1, 3), "VEC3",
                                         _FLOAT, _ARRAY_BUFFER)
    index_accessor = accessor(indices, "SCALAR", _UINT, _ELEMENT_ARRAY_BUFFER)
    if texture_jpeg is not None:
        tree["images"][0]["bufferView"] = buf.add(texture_jpeg)
    tree["extensionsUsed"] = [UNLIT]
    tree["materials"] = [material]
    tree["meshes"] = [{"primitives": [{"attributes": attributes, "indices": index_accessor, "material": 0}]}]
    if mesh_extras:
        tree["meshes"][0]["extras"] = mesh_extras
    nodes: list[dict] = [{"mesh": 0, "name": "result"}]
    if camera is not None:
        tree["cameras"] = [{"type": "perspective", "perspective": {
            "yfov": round(float(camera.yfov), 9), "aspectRatio": round(float(camera.aspect), 9),
            "znear": round(float(camera.znear), 9)}}]
        nodes.append({"camera": 0, "name": "filmed_from", "matrix": _gltf_camera_matrix(camera.world_from_camera),
                      "extras": camera.extras})
    tree["nodes"] = nodes
    tree["scenes"] = [{"nodes": list(range(len(nodes)))}]
    tree["scene"] = 0
    tree["accessors"] = accessors
    tree["bufferViews"] = buf.views
    tree["buffers"] = [{"byteLength": buf.length}]
    if extras:
        tree["asset"]["extras"] = extras
    text = json.dumps(tree, separators=(",", ":"), sort_keys=False).encode("utf-8")
    text += b" " * ((-len(text)) % 4)
    binary = b"".join(buf.parts)
    total = 12 + 8 + len(text) + 8 + len(binary)
    return b"".join([struct.pack("<4sII", b"glTF", 2, total), struct.pack("<I4s", len(text), b"JSON"), text,
                     struct.pack("<I4s", len(binary), b"BIN\0"), binary])
