// anywidget front end for openstrate_nb (placeholder: shows the `status`
// trait; the full widget comes later).

function render({ model, el }) {
  const box = document.createElement('div');
  box.className = 'openstrate-widget';
  Object.assign(box.style, {
    fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
    fontSize: '13px',
    padding: '6px 10px',
    border: '1px solid rgba(128, 128, 128, 0.35)',
    borderRadius: '6px',
    display: 'inline-block',
  });
  box.setAttribute('role', 'status');
  box.setAttribute('aria-live', 'polite');

  const update = () => {
    const status = model.get('status');
    box.textContent = status == null || status === '' ? 'OpenStrate' : String(status);
  };
  update();
  model.on('change:status', update);
  el.appendChild(box);

  return () => {
    model.off('change:status', update);
    box.remove();
  };
}

export default { render };
