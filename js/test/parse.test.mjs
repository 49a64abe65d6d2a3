// The viewer's parsers, on small files written here.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Box3, Vector3 } from 'three';

import { meshStats, normaliseFormat, parseMesh } from '../src/viewer/parse.js';
import { startView } from '../src/viewer/stage.js';

const encode = (text) => new TextEncoder().encode(text).buffer;

test('formats are recognised from a name, a MIME type or a URL, and anything else is refused', () => {
  assert.equal(normaliseFormat('GLB'), 'glb');
  assert.equal(normaliseFormat('.ply'), 'ply');
  assert.equal(normaliseFormat('model/stl'), 'stl');
  assert.equal(normaliseFormat('', 'http://x/api/files/abc.glb?download=1'), 'glb');
  assert.throws(() => normaliseFormat('obj'), /Unsupported mesh format "obj"\. Expected one of: glb, ply, stl\./);
});

test('a PLY with faces is a mesh; without faces, a point cloud', async () => {
  const header = (faces) => `ply\nformat ascii 1.0\nelement vertex 4\nproperty float x\nproperty float y\nproperty float z\n`
    + (faces ? 'element face 2\nproperty list uchar int vertex_indices\n' : '') + 'end_header\n';
  const vertices = '0 0 0\n1 0 0\n1 1 0\n0 1 0\n';
  const mesh = await parseMesh(encode(header(true) + vertices + '3 0 1 2\n3 0 2 3\n'), 'ply');
  assert.deepEqual(meshStats(mesh), { vertices: 4, triangles: 2, points: 0, area: 1, units: 'unknown' });
  const cloud = await parseMesh(encode(header(false) + vertices), 'ply');
  assert.deepEqual(meshStats(cloud), { vertices: 0, triangles: 0, points: 4, area: 0, units: 'unknown' });
});

test('an ASCII STL is read; empty or foreign bytes say what is wrong', async () => {
  const stl = 'solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 1 0\nendloop\nendfacet\nendsolid t\n';
  assert.equal(meshStats(await parseMesh(encode(stl), 'stl')).triangles, 1);
  await assert.rejects(parseMesh(new ArrayBuffer(0), 'glb'), /The mesh file is empty\./);
  await assert.rejects(parseMesh(encode('hello, not a ply'), 'ply'), /This is not a PLY file/);
});

/** A GLB of one unit square at z = 0 and, when `camera` is given, a camera node (glTF axes). */
function squareGLB(camera) {
  const positions = Float32Array.from([0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0]);
  const indices = Uint32Array.from([0, 1, 2, 0, 2, 3]);
  const bin = new Uint8Array(positions.byteLength + indices.byteLength);
  bin.set(new Uint8Array(positions.buffer), 0);
  bin.set(new Uint8Array(indices.buffer), positions.byteLength);
  const tree = {
    asset: { version: '2.0' },
    extensionsUsed: ['KHR_materials_unlit'],
    materials: [{ pbrMetallicRoughness: { metallicFactor: 0, roughnessFactor: 1 }, extensions: { KHR_materials_unlit: {} } }],
    meshes: [{ primitives: [{ attributes: { POSITION: 0 }, indices: 1, material: 0 }] }],
    nodes: [{ mesh: 0, name: 'result' }],
    scenes: [{ nodes: [0] }],
    scene: 0,
    accessors: [
      { bufferView: 0, componentType: 5126, count: 4, type: 'VEC3', min: [0, 0, 0], max: [1, 1, 0] },
      { bufferView: 1, componentType: 5125, count: 6, type: 'SCALAR' },
    ],
    bufferViews: [
      { buffer: 0, byteOffset: 0, byteLength: positions.byteLength },
      { buffer: 0, byteOffset: positions.byteLength, byteLength: indices.byteLength },
    ],
    buffers: [{ byteLength: bin.byteLength }],
  };
  if (camera) {
    tree.cameras = [{ type: 'perspective', perspective: { yfov: camera.yfov, aspectRatio: 1.5, znear: 0.01 } }];
    tree.nodes.push({ camera: 0, name: 'filmed_from', matrix: camera.matrix, ...(camera.extras ? { extras: camera.extras } : {}) });
    tree.scenes[0].nodes.push(1);
  }
  let json = new TextEncoder().encode(JSON.stringify(tree));
  const padded = new Uint8Array(Math.ceil(json.length / 4) * 4).fill(0x20);
  padded.set(json);
  json = padded;
  const total = 12 + 8 + json.length + 8 + bin.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x46546c67, true);
  view.setUint32(4, 2, true);
  view.setUint32(8, total, true);
  view.setUint32(12, json.length, true);
  view.setUint32(16, 0x4e4f534a, true);
  out.set(json, 20);
  view.setUint32(20 + json.length, bin.length, true);
  view.setUint32(24 + json.length, 0x004e4942, true);
  out.set(bin, 28 + json.length);
  return out.buffer;
}

const close = (actual, expected, what) => {
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) < 1e-6, `${what}: ${actual} vs ${expected}`);
};

test('a GLB camera node gives the start view: its pose, its field of view, the target at target_distance', async () => {
  // Column-major: a camera at (0.5, 0.5, 2) turned 90 degrees about z (its up is world -x), looking down -z.
  const matrix = [0, 1, 0, 0, -1, 0, 0, 0, 0, 0, 1, 0, 0.5, 0.5, 2, 1];
  const yfov = 0.5;
  const group = await parseMesh(squareGLB({ matrix, yfov, extras: { frame_index: 3, keyframe: 1, target_distance: 1.5 } }), 'glb');
  const start = group.userData.filmedFrom;
  close(start.position.toArray(), [0.5, 0.5, 2], 'position');
  assert.ok(Math.abs(start.fovDegrees - (yfov * 180) / Math.PI) < 1e-9);
  assert.equal(start.targetDistance, 1.5);
  // The unlit material is a MeshBasicMaterial, left as the file says.
  let mesh = null;
  group.traverse((obj) => { if (obj.isMesh) mesh = obj; });
  assert.ok(mesh.material.isMeshBasicMaterial);
  assert.equal(meshStats(group).triangles, 2); // the camera node adds nothing to the model

  const view = startView(start, new Box3().setFromObject(group));
  close(view.position.toArray(), [0.5, 0.5, 2], 'position');
  close(view.target.toArray(), [0.5, 0.5, 0.5], 'target');
  close(view.up.toArray(), [-1, 0, 0], 'up');
  close(new Vector3(0, 0, -1).applyQuaternion(view.quaternion).toArray(), [0, 0, -1], 'forward');
  assert.ok(Math.abs(view.fov - (yfov * 180) / Math.PI) < 1e-9);
  assert.ok(view.near > 0 && view.near < 0.01 && view.far > 3, `${view.near} ${view.far}`);
  assert.ok(view.minDistance <= 1.5 && view.maxDistance >= 1.5);
});

test('without target_distance the start view orbits where its line passes the box centre; no camera, no start', async () => {
  const matrix = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0.2, 0.5, 3, 1];
  const group = await parseMesh(squareGLB({ matrix, yfov: 0.8 }), 'glb');
  assert.equal(group.userData.filmedFrom.targetDistance, null);
  const view = startView(group.userData.filmedFrom, new Box3().setFromObject(group));
  close(view.target.toArray(), [0.2, 0.5, 0], 'target');
  assert.equal((await parseMesh(squareGLB(null), 'glb')).userData.filmedFrom, undefined);
});
