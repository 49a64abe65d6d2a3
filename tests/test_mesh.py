"""GLB → trimesh → pythreejs, and the numbers of mesh_summary."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from openstrate_nb.mesh import (
    decimate_to_face_budget,
    display_arrays,
    load_glb,
    mesh_summary,
    show_mesh,
    to_pythreejs,
)


def _coloured_sphere(subdivisions: int = 4) -> trimesh.Trimesh:
    sphere = trimesh.creation.icosphere(subdivisions=subdivisions)
    sphere.visual.vertex_colors = ((sphere.vertices + 1) * 120).astype(np.uint8)
    return sphere


def test_load_glb_reads_bytes_and_paths(tmp_path):
    data = _coloured_sphere(2).export(file_type="glb")
    path = tmp_path / "sphere.glb"
    path.write_bytes(data)
    from_bytes, from_path = load_glb(data), load_glb(path)
    assert isinstance(from_bytes, trimesh.Trimesh)
    assert len(from_bytes.faces) == len(from_path.faces) == 320
    assert from_bytes.visual.kind == "vertex"


def test_a_scene_is_placed_by_its_transforms_and_concatenated():
    scene = trimesh.Scene()
    scene.add_geometry(trimesh.creation.box((1, 1, 1)), transform=trimesh.transformations.translation_matrix([10, 0, 0]))
    scene.add_geometry(trimesh.creation.box((1, 1, 1)), transform=trimesh.transformations.translation_matrix([-10, 0, 0]))
    mesh = load_glb(scene.export(file_type="glb"))
    assert len(mesh.faces) == 24
    np.testing.assert_allclose(mesh.bounds[:, 0], [-10.5, 10.5])


def test_a_glb_without_triangles_is_refused():
    points = trimesh.PointCloud(np.random.default_rng(0).random((50, 3)))
    with pytest.raises(ValueError, match="no triangle mesh"):
        load_glb(trimesh.Scene([points]).export(file_type="glb"))


def test_mesh_summary_of_a_closed_box():
    summary = mesh_summary(trimesh.creation.box((1.0, 2.0, 3.0)))
    assert summary["vertices"] == 8 and summary["faces"] == 12
    np.testing.assert_allclose(summary["extents"], [1, 2, 3])
    np.testing.assert_allclose(summary["bounds"], [[-0.5, -1, -1.5], [0.5, 1, 1.5]])
    assert summary["surface_area"] == pytest.approx(22.0)
    assert summary["volume"] == pytest.approx(6.0)
    assert summary["watertight"] is True


def test_an_open_surface_has_no_volume():
    box = trimesh.creation.box()
    open_box = trimesh.Trimesh(box.vertices, box.faces[:-2])
    summary = mesh_summary(open_box)
    assert summary["watertight"] is False and summary["volume"] is None


def test_decimation_keeps_under_budget_keeps_colours_and_leaves_the_original_alone():
    sphere = _coloured_sphere(5)
    faces_before = len(sphere.faces)
    small = decimate_to_face_budget(sphere, 2000)
    assert 0 < len(small.faces) <= 2000
    assert small.visual.kind == "vertex"
    assert len(sphere.faces) == faces_before
    np.testing.assert_allclose(small.bounds, sphere.bounds, atol=0.1)
    assert decimate_to_face_budget(sphere, faces_before) is sphere


def test_display_arrays_are_the_dtypes_pythreejs_sends_as_binary():
    arrays = display_arrays(_coloured_sphere(2))
    assert arrays["positions"].dtype == np.float32 and arrays["positions"].shape == (162, 3)
    assert arrays["normals"].dtype == np.float32
    assert arrays["index"].dtype == np.uint32 and arrays["index"].shape == (320 * 3,)
    assert arrays["colors"].dtype == np.float32 and arrays["colors"].max() <= 1.0
    assert "colors" not in display_arrays(trimesh.creation.box())


def test_to_pythreejs_and_show_mesh():
    import pythreejs

    sphere = _coloured_sphere(3)
    obj = to_pythreejs(sphere, max_faces=100)
    assert isinstance(obj, pythreejs.Mesh)
    assert len(obj.geometry.index.array) // 3 <= 100
    assert obj.material.vertexColors == "VertexColors"

    moved = sphere.copy()
    moved.apply_translation([5, 0, 0])
    renderer = show_mesh(moved)
    assert isinstance(renderer, pythreejs.Renderer)
    [controls] = renderer.controls
    assert isinstance(controls, pythreejs.OrbitControls)
    np.testing.assert_allclose(controls.target, [5, 0, 0], atol=0.02)  # a sphere looks centred from anywhere
    distance = np.linalg.norm(np.array(renderer.camera.position) - controls.target)
    assert np.linalg.norm(moved.extents) / 2 < distance < np.linalg.norm(moved.extents) * 2
    assert any(isinstance(c, pythreejs.AmbientLight) for c in renderer.scene.children)
    assert any(isinstance(c, pythreejs.DirectionalLight) for c in renderer.camera.children)


def test_a_textured_mesh_split_along_its_seams_is_measured_as_one_closed_surface():
    from PIL import Image

    from openstrate_nb.mesh import merged_surface

    box = trimesh.creation.box((1.0, 2.0, 3.0))
    # Every face its own chart, as a photo texture's seams leave it: 36 vertices, none shared.
    corners = box.vertices[box.faces].reshape(-1, 3)
    uv = np.tile([[0.1, 0.1], [0.9, 0.1], [0.5, 0.9]], (len(box.faces), 1))
    textured = trimesh.Trimesh(corners, np.arange(len(corners)).reshape(-1, 3), process=False,
                               visual=trimesh.visual.TextureVisuals(uv=uv, image=Image.new("RGB", (8, 8))))
    assert not textured.is_watertight and len(textured.split(only_watertight=False)) == 12
    summary = mesh_summary(textured)
    assert summary["watertight"] and summary["vertices"] == 8 and summary["faces"] == 12
    assert summary["volume"] == pytest.approx(6.0) and summary["closed_volume"] == pytest.approx(6.0)
    whole = merged_surface(textured)
    assert len(whole.split(only_watertight=False)) == 1 and textured.visual.kind == "texture"  # the original kept
