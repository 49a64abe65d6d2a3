// What the overall bar and the line above the table say, from the rows the kernel sends.

const ENDED = new Set(['complete', 'failed', 'cancelled']);

/**
 * `{ total, complete, failed, cancelled, running, percent }`: `percent` (0..100) counts an
 * ended video as whole and a running one by its own bar, so the overall bar never waits
 * for the slowest video to move.
 */
export function summarize(rows) {
  const out = { total: rows.length, complete: 0, failed: 0, cancelled: 0, running: 0, percent: 0 };
  if (!rows.length) return out;
  let sum = 0;
  for (const row of rows) {
    if (ENDED.has(row.phase)) {
      out[row.phase] += 1;
      sum += 100;
    } else {
      if (row.phase && row.phase !== 'idle') out.running += 1;
      sum += Math.max(0, Math.min(100, Number(row.percent) || 0));
    }
  }
  out.percent = sum / rows.length;
  return out;
}

// "3 of 8 done (1 failed) · 2 running"
export function summaryText(s) {
  const ended = s.complete + s.failed + s.cancelled;
  const trouble = [s.failed && `${s.failed} failed`, s.cancelled && `${s.cancelled} cancelled`].filter(Boolean);
  const running = s.running ? ` · ${s.running} running` : '';
  return `${ended} of ${s.total} done${trouble.length ? ` (${trouble.join(', ')})` : ''}${running}`;
}
