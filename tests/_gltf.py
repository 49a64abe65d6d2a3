"""Reading a GLB's parts in tests: its JSON, its binary chunk, its images' bytes, and the
Khronos glTF validator (npm's ``gltf-validator``, installed with the front end's packages)."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def glb_parts(data: bytes) -> tuple[dict, bytes]:
    """(JSON, BIN chunk) of GLB bytes."""
    magic, version, total = struct.unpack_from("<4sII", data, 0)
    assert magic == b"glTF" and version == 2 and total == len(data)
    json_length, kind = struct.unpack_from("<I4s", data, 12)
    assert kind == b"JSON"
    tree = json.loads(data[20:20 + json_length])
    at = 20 + json_length
    binary = b""
    if at < len(data):
        bin_length, kind = struct.unpack_from("<I4s", data, at)
        assert kind == b"BIN\0"
        binary = data[at + 8:at + 8 + bin_length]
    return tree, binary


def glb_images(data: bytes) -> list[bytes]:
    """The bytes of every image stored in the GLB's buffer, in order."""
    tree, binary = glb_parts(data)
    out = []
    for image in tree.get("images", []):
        view = tree["bufferViews"][image["bufferView"]]
        out.append(binary[view.get("byteOffset", 0):view.get("byteOffset", 0) + view["byteLength"]])
    return out


def glb_accessor(data: bytes, index: int):
    """Accessor ``index`` of a GLB as the numpy array it stores (float32 or uint32, tightly packed)."""
    import numpy as np

    tree, binary = glb_parts(data)
    accessor = tree["accessors"][index]
    view = tree["bufferViews"][accessor["bufferView"]]
    dtype = {5126: "<f4", 5125: "<u4", 5123: "<u2"}[accessor["componentType"]]
    width = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}[accessor["type"]]
    start = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
    flat = np.frombuffer(binary, dtype=dtype, count=accessor["count"] * width, offset=start)
    return flat.reshape(-1, width) if width > 1 else flat


def validate_gltf(path: Path) -> dict:
    """The Khronos validator's report of a GLB (``issues.numErrors`` and friends)."""
    script = ("const v=require('gltf-validator');const fs=require('fs');"
              "v.validateBytes(new Uint8Array(fs.readFileSync(process.argv[1])))"
              ".then(r=>console.log(JSON.stringify(r))).catch(e=>{console.error(e);process.exit(1)});")
    done = subprocess.run(["node", "-e", script, str(path)], cwd=ROOT / "js", capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(done.stdout)
