// Where the widget is drawn: its width and whether the page around it is dark.
//
// JupyterLab says its theme on <body data-jp-theme-light>; VS Code, Colab and others don't
// agree on a flag, but all of them give the widget the page's text colour, so light text
// means a dark page.

function luminance(cssColour) {
  const rgb = (cssColour.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
  if (rgb.length < 3) return 0;
  return (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255;
}

export function isDark(element) {
  const lab = document.body && document.body.dataset.jpThemeLight;
  if (lab === 'true' || lab === 'false') return lab === 'false';
  return luminance(getComputedStyle(element).color) > 0.5;
}

/**
 * Call `onChange({width, dark})` now and whenever the element's width (to the nearest
 * 10 px, at most every 200 ms) or the page's theme changes; returns a function that stops.
 */
export function watchPage(element, onChange) {
  let last = null;
  let timer = 0;
  const report = () => {
    timer = 0;
    const width = Math.round(element.clientWidth / 10) * 10;
    const dark = isDark(element);
    if (!width && !last) return; // not laid out yet (a hidden tab): wait for the observer
    if (last && last.width === width && last.dark === dark) return;
    last = { width, dark };
    onChange(last);
  };
  const soon = () => {
    if (!timer) timer = setTimeout(report, 200);
  };
  const resize = typeof ResizeObserver === 'function' ? new ResizeObserver(soon) : null;
  if (resize) resize.observe(element);
  const theme = new MutationObserver(soon);
  theme.observe(document.body, { attributes: true, attributeFilter: ['data-jp-theme-light', 'class'] });
  const scheme = window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
  if (scheme && scheme.addEventListener) scheme.addEventListener('change', soon);
  report();
  return () => {
    clearTimeout(timer);
    if (resize) resize.disconnect();
    theme.disconnect();
    if (scheme && scheme.removeEventListener) scheme.removeEventListener('change', soon);
  };
}
