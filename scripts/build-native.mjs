// Builds the optional native addon, build/Release/memusage_native.node (native/*.c: the PAGEMAP_SCAN ioctl,
// the per-page loops and the batched /proc reads), and memusage-launch (native/launcher.c: `run`'s ptrace
// launcher, an executable beside it; without it `run` only samples), from package.json's "install" script. Everything in it
// has a TypeScript fallback, so there a failed build is one warning and exit 0, unless
// MEMUSAGE_REQUIRE_NATIVE=1 (CI). Nothing is ever downloaded.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { staleNativeSources } from './native-stale.mjs';

const WARNING =
  'memusage: native addon not built; memusage works without it, slower (sparse mappings are read page by page)';
const root = fileURLToPath(new URL('..', import.meta.url));
// Where this Node is installed: bin/node's parent. Official tarballs, nvm, volta, n and Debian's package
// (/usr) all keep the headers in <prefix>/include/node and npm in <prefix>/lib/node_modules/npm.
const nodePrefix = dirname(dirname(process.execPath));
const bundledNodeGyp = (npmRoot) => join(npmRoot, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');

const isExecutable = (file) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

const onPath = (env, name) =>
  (env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, name))
    .filter(isExecutable);

/** npm's own directory from an `npm` on PATH (a link to <npm>/bin/npm-cli.js), if it resolves to one. */
const npmRootOf = (npm) => {
  try {
    return dirname(dirname(realpathSync(npm)));
  } catch {
    return undefined;
  }
};

// Under npm (install scripts, npm rebuild) npm_config_node_gyp names npm's own node-gyp. A direct
// `node scripts/build-native.mjs` takes a node-gyp on PATH, else the one of the npm next to this Node
// or of the npm on PATH.
const findNodeGyp = (env) => {
  if (env.npm_config_node_gyp && existsSync(env.npm_config_node_gyp))
    return [process.execPath, env.npm_config_node_gyp];
  const [gyp] = onPath(env, 'node-gyp');
  if (gyp) return [gyp];
  const script = [
    bundledNodeGyp(join(nodePrefix, 'lib', 'node_modules', 'npm')),
    ...onPath(env, 'npm').map(npmRootOf).filter(Boolean).map(bundledNodeGyp),
  ].find((file) => existsSync(file));
  return script ? [process.execPath, script] : undefined;
};

const hasHeaders = (prefix) => existsSync(join(prefix, 'include', 'node', 'node_api.h'));

// Without a nodedir, node-gyp downloads headers; use headers already on disk or do not build at all.
// This Node's own headers first; /usr/include/node (Debian's libnode-dev) may belong to another Node,
// which is fine for N-API, so it comes after node-gyp's cache for this exact version.
const headerArgs = (env) => {
  if (env.npm_config_nodedir) return []; // node-gyp reads it from the environment itself
  if (hasHeaders(nodePrefix)) return [`--nodedir=${nodePrefix}`];
  const devdir = env.npm_config_devdir ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'node-gyp');
  if (existsSync(join(devdir, process.versions.node, 'include', 'node', 'node_api.h'))) return [];
  if (hasHeaders('/usr')) return ['--nodedir=/usr'];
  return undefined;
};

/** Build and load-check the addon; the reason it failed, or undefined. */
const build = (env) => {
  if (process.platform !== 'linux') return 'PAGEMAP_SCAN is Linux-only';
  const nodeGyp = findNodeGyp(env);
  if (!nodeGyp) return 'node-gyp not found';
  const headers = headerArgs(env);
  if (!headers) return 'no Node.js headers on disk and downloading them is not allowed; set nodedir';
  const [command, ...prefix] = nodeGyp;
  const result = spawnSync(command, [...prefix, 'rebuild', ...headers], { cwd: root, stdio: 'inherit', env });
  if (result.error) return `${command}: ${result.error.message}`;
  if (result.status !== 0) return `node-gyp rebuild failed (${result.status ?? result.signal})`;
  // A build that links but cannot be dlopen()ed would otherwise only show up at run time.
  try {
    createRequire(import.meta.url)('../build/Release/memusage_native.node');
  } catch (error) {
    const [line] = (error instanceof Error ? error.message : String(error)).split('\n');
    return `built addon does not load: ${line}`;
  }
  if (!isExecutable(join(root, 'build', 'Release', 'memusage-launch'))) return 'memusage-launch not built';
  return undefined;
};

// --if-stale (from `npm run build`): rebuild only an addon older than its sources (an edit or a pull past a
// native change after `npm ci`); a missing one is the install's business, and a failure is a warning.
const ifStale = process.argv.includes('--if-stale');
const stale = ifStale ? staleNativeSources(root) : [];
// From npm's install script a failed build must not fail the install; run by hand (the command memusage
// names when the addon is missing), or with MEMUSAGE_REQUIRE_NATIVE=1 (CI), it is an error.
const required =
  process.env.MEMUSAGE_REQUIRE_NATIVE === '1' || (process.env.npm_lifecycle_event !== 'install' && !ifStale);
if (ifStale && stale.length > 0)
  process.stderr.write(`memusage: rebuilding the native addon (${stale.join(', ')} changed)\n`);
if ((process.platform === 'linux' || required) && (!ifStale || stale.length > 0)) {
  const reason = build(process.env);
  if (reason !== undefined) {
    process.stderr.write(`${WARNING} [${reason}]\n`);
    process.exitCode = required ? 1 : 0;
  }
}
