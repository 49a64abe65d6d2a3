// Entry of openstrate_nb/static/viewer.js (an IIFE): defines
// window.OpenStrateViewer = { mount, threeRevision }.

import { REVISION } from 'three';
import { mount } from './mount.js';

const api = Object.freeze({
  mount,
  threeRevision: REVISION,
});

if (typeof window !== 'undefined') {
  window.OpenStrateViewer = api;
}

export default api;
