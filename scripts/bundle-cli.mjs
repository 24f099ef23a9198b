// Bundles the CLI (dist/cli/main.js as tsc wrote it, with commander and execa) into one CommonJS file,
// dist/bundle/memusage.cjs, which bin/memusage requires. On the reference VM, Node's ES module loader
// and ~100 separate modules cost 60-90 ms of every run, as much as the kernel's share of a whole
// `top --once`. The library (dist/index.js) is not bundled: importers get tsc's files and types.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bundle`;
const bundle = `${outdir}/memusage.cjs`;

/**
 * commander requires node:child_process at load, only to run executable subcommands, which memusage has
 * none of; loading it (with net, dgram and their dependencies) was about 5 ms of every start-up. commander
 * gets an object whose spawn loads the module when called.
 */
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer)
        ? { path: 'child_process', namespace: 'lazy-for-commander' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-for-commander' }, () => ({
      contents: "module.exports = { spawn: (...args) => require('node:child_process').spawn(...args) };",
      loader: 'js',
    }));
  },
};

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
  // Only `serve` and `export` read YAML and check bcrypt hashes: loaded from node_modules when they run,
  // rather than parsed by every command's start-up (about 30 ms of Node 20's, measured).
  external: ['yaml', 'bcryptjs'],
  plugins: [lazyChildProcessForCommander],
});

// The code cache of the bundle (bin/load-bundle.cjs on Node 20, Node's compile cache on 22.1+) is written
// by the first run with every function compiled by then: let that run be a snapshot, the work start-up
// matters most for, rather than whatever the user runs first. Through bin/memusage itself, since V8
// takes a cache only under the flags it was made with. Its output and exit status do not matter.
spawnSync(`${root}bin/memusage`, ['top', '--once'], { stdio: 'ignore', timeout: 60_000 });
