// Renderer, camera, lights, controls, fit-to-view and the render loop.

import {
  Box3,
  BufferGeometry,
  Color,
  DirectionalLight,
  Group,
  HemisphereLight,
  Line,
  LineBasicMaterial,
  MathUtils,
  Mesh,
  MeshBasicMaterial,
  PerspectiveCamera,
  Raycaster,
  Scene,
  SphereGeometry,
  Vector2,
  Vector3,
  WebGLRenderer,
} from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';

const DEFAULT_DIRECTION = new Vector3(0.6, 0.45, 1).normalize();
const DEFAULT_FOV = 45;
const WORLD_UP = new Vector3(0, 1, 0);
// Fit, re-centre, fit again (as _framing.py): a handful of rounds centres within a few per cent.
const FIT_ATTEMPTS = 5;

/** Pick a background matching the page's theme: <html data-theme>, else the system's. */
export function defaultBackground() {
  const chosen = typeof document !== 'undefined' && document.documentElement.dataset.theme;
  const dark = chosen
    ? chosen === 'dark'
    : typeof window !== 'undefined' &&
      window.matchMedia &&
      window.matchMedia('(prefers-color-scheme: dark)').matches;
  return dark ? '#1d2026' : '#eceef2'; // DARK_BACKGROUND, LIGHT_BACKGROUND in _look.py
}

/** Up to `limit` vertices of every mesh or point cloud under `root`, in world coordinates. */
function samplePoints(root, limit) {
  root.updateMatrixWorld(true);
  const sources = [];
  let total = 0;
  root.traverse((obj) => {
    const position = obj.geometry && obj.geometry.attributes && obj.geometry.attributes.position;
    if (position) {
      sources.push([obj, position]);
      total += position.count;
    }
  });
  const step = Math.max(1, Math.ceil(total / limit));
  const points = [];
  for (const [obj, position] of sources) {
    for (let i = 0; i < position.count; i += step) {
      points.push(new Vector3().fromBufferAttribute(position, i).applyMatrix4(obj.matrixWorld));
    }
  }
  return points;
}

/**
 * The first view of a model that says where it was filmed from (parse.js' `filmedFrom`):
 * the camera exactly there (position, rotation, up, vertical field of view), orbiting the
 * point `targetDistance` ahead of it (else where the view passes the model's box centre),
 * with near/far and the orbit's limits sized to the model's box `box`.
 * @param {{position: Vector3, quaternion: import('three').Quaternion, fovDegrees?: number|null,
 *          targetDistance?: number|null}} start
 * @param {Box3} box the model's bounding box, world coordinates
 */
export function startView(start, box) {
  const position = start.position.clone();
  const quaternion = start.quaternion.clone().normalize();
  const forward = new Vector3(0, 0, -1).applyQuaternion(quaternion);
  const up = new Vector3(0, 1, 0).applyQuaternion(quaternion);
  const empty = !box || box.isEmpty();
  const centre = empty ? position.clone().add(forward) : box.getCenter(new Vector3());
  const size = empty ? new Vector3(1, 1, 1) : box.getSize(new Vector3());
  const diagonal = Math.max(size.length(), 1e-6);
  const extent = Math.max(size.x, size.y, size.z, 1e-6);
  let distance = Number(start.targetDistance);
  if (!(Number.isFinite(distance) && distance > 0)) {
    const along = new Vector3().subVectors(centre, position).dot(forward);
    // The box centre behind the camera: orbit a point as far ahead as the centre is away.
    distance = along > diagonal * 1e-3 ? along : Math.max(position.distanceTo(centre), diagonal / 2);
  }
  const target = position.clone().addScaledVector(forward, distance);
  const minDistance = Math.min(extent / 1000, distance);
  const maxDistance = Math.max(extent * 50, distance);
  const fov = Number(start.fovDegrees);
  return {
    position,
    quaternion,
    up,
    target,
    fov: Number.isFinite(fov) && fov > 0 && fov < 180 ? fov : DEFAULT_FOV,
    near: Math.min(diagonal / 5000, distance / 10),
    // Anywhere the orbit may take the camera, the whole model stays in front of the far plane.
    far: maxDistance + target.distanceTo(centre) + diagonal,
    minDistance,
    maxDistance,
  };
}

function disposeObject(root) {
  root.traverse((obj) => {
    if (obj.geometry) obj.geometry.dispose();
    const mats = Array.isArray(obj.material) ? obj.material : obj.material ? [obj.material] : [];
    for (const mat of mats) {
      for (const key of Object.keys(mat)) {
        const value = mat[key];
        if (value && value.isTexture) value.dispose();
      }
      mat.dispose();
    }
  });
}

/**
 * Create the WebGL stage inside `container` (which must be positioned).
 * Throws a readable Error when WebGL is unavailable.
 */
export function createStage(container, { background } = {}) {
  const transparent = background === 'transparent';
  let renderer;
  try {
    renderer = new WebGLRenderer({
      antialias: true,
      alpha: transparent,
      preserveDrawingBuffer: true,
      powerPreference: 'high-performance',
    });
  } catch (err) {
    throw new Error(
      'WebGL is not available in this browser, so the 3D view cannot be shown' +
        ` (${(err && err.message) || err}).`,
    );
  }
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  const canvas = renderer.domElement;
  canvas.style.display = 'block';
  canvas.style.width = '100%';
  canvas.style.height = '100%';
  canvas.style.outline = 'none';
  canvas.style.touchAction = 'none';
  container.appendChild(canvas);

  const scene = new Scene();
  /** Paint the background again (after the page's theme changed, for the default one). */
  function refreshBackground() {
    if (transparent) {
      renderer.setClearColor(0x000000, 0);
      return;
    }
    const color = new Color();
    try {
      color.setStyle(background || defaultBackground());
    } catch (err) {
      color.setStyle(defaultBackground());
    }
    scene.background = color;
    needsRender = true;
  }

  const camera = new PerspectiveCamera(DEFAULT_FOV, 1, 0.01, 1000);
  camera.position.copy(DEFAULT_DIRECTION).multiplyScalar(3);
  scene.add(camera);

  const hemi = new HemisphereLight(0xffffff, 0x5a5550, 1.6);
  scene.add(hemi);
  // A head-light attached to the camera, slightly above and to the left,
  // so the side of the mesh you look at is always lit.
  const key = new DirectionalLight(0xffffff, 1.6);
  key.position.set(-0.5, 1, 0.8);
  camera.add(key);
  camera.add(key.target);

  const controls = new OrbitControls(camera, canvas);
  controls.enableDamping = true;
  controls.dampingFactor = 0.1;
  controls.screenSpacePanning = true;

  let content = null;
  let needsRender = true;
  let frame = 0;
  let disposed = false;
  refreshBackground();

  function render() {
    if (disposed) return;
    renderer.render(scene, camera);
    needsRender = false;
  }

  function loop() {
    if (disposed) return;
    frame = requestAnimationFrame(loop);
    const moved = controls.update();
    if (moved || needsRender) render();
  }
  frame = requestAnimationFrame(loop);
  controls.addEventListener('change', () => {
    needsRender = true;
  });

  function resize() {
    const width = Math.max(1, Math.floor(container.clientWidth));
    const height = Math.max(1, Math.floor(container.clientHeight));
    renderer.setSize(width, height, false);
    camera.aspect = width / height;
    camera.updateProjectionMatrix();
    needsRender = true;
  }
  resize();
  let observer = null;
  if (typeof ResizeObserver === 'function') {
    observer = new ResizeObserver(() => {
      resize();
      // Draw immediately so the canvas never shows a stretched frame.
      if (content) render();
    });
    observer.observe(container);
  } else {
    window.addEventListener('resize', resize);
  }

  /**
   * Frame the content so that it fills the view: its points, as seen from the viewing
   * direction, just fit the frustum (the kernel's views use the same rule, _framing.py).
   * With keepDirection, the current viewing direction is kept.
   */
  function fit({ keepDirection = true } = {}) {
    if (!content) return;
    const points = samplePoints(content, 20000);
    if (!points.length) return;
    setOrbitUp(WORLD_UP); // level again after a start view filmed askew
    const back = new Vector3();
    if (keepDirection) back.subVectors(camera.position, controls.target);
    if (!keepDirection || back.lengthSq() < 1e-12) back.copy(DEFAULT_DIRECTION);
    back.normalize();
    const worldUp = Math.abs(back.y) < 0.99 ? new Vector3(0, 1, 0) : new Vector3(0, 0, -1);
    const right = new Vector3().crossVectors(worldUp, back).normalize();
    const up = new Vector3().crossVectors(back, right);
    const tanV = Math.tan(MathUtils.degToRad(camera.fov) / 2);
    const tanH = tanV * camera.aspect;

    const box = new Box3().setFromPoints(points);
    const target = box.getCenter(new Vector3());
    const size = box.getSize(new Vector3());
    const extent = Math.max(size.x, size.y, size.z, 1e-6);
    const relative = new Vector3();
    let distance = extent;
    for (let attempt = 0; attempt < FIT_ATTEMPTS; attempt += 1) {
      let needed = 0;
      for (const p of points) {
        relative.subVectors(p, target);
        const z = relative.dot(back);
        needed = Math.max(needed, z + Math.abs(relative.dot(right)) / tanH, z + Math.abs(relative.dot(up)) / tanV);
      }
      distance = Math.max(needed * 1.06, extent * 1e-3);
      if (attempt === FIT_ATTEMPTS - 1) break;
      // Perspective draws near points larger: centre on what the picture shows, then fit again.
      let uMin = Infinity, uMax = -Infinity, vMin = Infinity, vMax = -Infinity;
      for (const p of points) {
        relative.subVectors(p, target);
        const depth = Math.max(distance - relative.dot(back), distance * 1e-3);
        const u = relative.dot(right) / depth;
        const v = relative.dot(up) / depth;
        uMin = Math.min(uMin, u); uMax = Math.max(uMax, u);
        vMin = Math.min(vMin, v); vMax = Math.max(vMax, v);
      }
      target.addScaledVector(right, ((uMin + uMax) / 2) * distance).addScaledVector(up, ((vMin + vMax) / 2) * distance);
    }

    controls.target.copy(target);
    camera.position.copy(target).addScaledVector(back, distance);
    camera.near = distance / 1000;
    camera.far = distance + extent * 50;
    camera.updateProjectionMatrix();
    controls.minDistance = extent / 1000;
    controls.maxDistance = extent * 50;
    controls.update();
    needsRender = true;
  }

  /** The camera's up, which OrbitControls orbits about (it keeps the rotation into +y it
   * computed from the camera's first up, so that is renewed too). */
  function setOrbitUp(up) {
    camera.up.copy(up).normalize();
    if (controls._quat && controls._quatInverse) {
      controls._quat.setFromUnitVectors(camera.up, WORLD_UP);
      controls._quatInverse.copy(controls._quat).invert();
    }
  }

  /** The first view: where the model was filmed from when it says so, else fitted. */
  function home() {
    if (!content) return;
    const start = content.userData && content.userData.filmedFrom;
    if (!start) {
      camera.fov = DEFAULT_FOV;
      fit({ keepDirection: false });
      return;
    }
    content.updateMatrixWorld(true);
    const view = startView(start, new Box3().setFromObject(content));
    setOrbitUp(view.up);
    camera.position.copy(view.position);
    camera.quaternion.copy(view.quaternion);
    camera.fov = view.fov;
    camera.near = view.near;
    camera.far = view.far;
    camera.updateProjectionMatrix();
    controls.target.copy(view.target);
    controls.minDistance = view.minDistance;
    controls.maxDistance = view.maxDistance;
    controls.update(); // looks at the target along the same line, with the same up
    needsRender = true;
  }

  function setContent(object) {
    if (content) {
      scene.remove(content);
      disposeObject(content);
    }
    content = object;
    scene.add(object);
    home();
  }

  // Measuring: the surface point under a click, where a 3D point shows, and the marks.
  const raycaster = new Raycaster();
  const marks = new Group();
  marks.renderOrder = 10;
  scene.add(marks);

  /** The nearest surface point of the content under the page point (x, y), or null. */
  function pick(clientX, clientY) {
    if (!content) return null;
    const rect = canvas.getBoundingClientRect();
    const ndc = new Vector2(((clientX - rect.left) / rect.width) * 2 - 1, -((clientY - rect.top) / rect.height) * 2 + 1);
    raycaster.setFromCamera(ndc, camera);
    const hits = raycaster.intersectObject(content, true).filter((hit) => hit.object.isMesh);
    return hits.length ? hits[0].point.clone() : null;
  }

  /** Where the 3D point [x, y, z] is drawn, in page coordinates. */
  function screenPoint([x, y, z]) {
    const rect = canvas.getBoundingClientRect();
    const p = new Vector3(x, y, z).project(camera);
    return { x: rect.left + ((p.x + 1) / 2) * rect.width, y: rect.top + ((1 - p.y) / 2) * rect.height };
  }

  /** Draw the picked points (dots, joined by a line when there are two). */
  function setMarks(points) {
    for (const child of marks.children.splice(0)) {
      child.geometry.dispose();
      child.material.dispose();
    }
    const box = content ? new Box3().setFromObject(content) : null;
    const radius = box ? box.getSize(new Vector3()).length() / 150 : 0.01;
    for (const point of points) {
      const dot = new Mesh(new SphereGeometry(radius, 16, 12), new MeshBasicMaterial({ color: 0xff3b30, depthTest: false }));
      dot.position.copy(point);
      marks.add(dot);
    }
    if (points.length === 2) {
      marks.add(new Line(new BufferGeometry().setFromPoints(points),
        new LineBasicMaterial({ color: 0xff3b30, depthTest: false })));
    }
    needsRender = true;
  }

  function dispose() {
    if (disposed) return;
    disposed = true;
    cancelAnimationFrame(frame);
    if (observer) observer.disconnect();
    else window.removeEventListener('resize', resize);
    controls.dispose();
    setMarks([]);
    if (content) disposeObject(content);
    content = null;
    renderer.dispose();
    // Free the GL context now: browsers cap the number of live contexts.
    if (typeof renderer.forceContextLoss === 'function') renderer.forceContextLoss();
    canvas.remove();
  }

  return {
    renderer, scene, camera, controls, canvas, render, resize, fit, home, setContent, refreshBackground, dispose,
    pick, screenPoint, setMarks,
  };
}
