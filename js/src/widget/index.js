// anywidget front end of openstrate_nb's ReconstructWidget.
//
// The kernel owns every piece of state (phase, both upload hops, the job's progress); this
// view only draws the traits and sends the picked file in acknowledged chunks. So a page
// reload, a second view of the same widget, or a kernel-side run (no picker) all draw the
// same thing.
import css from './style.css';
import { h } from '../common/dom.js';
import { ChunkSender } from './upload.js';
import PHASES from '../../../openstrate_nb/widget/phases.json' with { type: 'json' };
import { PHASE_LABELS, duration, hop, timeLeft } from './format.js';
import { watchPage } from './page.js';
import { iframeSource, jupyterBaseUrl } from './route.js';

const TRAITS = [
  'phase', 'status', 'stage', 'current_frame', 'total_frames', 'percent', 'elapsed', 'error', 'notice',
  'job_id', 'filename', 'view_url', 'mesh_faces', 'from_cache', 'can_retry', 'kernel_hop', 'server_hop', 'accept',
  'made_with', 'step', 'eta', 'max_upload', 'view_route', 'preview_points',
];
// The phases are the kernel's (openstrate_nb/widget/phases.json), so both sides name the same ones.
const PICKABLE = new Set(PHASES.pickable);
const CANCELLABLE = new Set(PHASES.cancellable);
const JOB_PHASES = new Set(PHASES.job);

function progressRow(label, name) {
  const fill = h('div', { class: 'osnb-fill' });
  const text = h('div', { class: 'osnb-text' });
  const bar = h('div', { class: 'osnb-bar', role: 'progressbar', 'aria-label': label, 'aria-valuemin': '0', 'aria-valuemax': '100' }, [fill]);
  const row = h('div', { class: 'osnb-row', 'data-row': name, hidden: '' }, [h('div', { class: 'osnb-label', text: label }), bar, text]);
  return {
    row,
    set(percent, message) {
      row.hidden = false;
      const known = Number.isFinite(percent) && percent >= 0;
      row.dataset.indeterminate = String(!known);
      fill.style.width = known ? `${Math.min(100, percent)}%` : '';
      if (known) bar.setAttribute('aria-valuenow', String(Math.round(percent)));
      else bar.removeAttribute('aria-valuenow');
      text.textContent = message;
    },
    hide() {
      row.hidden = true;
    },
  };
}

// The /view page takes the theme as a query parameter (servers that don't know it ignore it).
function themed(url, dark) {
  const separator = url.includes('?') ? '&' : '?';
  return `${url}${separator}theme=${dark ? 'dark' : 'light'}`;
}

function hopPercent(state) {
  return state && state.total ? (100 * state.sent) / state.total : -1;
}

function render({ model, el }) {
  const style = h('style', { text: css });
  const pill = h('span', { class: 'osnb-pill' });
  const fileLabel = h('span', { class: 'osnb-file' });
  const head = h('div', { class: 'osnb-head' }, [h('span', { class: 'osnb-title', text: 'OpenStrate' }), pill, fileLabel]);

  const input = h('input', { type: 'file', hidden: '' });
  const choose = h('button', { class: 'osnb-primary', type: 'button', text: 'Choose video…' });
  const hint = h('div', { class: 'osnb-hint' });
  const drop = h('div', { class: 'osnb-drop' }, [
    h('div', { text: 'Drop a walkthrough video here, or' }), choose, hint, input,
  ]);

  const kernelRow = progressRow('To the kernel', 'kernel');
  const serverRow = progressRow('To the server', 'server');
  const jobRow = progressRow('Reconstruction', 'job');
  const bars = h('div', { class: 'osnb-bars' }, [kernelRow.row, serverRow.row, jobRow.row]);

  const notice = h('div', { class: 'osnb-notice', hidden: '' });
  const error = h('div', { class: 'osnb-error', role: 'alert', hidden: '' });
  const cancel = h('button', { type: 'button', text: 'Cancel', hidden: '' });
  const retry = h('button', { class: 'osnb-primary', type: 'button', text: 'Retry', hidden: '' });
  const another = h('button', { type: 'button', text: 'New video…', hidden: '' });
  const actions = h('div', { class: 'osnb-actions' }, [cancel, retry, another]);
  const jobCode = h('code');
  const jobLine = h('div', { class: 'osnb-job', hidden: '' }, [document.createTextNode('job '), jobCode]);

  const frame = h('iframe', {
    sandbox: 'allow-scripts allow-same-origin',
    allow: 'fullscreen',
    allowfullscreen: '',
    loading: 'lazy',
    title: 'OpenStrate mesh viewer',
  });
  const openLink = h('a', { target: '_blank', rel: 'noopener noreferrer', text: 'Open in a new tab ↗' });
  const madeWith = h('div', { class: 'osnb-made', hidden: '' });
  const result = h('div', { class: 'osnb-result', hidden: '' }, [frame, openLink, madeWith]);

  const root = h('div', { class: 'osnb', 'aria-live': 'polite' }, [style, head, drop, bars, notice, error, actions, jobLine, result]);
  el.appendChild(root);

  let sender = null;
  let page = { width: 0, dark: false };

  const pick = (file) => {
    if (!file || sender) return;
    const accepted = (model.get('accept') || '').split(',').filter(Boolean);
    const dot = file.name.lastIndexOf('.');
    const ext = dot >= 0 ? file.name.slice(dot).toLowerCase() : '';
    if (accepted.length && !accepted.includes(ext)) {
      error.hidden = false;
      error.textContent = `${file.name} is not a video this service reconstructs; pick a ${accepted.join(' ')} file.`;
      return;
    }
    sender = new ChunkSender(model, file, {
      chunkBytes: model.get('chunk_bytes'),
      maxInFlight: model.get('max_in_flight'),
      onEnd: () => {
        sender = null;
        input.value = '';
        update();
      },
    });
    sender.start();
    update();
  };

  const onCustom = (msg) => {
    if (sender) sender.handle(msg);
  };

  const update = () => {
    const phase = model.get('phase') || 'idle';
    pill.dataset.phase = phase;
    root.dataset.phase = phase;
    pill.textContent = PHASE_LABELS[phase] || phase;
    const name = model.get('filename');
    fileLabel.textContent = name || '';
    const accept = model.get('accept') || '';
    input.accept = accept;
    const cap = model.get('max_upload');
    hint.textContent = accept.split(',').join(' ') + (cap ? ` · up to ${cap}` : '');
    drop.hidden = !(PICKABLE.has(phase) && !sender);

    const kernelHop = model.get('kernel_hop') || {};
    if (kernelHop.total) kernelRow.set(hopPercent(kernelHop), hop(kernelHop));
    else kernelRow.hide();
    const serverHop = model.get('server_hop') || {};
    if (serverHop.total) serverRow.set(hopPercent(serverHop), hop(serverHop));
    else serverRow.hide();

    if (JOB_PHASES.has(phase) || model.get('status')) {
      const percent = model.get('percent');
      const parts = [];
      const step = model.get('step');
      const stage = model.get('stage');
      // "Step 3 of 9: finding features" where the server numbers its steps; else its stage and frames.
      if (step && phase !== 'complete') parts.push(step);
      else if (stage && phase !== 'complete') parts.push(stage);
      const total = model.get('total_frames');
      if (!step && total > 0 && phase !== 'complete') parts.push(`frame ${model.get('current_frame')} / ${total}`);
      if (percent >= 0) parts.push(`${percent.toFixed(0)}%`);
      const left = phase === 'reconstructing' ? timeLeft(model.get('eta')) : '';
      if (left) parts.push(left);
      // The 3D view below draws the model so far (the live preview): say how much there is.
      const sofar = phase === 'reconstructing' ? model.get('preview_points') : 0;
      if (sofar > 0) parts.push(`model so far: ${sofar.toLocaleString()} points`);
      const elapsed = duration(model.get('elapsed'));
      if (elapsed) parts.push(elapsed);
      if (phase === 'complete' && model.get('mesh_faces')) parts.push(`${model.get('mesh_faces').toLocaleString()} faces`);
      jobRow.set(phase === 'complete' ? 100 : percent, parts.join(' · ') || PHASE_LABELS[phase] || phase);
    } else {
      jobRow.hide();
    }

    const noticeText = model.get('notice');
    notice.hidden = !noticeText;
    notice.textContent = noticeText || '';
    const errorText = model.get('error');
    error.hidden = !errorText;
    if (errorText) error.textContent = errorText;

    cancel.hidden = !(CANCELLABLE.has(phase) || sender);
    retry.hidden = !(model.get('can_retry') && (phase === 'failed' || phase === 'cancelled'));
    // After a result, another video starts from the same widget (the result stays until then).
    another.hidden = !(phase === 'complete' && !sender);
    actions.hidden = cancel.hidden && retry.hidden && another.hidden;

    const jobId = model.get('job_id');
    jobLine.hidden = !jobId;
    jobCode.textContent = jobId || '';

    const viewUrl = model.get('view_url');
    const showResult = phase === 'complete' && !!viewUrl;
    result.hidden = !showResult;
    // Only touch src when it changes: resetting it reloads the viewer and loses the user's camera.
    const made = model.get('made_with');
    madeWith.hidden = !made;
    madeWith.textContent = made ? `Made from ${made}` : '';
    // The address this browser can reach (a kernel-side server may need Jupyter's proxy).
    const reachable = viewUrl ? iframeSource({ url: viewUrl, ...(model.get('view_route') || {}) }, jupyterBaseUrl(document)) : '';
    if (showResult && frame.dataset.viewUrl !== reachable) {
      frame.dataset.viewUrl = reachable;
      frame.setAttribute('src', themed(reachable, page.dark));
      openLink.href = reachable;
    }
  };

  // The page's width and theme go to the kernel (it sizes and colours its 3D view) and the
  // theme to the /view page, by message: changing the iframe's src would reload the viewer.
  const onPage = (next) => {
    const themeChanged = next.dark !== page.dark;
    page = next;
    root.dataset.theme = next.dark ? 'dark' : 'light';
    model.send({ type: 'view', width: next.width, dark: next.dark });
    if (themeChanged && frame.contentWindow && frame.dataset.viewUrl) {
      frame.contentWindow.postMessage({ openstrate: 'theme', theme: next.dark ? 'dark' : 'light' }, '*');
    }
  };
  const stopWatching = watchPage(root, onPage);

  const onChoose = () => input.click();
  const onInput = () => pick(input.files && input.files[0]);
  const onDragOver = (event) => {
    event.preventDefault();
    drop.classList.add('osnb-over');
  };
  const onDragLeave = () => drop.classList.remove('osnb-over');
  const onDrop = (event) => {
    event.preventDefault();
    drop.classList.remove('osnb-over');
    pick(event.dataTransfer && event.dataTransfer.files && event.dataTransfer.files[0]);
  };
  const onCancel = () => {
    if (sender) sender.cancel();
    else model.send({ type: 'cancel' });
  };
  const onRetry = () => model.send({ type: 'retry' });

  choose.addEventListener('click', onChoose);
  input.addEventListener('change', onInput);
  drop.addEventListener('dragover', onDragOver);
  drop.addEventListener('dragleave', onDragLeave);
  drop.addEventListener('drop', onDrop);
  cancel.addEventListener('click', onCancel);
  retry.addEventListener('click', onRetry);
  another.addEventListener('click', onChoose);
  model.on('msg:custom', onCustom);
  for (const name of TRAITS) model.on(`change:${name}`, update);
  update();

  return () => {
    for (const name of TRAITS) model.off(`change:${name}`, update);
    model.off('msg:custom', onCustom);
    stopWatching();
    if (sender) sender.cancel();
    root.remove();
  };
}

export default { render };
