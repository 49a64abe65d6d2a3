// Getting the raw bytes of a mesh file: either from a URL (with progress
// reporting) or from a base64 string embedded in the page (offline export).

/**
 * Decode base64 (optionally a `data:...;base64,` URL) into an ArrayBuffer.
 * @param {string} data
 * @returns {ArrayBuffer}
 */
export function decodeBase64(data) {
  let b64 = String(data);
  const comma = b64.indexOf(',');
  if (b64.startsWith('data:') && comma !== -1) b64 = b64.slice(comma + 1);
  b64 = b64.replace(/[\s]/g, '');
  // Accept the URL-safe alphabet and missing padding as well.
  b64 = b64.replace(/-/g, '+').replace(/_/g, '/');
  while (b64.length % 4) b64 += '=';

  if (typeof Uint8Array.fromBase64 === 'function') {
    return Uint8Array.fromBase64(b64).buffer;
  }
  let binary;
  try {
    binary = atob(b64);
  } catch (err) {
    throw new Error('The embedded mesh data is not valid base64.');
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

/**
 * Download `url` into an ArrayBuffer, calling onProgress(loaded, total|null).
 * @param {string} url
 * @param {{signal?: AbortSignal, onProgress?: (loaded: number, total: number|null) => void}} opts
 * @returns {Promise<ArrayBuffer>}
 */
export async function fetchBytes(url, { signal, onProgress } = {}) {
  let response;
  try {
    response = await fetch(url, { signal, credentials: 'same-origin' });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new Error(`Could not download ${url} (${(err && err.message) || 'network error'}).`);
  }
  if (!response.ok) {
    const detail = response.statusText ? ` ${response.statusText}` : '';
    throw new Error(`Could not download ${url}: HTTP ${response.status}${detail}.`);
  }

  const header = response.headers.get('content-length');
  // A compressed transfer reports the compressed size; only trust the header
  // when the body is not content-encoded.
  const encoded = (response.headers.get('content-encoding') || 'identity') !== 'identity';
  const total = header && !encoded ? Number(header) || null : null;

  if (!response.body || typeof response.body.getReader !== 'function') {
    const buf = await response.arrayBuffer();
    if (onProgress) onProgress(buf.byteLength, buf.byteLength);
    return buf;
  }

  const reader = response.body.getReader();
  const chunks = [];
  let loaded = 0;
  if (onProgress) onProgress(0, total);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    if (onProgress) onProgress(loaded, total);
  }
  const out = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out.buffer;
}
