/**
 * How bin/memusage starts: on every Node that package.json's `engines` admits, with NODE_EXTRA_CA_CERTS
 * hidden from its own Node, and with Node's compile cache (22.1+) kept inside the package, never in
 * the shared default under /tmp.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { REPO_ROOT, TEST_CACHE_DIR } from '../helpers/memhog.js';

const PACKAGE = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  engines: { node: string };
};

/**
 * The oldest Node that `engines` admits, as the npm registry ships it (the node-linux-<arch> packages
 * hold the official binaries): fetched once into the test cache, through npm's cache when it has it.
 */
const oldestAdmittedNode = (): string => {
  const version = /^>=\s*(\d+\.\d+\.\d+)$/.exec(PACKAGE.engines.node)?.[1];
  if (!version) throw new Error(`engines.node is not ">=X.Y.Z": ${PACKAGE.engines.node}`);
  const dir = join(TEST_CACHE_DIR, `node-${version}-${process.platform}-${process.arch}`);
  const node = join(dir, 'package', 'bin', 'node');
  if (existsSync(node)) return node;
  mkdirSync(dir, { recursive: true });
  const spec = `node-${process.platform}-${process.arch}@${version}`;
  const packed = spawnSync('npm', ['pack', '--prefer-offline', '--pack-destination', dir, spec], {
    encoding: 'utf8',
  });
  if (packed.status !== 0) throw new Error(`npm pack ${spec}: ${packed.stderr}`);
  const tarball = join(dir, packed.stdout.trim().split('\n').at(-1) ?? '');
  const untar = spawnSync('tar', ['xzf', tarball, '-C', dir, 'package/bin/node'], { encoding: 'utf8' });
  if (untar.status !== 0) throw new Error(`tar: ${untar.stderr}`);
  rmSync(tarball);
  return node;
};

describe('bin/memusage start-up', () => {
  it('starts on the oldest Node that engines admits, commands that run others included', () => {
    const node = oldestAdmittedNode();
    const env = { ...process.env, PATH: `${join(node, '..')}:${process.env.PATH ?? ''}`, NO_COLOR: '1' };
    const which = spawnSync('sh', ['-c', 'node --version'], { encoding: 'utf8', env });
    expect(which.stdout.trim()).toBe(`v${/\d+\.\d+\.\d+/.exec(PACKAGE.engines.node)?.[0]}`);
    const version = spawnSync(BIN, ['--version'], { encoding: 'utf8', env });
    expect([version.status, version.stdout.trim(), version.stderr]).toEqual([0, PACKAGE.version, '']);
    const top = spawnSync(BIN, ['top', '--once', '--json'], { encoding: 'utf8', env, timeout: 60_000 });
    expect(top.status, top.stderr).toBe(0);
    expect(JSON.parse(top.stdout).processes.length).toBeGreaterThan(0);
    // `run` starts the command through execa, which needs Node 20.5's events.addAbortListener.
    const run = spawnSync(BIN, ['run', '--', 'sh', '-c', 'exit 3'], {
      encoding: 'utf8',
      env,
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(3);
  }, 240_000);

  it("gives Node's compile cache a directory inside the package", () => {
    // Node 20 has no module.enableCompileCache: a preload puts a stub in its place that records its argument.
    const dir = join(TEST_CACHE_DIR, `startup-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    const preload = join(dir, 'preload.cjs');
    const out = join(dir, 'cache-dir');
    writeFileSync(
      preload,
      `require('node:module').enableCompileCache = (dir) => require('node:fs').writeFileSync(${JSON.stringify(out)}, String(dir));`,
    );
    try {
      const r = spawnSync(BIN, ['--version'], {
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: `--require ${preload}` },
      });
      expect([r.status, r.stdout.trim()]).toEqual([0, PACKAGE.version]);
      expect(existsSync(out)).toBe(true);
      expect(readFileSync(out, 'utf8').startsWith(`${join(REPO_ROOT, 'dist')}/`)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hides NODE_EXTRA_CA_CERTS from its own Node with plain sh, and works when run as `node bin/memusage`', () => {
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: '/some dir/extra.pem' };
    const script =
      'process.stdout.write(JSON.stringify([process.env.NODE_EXTRA_CA_CERTS ?? null, process.env.MEMUSAGE_NODE_EXTRA_CA_CERTS ?? null]))';
    // The bin's own sh line, ending in a node that prints what it was given instead of memusage.
    const shLine = readFileSync(BIN, 'utf8').split('\n')[1]!;
    expect(shLine.startsWith("':' //;")).toBe(true);
    const node = /exec node( --\S+)* "\$0" "\$@"$/;
    expect(shLine).toMatch(node);
    const r = spawnSync('sh', ['-c', shLine.replace(node, `exec node -e '${script}'`)], {
      encoding: 'utf8',
      env,
    });
    expect(JSON.parse(r.stdout)).toEqual([null, '/some dir/extra.pem']);
    const direct = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' });
    expect([direct.status, direct.stdout.trim()]).toEqual([0, PACKAGE.version]);
  });

  it("starts its Node with a young generation of 2 MiB semi-spaces (V8's default grows to 16), no memory reducer", () => {
    const hook =
      'data:text/javascript,' +
      encodeURIComponent("process.on('exit', () => process.stderr.write(JSON.stringify(process.execArgv)))");
    const r = spawnSync(BIN, ['--version'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: `--import=${hook}` },
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stderr)).toContain('--max-semi-space-size=2');
    // and without V8's memory reducer (full collections after going idle: serve and run idle all the time).
    expect(JSON.parse(r.stderr)).toContain('--no-memory-reducer');
  });
});
