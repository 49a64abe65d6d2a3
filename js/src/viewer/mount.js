// OpenStrateViewer.mount(element, options): the public entry point.

import { Box3, Vector3 } from 'three';
import { areaText, boxText, lengthText } from './measure.js';
import { decodeBase64, fetchBytes } from './source.js';
import { meshStats, normaliseFormat, parseMesh } from './parse.js';
import { createStage } from './stage.js';
import { createUI } from './ui.js';

const MOUNTED = Symbol.for('openstrate.viewer');

function setState(element, state, error) {
  element.dataset.state = state;
  if (error) element.dataset.error = error;
  else delete element.dataset.error;
}

/** Wait for a paint, but not forever: rAF does not fire in hidden tabs. */
function nextFrame() {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 100);
    requestAnimationFrame(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const CLICK_SLOP = 4; // px a press may move and still be a click, not a turn of the view

/** Measure mode: the box and area, then the distance between the last two clicked points. */
function watchMeasuring(stage, ui, stats, object, on) {
  const box = new Box3().setFromObject(object);
  const summary = [`Box ${boxText(box.getSize(new Vector3()), stats.units)}`, `Area ${areaText(stats.area, stats.units)}`];
  let measuring = false;
  let points = [];
  let pressed = null;
  const show = () => {
    const lines = [...summary];
    if (points.length === 1) lines.push('Click a second point');
    if (points.length === 2) lines.push(`Distance ${lengthText(points[0].distanceTo(points[1]), stats.units)}`);
    if (points.length === 0) lines.push('Click two points of the mesh');
    ui.showMeasure(measuring ? lines : []);
  };
  const toggle = () => {
    measuring = !measuring;
    points = [];
    stage.setMarks(points);
    ui.measureButton.setAttribute('aria-pressed', String(measuring));
    stage.canvas.style.cursor = measuring ? 'crosshair' : '';
    show();
  };
  on(ui.measureButton, 'click', toggle);
  on(ui.root, 'keydown', (event) => {
    if ((event.key === 'm' || event.key === 'M') && !event.altKey && !event.ctrlKey && !event.metaKey) {
      toggle();
      event.preventDefault();
      event.stopPropagation();
    }
  });
  on(stage.canvas, 'pointerdown', (event) => { pressed = { x: event.clientX, y: event.clientY }; });
  on(stage.canvas, 'pointerup', (event) => {
    if (!measuring || !pressed || Math.hypot(event.clientX - pressed.x, event.clientY - pressed.y) > CLICK_SLOP) return;
    const point = stage.pick(event.clientX, event.clientY);
    if (!point) return;
    points = points.length === 2 ? [point] : [...points, point];
    stage.setMarks(points);
    show();
  });
}

/**
 * Render a mesh file into `element`.
 *
 * @param {HTMLElement} element
 * @param {{url?: string, data?: string, format: 'glb'|'ply'|'stl',
 *          name?: string, background?: string}} options
 * @returns {Promise<{dispose(): void}>} resolves once the first frame with the
 *   mesh is drawn; rejects (after showing the message in the element) on error.
 */
export async function mount(element, options = {}) {
  if (!element || typeof element.appendChild !== 'function') {
    throw new TypeError('OpenStrateViewer.mount: the first argument must be a DOM element.');
  }
  // Re-mounting into the same element replaces the previous viewer.
  if (element[MOUNTED]) element[MOUNTED].dispose();

  const { url, data, name, background } = options;
  setState(element, 'loading');
  const ui = createUI(element, { name });
  ui.showStatus('Loading mesh…');

  const abort = typeof AbortController === 'function' ? new AbortController() : null;
  let stage = null;
  let disposed = false;
  const cleanups = [];

  const handle = {
    /** Follow a change of the page's theme (when no background was given). */
    refreshBackground() {
      if (stage) stage.refreshBackground();
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      if (abort) abort.abort();
      for (const fn of cleanups.splice(0)) fn();
      if (stage) stage.dispose();
      stage = null;
      ui.dispose();
      if (element[MOUNTED] === handle) {
        delete element[MOUNTED];
        delete element.dataset.state;
        delete element.dataset.error;
      }
    },
  };
  element[MOUNTED] = handle;

  const on = (target, type, fn) => {
    target.addEventListener(type, fn);
    cleanups.push(() => target.removeEventListener(type, fn));
  };

  try {
    const format = normaliseFormat(options.format, url || name);

    // The stage first, so a missing WebGL is reported before a long download.
    stage = createStage(ui.stage, { background });

    let buffer;
    if (data != null && data !== '') {
      ui.showStatus('Decoding mesh…');
      await nextFrame();
      buffer = decodeBase64(data);
    } else if (url) {
      buffer = await fetchBytes(url, {
        signal: abort ? abort.signal : undefined,
        onProgress: (loaded, total) => {
          if (!disposed) ui.progress(loaded, total);
        },
      });
    } else {
      throw new Error('No mesh given: pass either "url" or "data" in the options.');
    }
    if (disposed) return handle;

    ui.showStatus('Preparing mesh…');
    await nextFrame(); // let the status text paint before a long parse
    const object = await parseMesh(buffer, format);
    if (disposed) return handle;

    stage.setContent(object);
    stage.resize();
    stage.home(); // where the result was filmed from, else the whole model framed
    stage.render();

    const refit = () => stage && stage.fit({ keepDirection: true });
    on(ui.fitButton, 'click', refit);
    on(stage.canvas, 'dblclick', refit);
    on(stage.canvas, 'pointerdown', () => ui.root.focus({ preventScroll: true }));
    on(ui.root, 'keydown', (event) => {
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      if (event.key === 'f' || event.key === 'F') {
        refit();
        event.preventDefault();
        event.stopPropagation(); // keep notebook shortcuts out of it
      }
    });

    const stats = meshStats(object);
    ui.showReady(stats);
    watchMeasuring(stage, ui, stats, object, on);
    handle.screenPoint = (xyz) => stage && stage.screenPoint(xyz);
    setState(element, 'ready');
    return handle;
  } catch (err) {
    if (disposed) return handle;
    const message =
      err && err.name === 'AbortError'
        ? 'Loading was cancelled.'
        : (err && err.message) || String(err);
    // Free the GL context but keep the message on screen.
    for (const fn of cleanups.splice(0)) fn();
    if (stage) stage.dispose();
    stage = null;
    ui.showError(message);
    setState(element, 'error', message);
    const error = err instanceof Error ? err : new Error(message);
    error.dispose = () => handle.dispose();
    throw error;
  }
}
