/**
 * How bin/memusage starts: the bundle compiled from the code cache `npm run build` made (V8 must accept
 * it, or every run pays for compiling), never from a cache made for other contents, and still working
 * when the cache is stale, corrupt or missing.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/memhog.js';

const VERSION = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version as string;
const copies: string[] = [];
afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/**
 * bin/memusage with its last step replaced, so the script reports on its own Script instead of running:
 * "false" (cache accepted), "true" (given but rejected by V8) or "undefined" (no cache given).
 */
const probe = (bin: string): string => {
  const source = readFileSync(bin, 'utf8').replace(
    '  await cli.exports.main();',
    '  process.stdout.write(String(script.cachedDataRejected));',
  );
  const file = join(bin, '..', 'probe.mjs');
  writeFileSync(file, source);
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8' });
  rmSync(file);
  return r.stdout;
};

/** Make the code cache of a bundle, as `npm run build` and the install script do. */
const makeCache = (bundle: string, cache: string): void => {
  const made = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'code-cache.cjs'), bundle, cache]);
  expect(made.status).toBe(0);
};

/** A copy of what bin/memusage loads, in a fresh directory, with the cache made for the copy. */
const copyCli = () => {
  const dir = mkdtempSync(join(tmpdir(), 'memusage-startup-'));
  copies.push(dir);
  for (const part of ['bin', 'dist/bundle', 'package.json'])
    cpSync(join(REPO_ROOT, part), join(dir, part), { recursive: true });
  const cli = {
    bin: join(dir, 'bin', 'memusage'),
    bundle: join(dir, 'dist', 'bundle', 'memusage.cjs'),
    cache: join(dir, 'dist', 'bundle', 'memusage.cache'),
  };
  makeCache(cli.bundle, cli.cache);
  return cli;
};

const version = (bin: string) => {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return [r.status, r.stdout.trim(), r.stderr];
};

describe('bin/memusage start-up', () => {
  it('compiles the bundle from a code cache that V8 accepts', () => {
    expect(probe(BIN)).toBe('false');
  });

  it('never runs a cache made for other contents of the bundle, even of the same length', () => {
    const cli = copyCli();
    expect(probe(cli.bin)).toBe('false');
    const bundle = readFileSync(cli.bundle, 'utf8');
    const edited = bundle.replace(`.version("${VERSION}")`, `.version("${'9'.repeat(VERSION.length)}")`);
    expect(edited.length).toBe(bundle.length);
    expect(edited).not.toBe(bundle);
    writeFileSync(cli.bundle, edited);
    expect(probe(cli.bin)).toBe('undefined');
    expect(version(cli.bin)).toEqual([0, '9'.repeat(VERSION.length), '']);
  });

  it('still runs, compiling as usual, when the cache is corrupt, rejected by V8 or missing', () => {
    const cli = copyCli();
    const cache = readFileSync(cli.cache);
    writeFileSync(cli.cache, Buffer.alloc(4096, 7));
    expect(probe(cli.bin)).toBe('undefined');
    expect(version(cli.bin)).toEqual([0, VERSION, '']);
    // Its own header, but V8 data that is not V8's.
    writeFileSync(cli.cache, Buffer.concat([cache.subarray(0, 24), Buffer.alloc(4096, 7)]));
    expect(probe(cli.bin)).toBe('true');
    expect(version(cli.bin)).toEqual([0, VERSION, '']);
    rmSync(cli.cache);
    expect(version(cli.bin)).toEqual([0, VERSION, '']);
  });

  it('gets an accepted cache back from scripts/code-cache.cjs, as an installed package does at install', () => {
    const cli = copyCli();
    writeFileSync(cli.cache, Buffer.alloc(4096, 7));
    expect(probe(cli.bin)).toBe('undefined');
    makeCache(cli.bundle, cli.cache);
    expect(probe(cli.bin)).toBe('false');
  });

  it('hides NODE_EXTRA_CA_CERTS from its own Node with plain sh, and works when run as `node bin/memusage`', () => {
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: '/some dir/extra.pem' };
    const script =
      'process.stdout.write(JSON.stringify([process.env.NODE_EXTRA_CA_CERTS ?? null, process.env.MEMUSAGE_NODE_EXTRA_CA_CERTS ?? null]))';
    const cli = copyCli();
    // The bin's own sh line, ending in a node that prints what it was given instead of memusage.
    const shLine = readFileSync(cli.bin, 'utf8').split('\n')[1]!;
    expect(shLine.startsWith("':' //;")).toBe(true);
    const r = spawnSync('sh', ['-c', shLine.replace('exec node "$0" "$@"', `exec node -e '${script}'`)], {
      encoding: 'utf8',
      env,
    });
    expect(JSON.parse(r.stdout)).toEqual([null, '/some dir/extra.pem']);
    const direct = spawnSync(process.execPath, [cli.bin, '--version'], { encoding: 'utf8' });
    expect([direct.status, direct.stdout.trim()]).toEqual([0, VERSION]);
  });
});
