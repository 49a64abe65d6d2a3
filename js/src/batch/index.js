// anywidget front end of openstrate_nb's BatchWidget: a row per video and an overall bar.
//
// The kernel owns the state (the `rows` trait); this view only draws it, so a reload or a
// second view shows the same table.
import css from './style.css';
import { h } from '../common/dom.js';
import { PHASE_LABELS, timeLeft } from '../widget/format.js';
import { summarize, summaryText } from './summary.js';

function bar(label) {
  const fill = h('div', { class: 'osnb-batch-fill' });
  const node = h('div', { class: 'osnb-batch-cell-bar', role: 'progressbar', 'aria-label': label,
    'aria-valuemin': '0', 'aria-valuemax': '100' }, [fill]);
  return { node, set(percent) {
    const known = percent >= 0;
    fill.style.width = known ? `${Math.min(100, percent)}%` : '0';
    if (known) node.setAttribute('aria-valuenow', String(Math.round(percent)));
    else node.removeAttribute('aria-valuenow');
  } };
}

function describe(row) {
  if (row.phase === 'failed' || row.phase === 'cancelled') return row.error || row.notice || PHASE_LABELS[row.phase];
  const parts = [PHASE_LABELS[row.phase] || row.phase];
  if (row.phase === 'reconstructing' && row.stage) parts.push(row.stage);
  if (row.phase === 'complete' && row.mesh_faces) parts.push(`${row.mesh_faces.toLocaleString('en')} faces`);
  if (row.from_cache) parts.push('from the cache');
  const left = row.phase === 'reconstructing' ? timeLeft(row.eta) : '';
  if (left) parts.push(left);
  return parts.join(' · ');
}

function render({ model, el }) {
  const summary = h('div', { class: 'osnb-batch-summary', role: 'status' });
  const overall = bar('All videos');
  overall.node.className = 'osnb-batch-bar';
  const body = h('tbody');
  const head = h('thead', {}, [h('tr', {}, ['Video', 'Progress', 'Status', 'Job'].map((t) => h('th', { text: t })))]);
  el.appendChild(h('div', { class: 'osnb-batch' }, [h('style', { text: css }), summary, overall.node,
    h('table', {}, [head, body])]));
  const drawn = [];

  function draw() {
    const rows = model.get('rows') || [];
    const s = summarize(rows);
    summary.textContent = `${summaryText(s)} · ${model.get('concurrency')} at a time`;
    overall.set(s.percent);
    while (drawn.length < rows.length) {
      const progress = bar(`Video ${drawn.length + 1}`);
      const cells = { name: h('td', { class: 'osnb-batch-name' }), status: h('td'), job: h('td') };
      const tr = h('tr', {}, [cells.name, h('td', {}, [progress.node]), cells.status, cells.job]);
      body.appendChild(tr);
      drawn.push({ tr, progress, ...cells });
    }
    rows.forEach((row, i) => {
      const d = drawn[i];
      d.tr.dataset.phase = row.phase || 'idle';
      d.name.textContent = row.name || '';
      d.progress.set(row.phase === 'complete' ? 100 : Number(row.percent));
      d.status.textContent = describe(row);
      d.status.className = row.phase === 'failed' ? 'osnb-batch-error' : '';
      d.job.textContent = row.job_id || '';
    });
  }

  model.on('change:rows', draw);
  model.on('change:concurrency', draw);
  draw();
  return () => {
    model.off('change:rows', draw);
    model.off('change:concurrency', draw);
  };
}

export default { render };
