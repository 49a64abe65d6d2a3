// The /view iframe's address from the kernel's facts and the page's base URL.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { iframeSource, jupyterBaseUrl } from '../src/widget/route.js';

const loopback = { url: 'http://127.0.0.1:8765/view/a.glb', port: 8765, path: '/view/a.glb', proxy: true };

test('a server the browser can reach as it is keeps its address', () => {
  assert.equal(iframeSource({ url: 'https://openstrate.com/view/a.glb' }, '/'), 'https://openstrate.com/view/a.glb');
});

test("a kernel-side server goes through jupyter-server-proxy under the page's base URL", () => {
  assert.equal(iframeSource(loopback, '/'), '/proxy/8765/view/a.glb');
  assert.equal(iframeSource(loopback, '/user/ana/'), '/user/ana/proxy/8765/view/a.glb');
  assert.equal(iframeSource(loopback, '/lab-base'), '/lab-base/proxy/8765/view/a.glb');
  const withToken = { ...loopback, url: `${loopback.url}?token=t`, path: '/view/a.glb?token=t' };
  assert.equal(iframeSource(withToken, '/'), '/proxy/8765/view/a.glb?token=t');
});

test('without the proxy, or outside Jupyter, it is loaded directly; Colab gives its own address', () => {
  assert.equal(iframeSource({ ...loopback, proxy: false }, '/'), loopback.url);
  assert.equal(iframeSource(loopback, null), loopback.url);
  assert.equal(iframeSource({ ...loopback, colab: 'https://x-8765-colab.example/view/a.glb' }, '/'),
    'https://x-8765-colab.example/view/a.glb');
  assert.equal(iframeSource({}, '/'), '');
});

test('the base URL comes from the page config of JupyterLab and Notebook 7, or the classic body attribute', () => {
  const page = (config, bodyBase) => ({
    getElementById: (id) => (id === 'jupyter-config-data' && config !== null ? { textContent: config } : null),
    body: { dataset: bodyBase ? { baseUrl: bodyBase } : {} },
  });
  assert.equal(jupyterBaseUrl(page('{"baseUrl": "/user/ana/"}', null)), '/user/ana/');
  assert.equal(jupyterBaseUrl(page(null, '/nb/')), '/nb/');
  assert.equal(jupyterBaseUrl(page('not json', null)), null);
  assert.equal(jupyterBaseUrl(page(null, null)), null);
});
