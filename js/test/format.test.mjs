// The progress rows' numbers, as the user reads them.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { bytes, duration, hop, timeLeft } from '../src/widget/format.js';

test('bytes are decimal, one decimal above a kilobyte, "?" when unknown', () => {
  assert.equal(bytes(0), '0 B');
  assert.equal(bytes(999), '999 B');
  assert.equal(bytes(1500), '1.5 KB');
  assert.equal(bytes(20_971_520), '21.0 MB');
  assert.equal(bytes(3.2e9), '3.2 GB');
  assert.equal(bytes(-1), '?');
  assert.equal(bytes(Number.NaN), '?');
});

test('durations read as a clock, hours only when there are some', () => {
  assert.equal(duration(0), '0:00');
  assert.equal(duration(75.9), '1:15');
  assert.equal(duration(3725), '1:02:05');
  assert.equal(duration(-1), '');
});

test('time left is a forecast, rounded so it claims no false precision', () => {
  assert.equal(timeLeft(3), 'a few seconds left');
  assert.equal(timeLeft(42), 'about 40 s left');
  assert.equal(timeLeft(58), 'about 60 s left');
  assert.equal(timeLeft(150), 'about 3 min left');
  assert.equal(timeLeft(-1), '');
  assert.equal(timeLeft(Number.POSITIVE_INFINITY), '');
});

test('a hop reads sent / total, a whole percentage that reaches 100 only at the end, and the rate', () => {
  assert.equal(hop({ sent: 5e6, total: 20e6, rate: 2.5e6 }), '5.0 MB / 20.0 MB · 25% · 2.5 MB/s');
  assert.equal(hop({ sent: 19_999_999, total: 20e6, rate: 0 }), '20.0 MB / 20.0 MB · 99%');
  assert.equal(hop({}), '');
});
