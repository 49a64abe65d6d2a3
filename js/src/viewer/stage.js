// Renderer, camera, lights, controls, fit-to-view and the render loop.

import {
  Box3,
  Color,
  DirectionalLight,
  HemisphereLight,
  MathUtils,
  PerspectiveCamera,
  Scene,
  Sphere,
  Vector3,
  WebGLRenderer,
} from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';

const DEFAULT_DIRECTION = new Vector3(0.6, 0.45, 1).normalize();

/** Pick a background matching the page's colour scheme. */
export function defaultBackground() {
  const dark =
    typeof window !== 'undefined' &&
    window.matchMedia &&
    window.matchMedia('(prefers-color-scheme: dark)').matches;
  return dark ? '#1d2026' : '#eceef2';
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
  if (transparent) {
    renderer.setClearColor(0x000000, 0);
  } else {
    const color = new Color();
    try {
      color.setStyle(background || defaultBackground());
    } catch (err) {
      color.setStyle(defaultBackground());
    }
    scene.background = color;
  }

  const camera = new PerspectiveCamera(45, 1, 0.01, 1000);
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
  const bounds = new Sphere(new Vector3(), 1);

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
   * Frame the content. With keepDirection, the current viewing direction
   * is kept and only target and distance change.
   */
  function fit({ keepDirection = true } = {}) {
    if (!content) return;
    const box = new Box3().setFromObject(content);
    if (box.isEmpty()) return;
    box.getBoundingSphere(bounds);
    const radius = Math.max(bounds.radius, 1e-6);

    const vFov = MathUtils.degToRad(camera.fov);
    const hFov = 2 * Math.atan(Math.tan(vFov / 2) * camera.aspect);
    const distance = (radius / Math.sin(Math.min(vFov, hFov) / 2)) * 1.05;

    const direction = new Vector3();
    if (keepDirection) direction.subVectors(camera.position, controls.target);
    if (!keepDirection || direction.lengthSq() < 1e-12) direction.copy(DEFAULT_DIRECTION);
    direction.normalize();

    controls.target.copy(bounds.center);
    camera.position.copy(bounds.center).addScaledVector(direction, distance);
    camera.near = Math.max(distance / 1000, radius / 1000);
    camera.far = distance + radius * 50;
    camera.updateProjectionMatrix();
    controls.minDistance = radius / 1000;
    controls.maxDistance = radius * 50;
    controls.update();
    needsRender = true;
  }

  function setContent(object) {
    if (content) {
      scene.remove(content);
      disposeObject(content);
    }
    content = object;
    scene.add(object);
    fit({ keepDirection: false });
  }

  function dispose() {
    if (disposed) return;
    disposed = true;
    cancelAnimationFrame(frame);
    if (observer) observer.disconnect();
    else window.removeEventListener('resize', resize);
    controls.dispose();
    if (content) disposeObject(content);
    content = null;
    renderer.dispose();
    // Free the GL context now: browsers cap the number of live contexts.
    if (typeof renderer.forceContextLoss === 'function') renderer.forceContextLoss();
    canvas.remove();
  }

  return { renderer, scene, camera, controls, canvas, render, resize, fit, setContent, dispose };
}
