// Bundles the CLI (dist/cli/main.js as tsc wrote it, with commander and execa) into one CommonJS file,
// dist/bundle/memusage.cjs, and compiles it into a V8 code cache, dist/bundle/memusage.cache, which
// bin/memusage hands to vm.Script. On the reference VM, Node's ES module loader and V8's lazy compilation
// of ~100 modules cost 60-90 ms of every run, as much as the kernel's share of a whole `top --once`.
// The cache is made by the Node that builds, for the Node that runs: V8 rejects a cache from another
// version or other flags, and bin/memusage then compiles the bundle as usual. Nothing is written at run
// time. The library (dist/index.js) is not bundled: importers get tsc's files and types.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bundle`;
const bundle = `${outdir}/memusage.cjs`;

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [`${root}dist/cli/main.js`],
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outfile: bundle,
  // CommonJS has no import.meta: the one use (the addon's path, src/native/addon.ts) gets the bundle's
  // own URL. dist/bundle/ sits two levels below the package like dist/native/, so the path still resolves.
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});

// Without NODE_OPTIONS: V8 flags in it would make a cache that V8 rejects under a plain `node`.
const { NODE_OPTIONS: _, ...env } = process.env;
const cache = spawnSync(
  process.execPath,
  [`${root}scripts/code-cache.cjs`, bundle, `${outdir}/memusage.cache`],
  {
    stdio: 'inherit',
    env,
  },
);
if (cache.status !== 0) process.exit(cache.status ?? 1);
