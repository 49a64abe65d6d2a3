// The viewer's parsers, on small files written here.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { meshStats, normaliseFormat, parseMesh } from '../src/viewer/parse.js';

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
