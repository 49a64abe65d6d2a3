// Measuring in the viewer: the numbers and how they read. Pure functions (tested with node).
//
// A mesh's units are metres only when its maker says so: openstrate_nb's pipeline records the
// scale it found from a printed marker in the GLB (asset.extras.openstrate_nb.scale). Any
// other mesh is measured in its own units, and the text says so.

/** 'm' when the GLB's openstrate_nb record says the mesh is in metres, else 'unknown'. */
export function unitsOf(assetExtras) {
  const scale = assetExtras && assetExtras.openstrate_nb && assetExtras.openstrate_nb.scale;
  return scale && scale.units === 'm' ? 'm' : 'unknown';
}

function fixed(value, digits) {
  return Number(value).toFixed(digits);
}

/** "1.234 m", "0.753 m (75.3 cm)", or "1.234 units (scale unknown)". */
export function lengthText(value, units) {
  if (units !== 'm') return `${Number(value).toPrecision(4)} units (scale unknown)`;
  return value < 1 ? `${fixed(value, 3)} m (${fixed(value * 100, 1)} cm)` : `${fixed(value, 3)} m`;
}

/** "1.20 × 0.80 × 0.45 m" (the box's width, height and depth). */
export function boxText(size, units) {
  const dims = [size.x, size.y, size.z].map((v) => (units === 'm' ? fixed(v, 2) : Number(v).toPrecision(3)));
  return `${dims.join(' × ')} ${units === 'm' ? 'm' : 'units'}`;
}

/** "3.21 m²" or "3.21 units²". */
export function areaText(value, units) {
  return `${Number(value).toPrecision(3)} ${units === 'm' ? 'm²' : 'units²'}`;
}

/** Surface area of a triangle mesh: positions (x, y, z, ...) and an optional index. */
export function surfaceArea(positions, index) {
  const count = index ? index.length : positions.length / 3;
  let total = 0;
  const at = (i) => (index ? index[i] : i) * 3;
  for (let t = 0; t + 2 < count; t += 3) {
    const a = at(t), b = at(t + 1), c = at(t + 2);
    const ux = positions[b] - positions[a], uy = positions[b + 1] - positions[a + 1], uz = positions[b + 2] - positions[a + 2];
    const vx = positions[c] - positions[a], vy = positions[c + 1] - positions[a + 1], vz = positions[c + 2] - positions[a + 2];
    const cx = uy * vz - uz * vy, cy = uz * vx - ux * vz, cz = ux * vy - uy * vx;
    total += Math.sqrt(cx * cx + cy * cy + cz * cz) / 2;
  }
  return total;
}
