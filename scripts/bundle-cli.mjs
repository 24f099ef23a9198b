// Bundles the CLI (dist/cli/main.js, as tsc wrote it, and commander) into dist/bundle/ for bin/memusage.
// Loading ~100 small ES modules costs Node 40-50 ms of a `memusage top --once` on the reference VM; a few
// chunks cost a fraction of that. Code splitting keeps each command's modules in chunks loaded only when
// that command runs. The library (dist/index.js) is not bundled: importers get tsc's files and types.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bundle`;

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { main: `${root}dist/cli/main.js` },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir,
  // commander is CommonJS and calls require(); an ES module has none of its own.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  // Two directories below the package root, like dist/native/: the addon path relative to import.meta.url
  // (src/native/pagemap-scan.ts) resolves the same from both.
  chunkNames: 'chunk-[hash]',
  logLevel: 'warning',
});
