// The one byte formatter of the front end, in binary units as the upload cap is stated
// ("100 MiB"): the rule of size_text() in openstrate_nb/_contract.py, so the kernel, the CLI
// and the page agree on every figure.
export function bytes(n) {
  if (!Number.isFinite(n) || n < 0) return '?';
  for (const [unit, scale] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]]) {
    if (n >= scale) {
      const value = n / scale;
      return `${value >= 10 || value === Math.floor(value) ? value.toFixed(0) : value.toFixed(1)} ${unit}`;
    }
  }
  return `${Math.floor(n)} B`;
}
