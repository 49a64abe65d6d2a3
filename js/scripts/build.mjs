// Bundles the front end into ../openstrate_nb/static/ with esbuild.
//   node scripts/build.mjs          production (minified, no source maps)
//   node scripts/build.mjs --dev    readable output with linked source maps
//   node scripts/build.mjs --clean  remove the built files
import * as esbuild from 'esbuild';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const jsDir = path.resolve(here, '..');
const outDir = path.resolve(jsDir, '..', 'openstrate_nb', 'static');
const dev = process.argv.includes('--dev');

const outputs = {
  viewer: path.join(outDir, 'viewer.js'),
  widget: path.join(outDir, 'widget.js'),
  batch: path.join(outDir, 'batch.js'),
};

if (process.argv.includes('--clean')) {
  for (const file of Object.values(outputs)) {
    await rm(file, { force: true });
    await rm(`${file}.map`, { force: true });
  }
  process.exit(0);
}

await mkdir(outDir, { recursive: true });

const common = {
  absWorkingDir: jsDir,
  bundle: true,
  minify: !dev,
  sourcemap: dev ? 'linked' : false,
  // Browsers with WebGL2 (three.js needs it) all support ES2020+.
  target: ['es2020', 'chrome90', 'firefox90', 'safari15'],
  platform: 'browser',
  legalComments: 'eof',
  charset: 'ascii',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': dev ? '"development"' : '"production"' },
};

const started = performance.now();
await Promise.all([
  // A classic script (works from <script src> and inlined into one HTML file).
  esbuild.build({
    ...common,
    entryPoints: ['src/viewer/index.js'],
    outfile: outputs.viewer,
    format: 'iife',
  }),
  // An ES module for anywidget's _esm.
  esbuild.build({
    ...common,
    entryPoints: ['src/widget/index.js'],
    outfile: outputs.widget,
    format: 'esm',
    // The widget's stylesheet is bundled as a string and inserted by the view itself, so
    // one file (anywidget's _esm) carries everything, with nothing to fetch at run time.
    loader: { '.css': 'text' },
  }),
  // The BatchWidget's ES module, built the same way.
  esbuild.build({
    ...common,
    entryPoints: ['src/batch/index.js'],
    outfile: outputs.batch,
    format: 'esm',
    loader: { '.css': 'text' },
  }),
]);

for (const [name, file] of Object.entries(outputs)) {
  const { size } = await stat(file);
  console.log(`${name.padEnd(7)} ${path.relative(process.cwd(), file)}  ${(size / 1024).toFixed(1)} KiB`);
}
console.log(`built in ${Math.round(performance.now() - started)} ms${dev ? ' (dev)' : ''}`);
