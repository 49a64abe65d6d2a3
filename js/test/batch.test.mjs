import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarize, summaryText } from '../src/batch/summary.js';

test('an ended video counts whole and a running one by its own bar', () => {
  const s = summarize([
    { phase: 'complete', percent: 100 },
    { phase: 'failed', percent: 40 },
    { phase: 'reconstructing', percent: 50 },
    { phase: 'idle', percent: -1 },
  ]);
  assert.deepEqual(s, { total: 4, complete: 1, failed: 1, cancelled: 0, running: 1, percent: 62.5 });
  assert.equal(summaryText(s), '2 of 4 done (1 failed) · 1 running');
});

test('no rows: nothing done and an empty bar', () => {
  assert.equal(summaryText(summarize([])), '0 of 0 done');
  assert.equal(summarize([]).percent, 0);
});
