// The one DOM helper of the front end (the widget and the viewer page).

/**
 * `h('div', { class: 'a', text: 'hi', style: { color: 'red' }, role: 'alert' }, [child])`:
 * an element with its class, text, inline style, other attributes and children.
 */
export function h(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'style') Object.assign(node.style, value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.appendChild(child);
  return node;
}
