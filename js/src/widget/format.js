// Human-readable numbers for the progress rows.

import { bytes } from '../common/bytes.js';
import PHASES from '../../../openstrate_nb/widget/phases.json' with { type: 'json' };

export function duration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

// "about 40 s left", "about 3 min left": a forecast, so no false precision.
export function timeLeft(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  if (seconds < 10) return 'a few seconds left';
  if (seconds < 60) return `about ${Math.round(seconds / 5) * 5} s left`;
  return `about ${Math.round(seconds / 60)} min left`;
}

// "12 MiB / 200 MiB · 6% · 45 MiB/s"
export function hop(state) {
  if (!state || !state.total) return '';
  const pct = Math.floor((100 * state.sent) / state.total);
  const rate = state.rate > 0 ? ` · ${bytes(state.rate)}/s` : '';
  return `${bytes(state.sent)} / ${bytes(state.total)} · ${pct}%${rate}`;
}

export const PHASE_LABELS = PHASES.labels;
