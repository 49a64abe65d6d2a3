// OpenStrateViewer.mount(element, options): the public entry point.

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
    stage.fit({ keepDirection: false });
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

    ui.showReady(meshStats(object));
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
