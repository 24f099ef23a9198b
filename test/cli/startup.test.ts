/**
 * How bin/memusage starts: the bundle compiled from the code cache `npm run build` made (V8 must accept
 * it, or every run pays for compiling), and still working when the cache is stale or missing.
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

/** bin/memusage with its last line replaced, so the script reports on its own Script instead of running. */
const probe = (bin: string): string => {
  const source = readFileSync(bin, 'utf8').replace(
    'await cli.exports.main();',
    'process.stdout.write(String(script.cachedDataRejected));',
  );
  const file = join(bin, '..', 'probe.mjs');
  writeFileSync(file, source);
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8' });
  rmSync(file);
  return r.stdout;
};

describe('bin/memusage start-up', () => {
  it('compiles the bundle from a code cache that V8 accepts', () => {
    expect(probe(BIN)).toBe('false');
  });

  it('still runs, compiling as usual, when the cache is corrupt or missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'memusage-startup-'));
    copies.push(dir);
    for (const part of ['bin', 'dist/bundle', 'package.json'])
      cpSync(join(REPO_ROOT, part), join(dir, part), { recursive: true });
    const bin = join(dir, 'bin', 'memusage');
    writeFileSync(join(dir, 'dist', 'bundle', 'memusage.cache'), Buffer.alloc(4096, 7));
    expect(probe(bin)).toBe('true');
    let r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    expect([r.status, r.stdout.trim(), r.stderr]).toEqual([0, VERSION, '']);
    rmSync(join(dir, 'dist', 'bundle', 'memusage.cache'));
    r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    expect([r.status, r.stdout.trim(), r.stderr]).toEqual([0, VERSION, '']);
  });

  it('gets an accepted cache back from scripts/code-cache.cjs, as an installed package does at install', () => {
    const dir = mkdtempSync(join(tmpdir(), 'memusage-startup-'));
    copies.push(dir);
    for (const part of ['bin', 'dist/bundle', 'package.json'])
      cpSync(join(REPO_ROOT, part), join(dir, part), { recursive: true });
    const cache = join(dir, 'dist', 'bundle', 'memusage.cache');
    writeFileSync(cache, Buffer.alloc(4096, 7));
    const bin = join(dir, 'bin', 'memusage');
    expect(probe(bin)).toBe('true');
    const made = spawnSync(process.execPath, [
      join(REPO_ROOT, 'scripts', 'code-cache.cjs'),
      join(dir, 'dist', 'bundle', 'memusage.cjs'),
      cache,
    ]);
    expect(made.status).toBe(0);
    expect(probe(bin)).toBe('false');
  });
});
