// Which address the /view iframe loads (the kernel's facts: openstrate_nb/widget/_routes.py).
//
// A server on the kernel's loopback is reached, in this order: through Colab's address for
// its port; through jupyter-server-proxy under the page's own Jupyter base URL (same origin
// and login, so it works from any machine: JupyterHub, Binder, SSH); else directly, which
// works when the browser runs on the kernel's machine. Any other server is loaded as it is.

/** The Jupyter base URL of this page ("/", "/user/ana/", "/lab-base/"), or null outside Jupyter. */
export function jupyterBaseUrl(doc) {
  const config = doc.getElementById('jupyter-config-data');
  if (config) {
    try {
      const baseUrl = JSON.parse(config.textContent).baseUrl;
      if (typeof baseUrl === 'string' && baseUrl) return baseUrl;
    } catch (err) {
      // not JSON: fall through
    }
  }
  const classic = doc.body && doc.body.dataset && doc.body.dataset.baseUrl;
  return classic || null;
}

/** The iframe's address for `route` ({url, port?, path?, proxy?, colab?}) on a page with `baseUrl`. */
export function iframeSource(route, baseUrl) {
  if (!route || !route.url) return '';
  if (!route.port) return route.url;
  if (route.colab) return route.colab;
  if (route.proxy && baseUrl) return `${baseUrl.replace(/\/?$/, '/')}proxy/${route.port}${route.path}`;
  return route.url;
}
