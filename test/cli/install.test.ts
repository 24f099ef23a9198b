/**
 * The packed package installed as users install it: `npm install -g` on a Node laid out like nvm's,
 * volta's or the official tarball's (node in <prefix>/bin, its headers in <prefix>/include/node), with
 * /usr/include/node and node-gyp's header cache hidden in a private mount namespace, so the install
 * script can only find the headers next to the Node that runs it.
 *
 * npm resolves the package's dependencies again for a global install: their packuments come from npm's
 * cache when it has them (--prefer-offline) and from the registry otherwise (`npm ci` caches only
 * tarballs), so a fresh CI runner needs the registry here.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/memhog.js';
import { requireRoot } from '../helpers/require-root.js';

const HEADER = join('include', 'node', 'node_api.h');
/** Where this machine's Node is installed, and where node-gyp would cache downloaded headers. */
const machinePrefix = dirname(dirname(process.execPath));
const gypCache =
  process.env.npm_config_devdir ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'node-gyp');

/** This machine's headers for the running Node, wherever they are: the copy for the test's prefix. */
const machineHeaders = (): string => {
  const found = [machinePrefix, '/usr', join(gypCache, process.versions.node)].find((dir) =>
    existsSync(join(dir, HEADER)),
  );
  if (!found) throw new Error('no Node.js headers on this machine to lay out a test prefix with');
  return join(found, 'include', 'node');
};

/** Every place the install script looked for headers before it knew about <prefix>/include/node. */
const hiddenDirs = (): string[] =>
  [join(machinePrefix, 'include', 'node'), '/usr/include/node', gypCache].filter((dir, i, all) => {
    return existsSync(dir) && all.indexOf(dir) === i;
  });

/**
 * The environment of a user of that prefix: its bin first on PATH, nothing of the npm that runs vitest
 * (npm_* variables, node_modules/.bin and npm's node-gyp wrapper on PATH), and the user's npm config
 * without a `nodedir` (this VM's ~/.npmrc points it at /usr).
 */
const userEnv = (prefix: string, scratch: string): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {};
  // A user's environment: no npm_ variables of the test runner, and the addon not disabled (these tests
  // are about whether it is built, also where the suite runs with MEMUSAGE_NO_NATIVE=1).
  for (const [key, value] of Object.entries(process.env))
    if (!/^npm_/i.test(key) && key !== 'MEMUSAGE_NO_NATIVE') env[key] = value;
  const userConfig = process.env.npm_config_userconfig ?? join(homedir(), '.npmrc');
  const config = existsSync(userConfig) ? readFileSync(userConfig, 'utf8') : '';
  const npmrc = join(scratch, 'npmrc');
  writeFileSync(npmrc, config.replace(/^\s*nodedir\s*=.*$/gm, ''));
  return {
    ...env,
    PATH: [
      join(prefix, 'bin'),
      ...(process.env.PATH ?? '').split(':').filter((d) => !d.includes('node_modules')),
    ].join(':'),
    npm_config_userconfig: npmrc,
    // npm would read <prefix>/etc/npmrc, which the test prefix lacks: keep the machine's (registry, CA).
    npm_config_globalconfig: process.env.npm_config_globalconfig ?? join(machinePrefix, 'etc', 'npmrc'),
    NO_COLOR: '1',
  };
};

/** Run a command in a private mount namespace where `hidden` are empty directories. */
const runHidden = (
  command: readonly string[],
  hidden: readonly string[],
  env: NodeJS.ProcessEnv,
): SpawnSyncReturns<string> => {
  const script =
    'n=$1; shift; while [ "$n" -gt 0 ]; do mount -t tmpfs tmpfs "$1" || exit 99; shift; n=$((n-1)); done; exec "$@"';
  return spawnSync(
    'unshare',
    [
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      script,
      'sh',
      String(hidden.length),
      ...hidden,
      ...command,
    ],
    { encoding: 'utf8', env, timeout: 240_000 },
  );
};

/** A Node prefix like nvm's: this machine's node binary in bin/, its headers in include/node. */
const nvmLikePrefix = (scratch: string, name: string): string => {
  const prefix = join(scratch, name);
  mkdirSync(join(prefix, 'bin'), { recursive: true });
  copyFileSync(process.execPath, join(prefix, 'bin', 'node'));
  chmodSync(join(prefix, 'bin', 'node'), 0o755);
  cpSync(machineHeaders(), join(prefix, 'include', 'node'), { recursive: true });
  return prefix;
};

const stderrLines = (r: SpawnSyncReturns<string>): string[] => r.stderr.split('\n').filter((l) => l !== '');
const aboutAddon = (line: string): boolean => /addon/i.test(line);

describe.skipIf(!requireRoot())('npm install -g of the packed tarball on an nvm-style Node', () => {
  let scratch = '';
  let tarball = '';
  const hidden = hiddenDirs();

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'memusage-install-'));
    // dist/ as the test run built it (npm test builds first), without rebuilding it through prepare.
    const packed = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', scratch], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect(packed.status, packed.stderr).toBe(0);
    tarball = join(scratch, packed.stdout.trim().split('\n').at(-1) ?? '');
    expect(existsSync(tarball)).toBe(true);
  });
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const install = (prefix: string, env: NodeJS.ProcessEnv, ...flags: string[]) =>
    runHidden(
      [
        'npm',
        'install',
        '-g',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        ...flags,
        tarball,
      ],
      hidden,
      env,
    );
  const topOnce = (prefix: string, env: NodeJS.ProcessEnv) =>
    spawnSync(join(prefix, 'bin', 'memusage'), ['top', '--once'], { encoding: 'utf8', env, timeout: 60_000 });

  it('hides every other copy of the headers from the install', () => {
    const env = userEnv(nvmLikePrefix(scratch, 'probe'), scratch);
    const listed = runHidden(
      ['sh', '-c', 'for d in "$@"; do ls -A "$d"; done', 'sh', ...hidden],
      hidden,
      env,
    );
    expect([listed.status, listed.stdout, listed.stderr]).toEqual([0, '', '']);
  });

  it('builds the addon from the headers next to the Node that installs it', () => {
    const prefix = nvmLikePrefix(scratch, 'with-scripts');
    const env = userEnv(prefix, scratch);
    const installed = install(prefix, { ...env, MEMUSAGE_REQUIRE_NATIVE: '1' });
    expect(installed.status, installed.stdout + installed.stderr).toBe(0);
    expect(
      existsSync(join(prefix, 'lib', 'node_modules', 'memusage', 'build', 'Release', 'memusage_native.node')),
    ).toBe(true);
    const top = topOnce(prefix, env);
    expect(top.status).toBe(0);
    expect(stderrLines(top).filter(aboutAddon)).toEqual([]);
  }, 240_000);

  it('without install scripts, says so in one line naming a command that builds the addon', () => {
    const prefix = nvmLikePrefix(scratch, 'ignore-scripts');
    const env = userEnv(prefix, scratch);
    const installed = install(prefix, env, '--ignore-scripts');
    expect(installed.status, installed.stdout + installed.stderr).toBe(0);
    const top = topOnce(prefix, env);
    expect(top.status).toBe(0);
    // One message per line: every line is memusage's own, and one of them is about the addon.
    const lines = stderrLines(top);
    expect(lines.filter((l) => !l.startsWith('memusage: '))).toEqual([]);
    const about = lines.filter(aboutAddon);
    expect(about).toHaveLength(1);
    // The command it names works from anywhere (here: the filesystem root), with the headers still hidden.
    const command = /\bnode (\/\S+)/.exec(about[0] ?? '');
    expect(command, about[0]).not.toBeNull();
    const built = runHidden(['sh', '-c', 'cd / && exec node "$1"', 'sh', command?.[1] ?? ''], hidden, env);
    expect(built.status, built.stdout + built.stderr).toBe(0);
    const after = topOnce(prefix, env);
    expect(after.status).toBe(0);
    expect(stderrLines(after).filter(aboutAddon)).toEqual([]);
  }, 240_000);
});
