import { test } from 'node:test';
import assert from 'node:assert/strict';
import { areaText, boxText, lengthText, surfaceArea, unitsOf } from '../src/viewer/measure.js';

test('metres only when the GLB record says so', () => {
  assert.equal(unitsOf({ openstrate_nb: { scale: { units: 'm', factor: 0.4 } } }), 'm');
  assert.equal(unitsOf({ openstrate_nb: { scale: { units: 'unknown' } } }), 'unknown');
  assert.equal(unitsOf({ openstrate_nb: {} }), 'unknown');
  assert.equal(unitsOf(undefined), 'unknown');
});

test('lengths, boxes and areas say their units', () => {
  assert.equal(lengthText(1.23456, 'm'), '1.235 m');
  assert.equal(lengthText(0.7531, 'm'), '0.753 m (75.3 cm)');
  assert.equal(lengthText(2.5, 'unknown'), '2.500 units (scale unknown)');
  assert.equal(boxText({ x: 1.2, y: 0.8, z: 0.45 }, 'm'), '1.20 × 0.80 × 0.45 m');
  assert.equal(areaText(3.2149, 'm'), '3.21 m²');
  assert.equal(areaText(3.2149, 'unknown'), '3.21 units²');
});

test('surface area of a unit square made of two triangles, indexed and not', () => {
  const square = [0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0];
  assert.equal(surfaceArea(Float32Array.from(square), Uint16Array.from([0, 1, 2, 0, 2, 3])), 1);
  const flat = [0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0];
  assert.equal(surfaceArea(Float32Array.from(flat)), 1);
});
