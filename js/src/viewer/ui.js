// DOM around the canvas: the wrapper, status/progress text, error message,
// the toolbar with the "Fit" button and the stats line. Inline styles only,
// so the viewer needs no CSS file.

import { bytes } from '../common/bytes.js';
import { h } from '../common/dom.js';

const FONT =
  'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';


function formatCount(n) {
  return Math.round(n).toLocaleString('en-US');
}

/**
 * Build the viewer chrome inside `element`.
 * @param {HTMLElement} element
 * @param {{name?: string}} options
 */
export function createUI(element, { name } = {}) {
  // The overlays are absolutely positioned against the wrapper, which fills
  // the element. Give a zero-height element a usable default height.
  let addedHeight = false;
  if (element.clientHeight === 0 && !element.style.height) {
    element.style.height = '480px';
    addedHeight = true;
  }

  const root = h('div', { style: {
    position: 'relative',
    width: '100%',
    height: '100%',
    minHeight: '120px',
    overflow: 'hidden',
    fontFamily: FONT,
    fontSize: '13px',
    lineHeight: '1.4',
    outline: 'none',
  } });
  root.className = 'openstrate-viewer';
  root.tabIndex = 0;
  root.setAttribute('role', 'application');
  root.setAttribute('aria-label', name ? `3D view of ${name}` : '3D mesh view');

  const stage = h('div', { style: { position: 'absolute', inset: '0' } });
  root.appendChild(stage);

  const pill = {
    position: 'absolute',
    padding: '4px 10px',
    borderRadius: '6px',
    background: 'rgba(20, 22, 26, 0.72)',
    color: '#f2f3f5',
    pointerEvents: 'none',
    userSelect: 'none',
  };

  const status = h('div', { style: {
    ...pill,
    left: '50%',
    top: '50%',
    transform: 'translate(-50%, -50%)',
    whiteSpace: 'nowrap',
  } });
  status.setAttribute('role', 'status');
  status.setAttribute('aria-live', 'polite');
  root.appendChild(status);

  const info = h('div', { style: {
    ...pill,
    left: '8px',
    bottom: '8px',
    fontSize: '12px',
    display: 'none',
    maxWidth: 'calc(100% - 16px)',
    overflow: 'hidden',
    textOverflow: 'ellipsis',
    whiteSpace: 'nowrap',
  } });
  root.appendChild(info);

  const button = {
    position: 'absolute',
    top: '8px',
    padding: '4px 12px',
    border: '1px solid rgba(255, 255, 255, 0.25)',
    borderRadius: '6px',
    background: 'rgba(20, 22, 26, 0.72)',
    color: '#f2f3f5',
    font: `12px ${FONT}`,
    cursor: 'pointer',
    display: 'none',
  };
  const fitButton = h('button', { text: 'Fit', style: { ...button, right: '8px' } });
  fitButton.type = 'button';
  fitButton.title = 'Fit the mesh to the view (F or double-click)';
  root.appendChild(fitButton);

  const measureButton = h('button', { text: 'Measure', style: { ...button, right: '64px' } });
  measureButton.type = 'button';
  measureButton.title = 'Click two points of the mesh to measure their distance (M)';
  measureButton.setAttribute('aria-pressed', 'false');
  root.appendChild(measureButton);

  // What measuring shows: the box and area always once on, then the last distance.
  const measurePanel = h('div', { class: 'openstrate-measure', role: 'status', 'aria-live': 'polite', style: {
    ...pill, left: '8px', top: '8px', fontSize: '12px', display: 'none', whiteSpace: 'pre-line',
    maxWidth: 'calc(100% - 160px)',
  } });
  root.appendChild(measurePanel);

  element.appendChild(root);

  return {
    root,
    stage,
    fitButton,
    measureButton,
    /** Show the measuring lines (an empty list hides the panel). */
    showMeasure(lines) {
      measurePanel.textContent = lines.join('\n');
      measurePanel.style.display = lines.length ? '' : 'none';
    },
    showStatus(text) {
      status.textContent = text;
      status.style.display = '';
    },
    hideStatus() {
      status.style.display = 'none';
    },
    progress(loaded, total) {
      const pct = total ? Math.min(100, Math.floor((100 * loaded) / total)) : null;
      this.showStatus(
        pct != null ? `Loading mesh… ${pct}%` : `Loading mesh… ${bytes(loaded)}`,
      );
    },
    showError(message) {
      status.style.display = 'none';
      info.style.display = 'none';
      fitButton.style.display = 'none';
      measureButton.style.display = 'none';
      const box = h('div', { style: {
        position: 'absolute',
        inset: '0',
        display: 'flex',
        alignItems: 'center',
        justifyContent: 'center',
        padding: '16px',
        boxSizing: 'border-box',
      } });
      const msg = h('div', { style: {
        maxWidth: '520px',
        padding: '12px 16px',
        borderRadius: '8px',
        border: '1px solid #d9534f',
        background: '#fdf1f0',
        color: '#8a1f1b',
        whiteSpace: 'pre-wrap',
        overflowWrap: 'anywhere',
      } });
      msg.setAttribute('role', 'alert');
      const title = h('strong', { style: { display: 'block', marginBottom: '4px' } });
      title.textContent = name ? `Could not show ${name}` : 'Could not show the mesh';
      msg.appendChild(title);
      msg.appendChild(document.createTextNode(message));
      box.appendChild(msg);
      root.appendChild(box);
    },
    showReady(stats) {
      status.style.display = 'none';
      fitButton.style.display = '';
      measureButton.style.display = stats.triangles ? '' : 'none';
      const parts = [];
      if (name) parts.push(name);
      if (stats.vertices) parts.push(`${formatCount(stats.vertices)} vertices`);
      if (stats.triangles) parts.push(`${formatCount(stats.triangles)} triangles`);
      if (stats.points) parts.push(`${formatCount(stats.points)} points`);
      info.textContent = parts.join(' · ');
      info.title = info.textContent;
      info.style.display = parts.length ? '' : 'none';
    },
    dispose() {
      root.remove();
      if (addedHeight) element.style.removeProperty('height');
    },
  };
}
