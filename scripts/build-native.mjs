// Builds the optional PAGEMAP_SCAN addon (native/pagemap_scan.c) from package.json's "install" script.
// The addon only makes sparse mappings fast, so a failed build is one warning and exit 0, unless
// MEMUSAGE_REQUIRE_NATIVE=1 (CI), where it is an error. Nothing is ever downloaded.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WARNING =
  'memusage: native PAGEMAP_SCAN addon not built; sparse mappings will be read page by page (slower)';
const NPM_BUNDLED_NODE_GYP = '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js';
const root = fileURLToPath(new URL('..', import.meta.url));

const isExecutable = (file) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

// npm puts its bundled node-gyp on PATH only for lifecycle scripts; a direct `node scripts/build-native.mjs`
// finds the same node-gyp through npm_config_node_gyp or npm's install location.
const findNodeGyp = (env) => {
  const onPath = (env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, 'node-gyp'))
    .find(isExecutable);
  if (onPath) return [onPath];
  const script = [env.npm_config_node_gyp, NPM_BUNDLED_NODE_GYP].find((file) => file && existsSync(file));
  return script ? [process.execPath, script] : undefined;
};

// Without a nodedir, node-gyp downloads headers; use headers already on disk or do not build at all.
const headerArgs = (env) => {
  if (env.npm_config_nodedir) return []; // node-gyp reads it from the environment itself
  if (existsSync('/usr/include/node/node_api.h')) return ['--nodedir=/usr'];
  const devdir = env.npm_config_devdir ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'node-gyp');
  if (existsSync(join(devdir, process.versions.node, 'include', 'node', 'node_api.h'))) return [];
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
    createRequire(import.meta.url)('../build/Release/pagemap_scan.node');
  } catch (error) {
    return `built addon does not load: ${error instanceof Error ? error.message : String(error)}`;
  }
  return undefined;
};

const required = process.env.MEMUSAGE_REQUIRE_NATIVE === '1';
if (process.platform === 'linux' || required) {
  const reason = build(process.env);
  if (reason !== undefined) {
    process.stderr.write(`${WARNING} [${reason}]\n`);
    process.exitCode = required ? 1 : 0;
  }
}
