"""``export_html``: one self-contained page of a result that says where it came from.

That the page draws the mesh from disk with the network refused is a browser test
(tests/browser/test_export_offline.py); here, what it lists and what it refuses.
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import datetime

import pytest

from openstrate_nb import export_html
from openstrate_nb.cache import file_sha256
from openstrate_nb.widget import ReconstructWidget

ROW = re.compile(r"<dt>(.*?)</dt><dd>(.*?)</dd>", re.S)


def _rows(page: str) -> dict[str, str]:
    return {html.unescape(k): html.unescape(v) for k, v in ROW.findall(page)}


def test_page_from_a_widget_lists_video_server_job_and_mesh(finished_widget, server, video, tmp_path):
    page = export_html(finished_widget, tmp_path / "out" / "walk.html")
    text = page.read_text("utf-8")
    rows = _rows(text)

    assert rows["source video"] == video.name
    assert rows["video sha256"] == file_sha256(video)
    assert rows["server"] == server.base_url
    assert rows["job"] == finished_widget.job_id
    assert datetime.fromisoformat(rows["reconstructed"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(rows["exported"].replace("Z", "+00:00"))
    assert rows["faces"] == f"{len(finished_widget.mesh.faces):,}"
    assert rows["vertices"] == f"{len(finished_widget.mesh.vertices):,}"
    assert rows["watertight"].startswith("yes" if finished_widget.mesh.is_watertight else "no")
    assert rows["mesh sha256"] == hashlib.sha256(finished_widget.mesh_path.read_bytes()).hexdigest()
    assert f"<title>{html.escape(video.name)}" in text
    # Nothing to fetch: no external script, stylesheet or image.
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", text)


def test_page_from_a_mesh_lists_its_summary_and_the_given_provenance(tmp_path):
    import trimesh

    box = trimesh.creation.box(extents=[1.0, 2.0, 3.0])
    page = export_html(box, tmp_path / "box.html", provenance={"source video": "walk.mp4", "server": "https://openstrate.com"})
    rows = _rows(page.read_text("utf-8"))
    assert rows["source video"] == "walk.mp4" and rows["server"] == "https://openstrate.com"
    assert rows["faces"] == "12" and rows["vertices"] == "8"
    assert rows["extents (x × y × z)"].startswith("1 × 2 × 3")
    assert rows["watertight"] == "yes" and float(rows["volume"]) == pytest.approx(6.0)
    with pytest.raises(ValueError, match="should end in .html"):
        export_html(box, tmp_path / "box.txt")


def test_a_widget_without_a_result_is_refused_with_a_reason(tmp_path):
    widget = ReconstructWidget()
    try:
        with pytest.raises(RuntimeError, match="no mesh yet"):
            export_html(widget, tmp_path / "nothing.html")
    finally:
        widget.close()
    assert not (tmp_path / "nothing.html").exists()


def test_a_textured_mesh_goes_into_the_page_unlit_with_its_texture_and_its_camera(tmp_path):
    import base64
    import json

    import numpy as np
    import trimesh
    from PIL import Image

    from _gltf import glb_parts, validate_gltf
    from openstrate_nb import load_glb

    image = Image.fromarray(np.tile(np.arange(0, 256, 4, dtype=np.uint8)[None, :, None], (64, 1, 3)))
    quad = trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], [[0, 1, 2], [0, 2, 3]], process=False,
                           visual=trimesh.visual.TextureVisuals(uv=[[0, 0], [1, 0], [1, 1], [0, 1]],
                                                                image=image))
    pose = np.diag([1.0, -1.0, -1.0, 1.0])
    pose[:3, 3] = [0.5, 0.5, 2.0]
    quad.metadata["filmed_from"] = {"world_from_camera": pose.tolist(), "yfov": 0.6, "aspect": 1.5,
                                    "target_distance": 2.0}
    page = export_html(quad, tmp_path / "quad.html").read_text("utf-8")
    data = base64.b64decode(json.loads(re.search(r'"data": ("[A-Za-z0-9+/=]+")', page).group(1)))
    (tmp_path / "quad.glb").write_bytes(data)
    report = validate_gltf(tmp_path / "quad.glb")
    assert report["issues"]["numErrors"] == 0, report["issues"]
    tree, _ = glb_parts(data)
    assert "KHR_materials_unlit" in tree["materials"][0]["extensions"]
    assert tree["images"][0]["mimeType"] == "image/jpeg" and "COLOR_0" not in tree["meshes"][0]["primitives"][0]["attributes"]
    back = load_glb(data)
    assert back.visual.kind == "texture"
    np.testing.assert_allclose(back.metadata["filmed_from"]["world_from_camera"], pose, atol=1e-6)
    assert back.metadata["filmed_from"]["target_distance"] == pytest.approx(2.0)
    # The same texture on the same corners: the ramp dark at x = 0, light at x = 1.
    np.testing.assert_allclose(back.visual.uv, quad.visual.uv, atol=1e-6)
    texel = np.asarray(back.visual.material.baseColorTexture.convert("L"), dtype=float)
    assert texel[:, :8].mean() < 40 and texel[:, -8:].mean() > 200
