// Turning file bytes into a three.js object, one parser per format.

import {
  BufferGeometry,
  DoubleSide,
  Group,
  Mesh,
  MeshStandardMaterial,
  Points,
  PointsMaterial,
  Quaternion,
  Vector3,
} from 'three';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { PLYLoader } from 'three/examples/jsm/loaders/PLYLoader.js';
import { STLLoader } from 'three/examples/jsm/loaders/STLLoader.js';
import { surfaceArea, unitsOf } from './measure.js';

export const FORMATS = ['glb', 'ply', 'stl'];

/** Light grey-blue used when a file carries no colour of its own (PLAIN_MESH_COLOR in _look.py). */
export const NEUTRAL_COLOR = 0xb9bec7;

/**
 * Normalise a user-supplied format ("GLB", ".ply", "model/stl"...).
 * @param {string} format
 * @param {string} [hint] a URL or file name to guess from when format is empty
 */
export function normaliseFormat(format, hint) {
  let f = String(format || '').trim().toLowerCase();
  if (!f && hint) {
    const m = /\.([a-z0-9]+)(?:[?#].*)?$/i.exec(String(hint));
    if (m) f = m[1].toLowerCase();
  }
  f = f.replace(/^.*[./]/, '');
  if (f === 'gltf-binary') f = 'glb';
  if (!FORMATS.includes(f)) {
    throw new Error(
      `Unsupported mesh format "${format || f}". Expected one of: ${FORMATS.join(', ')}.`,
    );
  }
  return f;
}

function neutralMaterial(vertexColors, opacity = 1) {
  return new MeshStandardMaterial({
    color: vertexColors ? 0xffffff : NEUTRAL_COLOR,
    vertexColors,
    roughness: 0.85,
    metalness: 0.0,
    side: DoubleSide,
    transparent: opacity < 1,
    opacity,
  });
}

/** Read the ASCII header of a PLY file and count its elements. */
function plyHeaderCounts(buffer) {
  const head = new Uint8Array(buffer, 0, Math.min(buffer.byteLength, 64 * 1024));
  let text = '';
  for (let i = 0; i < head.length; i++) text += String.fromCharCode(head[i]);
  const end = text.indexOf('end_header');
  if (!text.startsWith('ply') || end === -1) {
    throw new Error('This is not a PLY file (missing "ply" / "end_header" header).');
  }
  const header = text.slice(0, end);
  const count = (name) => {
    const m = new RegExp(`^element\\s+${name}\\s+(\\d+)`, 'm').exec(header);
    return m ? Number(m[1]) : 0;
  };
  return { vertices: count('vertex'), faces: count('face') };
}

function parsePLY(buffer) {
  const { faces } = plyHeaderCounts(buffer);
  const geometry = new PLYLoader().parse(buffer);
  const position = geometry.getAttribute('position');
  if (!position || position.count === 0) throw new Error('The PLY file contains no vertices.');
  const hasColors = Boolean(geometry.getAttribute('color'));

  if (faces === 0) {
    // A point cloud (common output of the dense reconstruction step).
    geometry.computeBoundingBox();
    const size = geometry.boundingBox.getSize(geometry.boundingBox.min.clone()).length();
    const material = new PointsMaterial({
      size: Math.max(size / 80, 1e-6), // about 2-3 px at the fitted distance
      sizeAttenuation: true,
      vertexColors: hasColors,
      color: hasColors ? 0xffffff : NEUTRAL_COLOR,
    });
    const points = new Points(geometry, material);
    points.name = 'points';
    return points;
  }

  if (!geometry.getAttribute('normal')) geometry.computeVertexNormals();
  const mesh = new Mesh(geometry, neutralMaterial(hasColors));
  mesh.name = 'mesh';
  return mesh;
}

function parseSTL(buffer) {
  /** @type {BufferGeometry & {hasColors?: boolean, alpha?: number}} */
  const geometry = new STLLoader().parse(buffer);
  const position = geometry.getAttribute('position');
  if (!position || position.count === 0) throw new Error('The STL file contains no triangles.');
  if (!geometry.getAttribute('normal')) geometry.computeVertexNormals();
  const hasColors = Boolean(geometry.hasColors && geometry.getAttribute('color'));
  const opacity = hasColors && typeof geometry.alpha === 'number' ? geometry.alpha : 1;
  const mesh = new Mesh(geometry, neutralMaterial(hasColors, opacity));
  mesh.name = 'mesh';
  return mesh;
}

/** True when the bytes start with the binary glTF signature "glTF". */
function isBinaryGLTF(buffer) {
  if (buffer.byteLength < 12) return false;
  const b = new Uint8Array(buffer, 0, 4);
  return b[0] === 0x67 && b[1] === 0x6c && b[2] === 0x54 && b[3] === 0x46;
}

/** True when the bytes look like a JSON glTF (first non-blank byte is "{"). */
function looksLikeJSON(buffer) {
  const b = new Uint8Array(buffer, 0, Math.min(buffer.byteLength, 64));
  for (const c of b) {
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0xef || c === 0xbb || c === 0xbf) continue;
    return c === 0x7b;
  }
  return false;
}

async function parseGLB(buffer) {
  if (!isBinaryGLTF(buffer) && !looksLikeJSON(buffer)) {
    throw new Error('This is not a GLB file (it does not start with the "glTF" signature).');
  }
  const loader = new GLTFLoader();
  let gltf;
  try {
    gltf = await loader.parseAsync(buffer, '');
  } catch (err) {
    const msg = (err && err.message) || String(err);
    throw new Error(`Could not read the GLB file: ${msg.replace(/^THREE\.GLTFLoader:\s*/, '')}`);
  }
  const root = gltf.scene || (gltf.scenes && gltf.scenes[0]);
  if (!root) throw new Error('The GLB file contains no scene.');

  root.traverse((obj) => {
    if (!obj.isMesh && !obj.isPoints) return;
    const materials = Array.isArray(obj.material) ? obj.material : [obj.material];
    for (const mat of materials) {
      if (!mat) continue;
      // The glTF default material is fully metallic, which renders almost
      // black without an environment map. Scanned meshes are matte: tone it
      // down unless the file drives metalness with a texture.
      if (mat.isMeshStandardMaterial && !mat.metalnessMap && mat.metalness > 0.5) {
        mat.metalness = 0.1;
      }
      // Photogrammetry meshes often have inconsistent winding.
      if (obj.isMesh && !mat.transparent) mat.side = DoubleSide;
    }
  });

  const group = new Group();
  group.name = 'gltf';
  group.userData.units = unitsOf(gltf.asset && gltf.asset.extras);
  group.add(root);
  const filmedFrom = filmedFromOf(group);
  if (filmedFrom) group.userData.filmedFrom = filmedFrom;
  return group;
}

/**
 * Where a GLB says the view starts: its first perspective camera node (a result's
 * "filmed_from", a keyframe's pose) as `{position, quaternion, fovDegrees, targetDistance}`
 * in world coordinates, or null when it has none. `targetDistance` (the node's
 * `extras.target_distance`, the median depth the keyframe saw) is null when absent.
 * Both three.js' and glTF's cameras look down -z with +y up, so the node's world rotation
 * is the camera's. The camera object stays in the tree: it draws nothing.
 * @param {import('three').Object3D} root
 */
export function filmedFromOf(root) {
  root.updateMatrixWorld(true);
  let found = null;
  root.traverse((obj) => {
    if (!found && obj.isPerspectiveCamera) found = obj;
  });
  if (!found) return null;
  const position = new Vector3();
  const quaternion = new Quaternion();
  found.matrixWorld.decompose(position, quaternion, new Vector3());
  const distance = Number(found.userData.target_distance);
  const fov = Number(found.fov);
  return {
    position,
    quaternion,
    fovDegrees: Number.isFinite(fov) && fov > 0 && fov < 180 ? fov : null,
    targetDistance: Number.isFinite(distance) && distance > 0 ? distance : null,
  };
}

/**
 * Parse `buffer` as `format` into an Object3D.
 * @param {ArrayBuffer} buffer
 * @param {'glb'|'ply'|'stl'} format
 * @returns {Promise<import('three').Object3D>}
 */
export async function parseMesh(buffer, format) {
  if (!buffer || buffer.byteLength === 0) throw new Error('The mesh file is empty.');
  switch (format) {
    case 'glb':
      return parseGLB(buffer);
    case 'ply':
      return parsePLY(buffer);
    case 'stl':
      return parseSTL(buffer);
    default:
      throw new Error(`Unsupported mesh format "${format}".`);
  }
}

/** Count vertices and triangles/points of everything under `root`, and the triangles' area
 * (in the file's units, `units`: 'm' when the file says so). */
export function meshStats(root) {
  let vertices = 0;
  let triangles = 0;
  let points = 0;
  let area = 0;
  root.updateMatrixWorld(true);
  root.traverse((obj) => {
    const geom = obj.geometry;
    if (!geom || !geom.getAttribute) return;
    const pos = geom.getAttribute('position');
    if (!pos) return;
    if (obj.isPoints) {
      points += pos.count;
    } else if (obj.isMesh) {
      vertices += pos.count;
      triangles += geom.index ? geom.index.count / 3 : pos.count / 3;
      const world = geom.clone().applyMatrix4(obj.matrixWorld);
      area += surfaceArea(world.getAttribute('position').array, world.index ? world.index.array : null);
      world.dispose();
    }
  });
  return { vertices, triangles: Math.round(triangles), points, area, units: root.userData.units || 'unknown' };
}
