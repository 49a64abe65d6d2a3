// The progress rows' numbers, as the user reads them.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { bytes } from '../src/common/bytes.js';
import { duration, hop, timeLeft } from '../src/widget/format.js';

test('bytes are binary like the cap ("100 MiB"), one decimal below ten, "?" when unknown', () => {
  assert.equal(bytes(0), '0 B');
  assert.equal(bytes(1023), '1023 B');
  assert.equal(bytes(1536), '1.5 KiB');
  assert.equal(bytes(100 * 2 ** 20), '100 MiB');
  assert.equal(bytes(20e6), '19 MiB');
  assert.equal(bytes(3 * 2 ** 30), '3 GiB');
  assert.equal(bytes(3.25 * 2 ** 30), '3.3 GiB');
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
  assert.equal(hop({ sent: 5 * 2 ** 20, total: 20 * 2 ** 20, rate: 2.5 * 2 ** 20 }), '5 MiB / 20 MiB · 25% · 2.5 MiB/s');
  assert.equal(hop({ sent: 20 * 2 ** 20 - 1, total: 20 * 2 ** 20, rate: 0 }), '20 MiB / 20 MiB · 99%');
  assert.equal(hop({}), '');
});
