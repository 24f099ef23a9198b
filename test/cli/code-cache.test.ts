/**
 * The start-up's code cache: bin/load-bundle.cjs (Node without module.enableCompileCache) against small
 * bundles of its own, and bin/memusage in a copy of the package laid out as installed. Also what the
 * bundle loads at start-up: commander's node:child_process only when a subcommand is spawned.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/memhog.js';

const LOADER = join(REPO_ROOT, 'bin', 'load-bundle.cjs');
const { cacheFileFor } = createRequire(import.meta.url)(LOADER) as {
  cacheFileFor: (bundle: string, cacheDir: string) => string;
};

interface Loaded {
  value: string;
  cacheUsed: boolean;
  /** Whether it offered to write a cache, and what writing gave (null: not offered). */
  wrote: boolean | null;
}

/**
 * loadBundle in a Node of its own, as bin/memusage calls it: within one process V8 compiles the same
 * source once (its in-memory cache), so a second load there would never look at the file.
 */
const loadBundle = (bundle: string, cacheDir: string): Loaded => {
  const script = `const l = require(${JSON.stringify(LOADER)}).loadBundle(${JSON.stringify(bundle)}, ${JSON.stringify(cacheDir)});
process.stdout.write(JSON.stringify({ value: l.exports.value(), cacheUsed: l.cacheUsed, wrote: l.writeCache ? l.writeCache() : null }));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Loaded;
};

/** A bundle with enough functions that V8's cache of it is more than a header. */
const bundleSource = (value: string): string =>
  `${Array.from({ length: 50 }, (_, i) => `const f${i} = (x) => x + ${i};`).join('\n')}
module.exports.value = () => ${JSON.stringify(value)} + f1(0) + require('node:path').basename(__filename);
`;

describe('bin/load-bundle.cjs', () => {
  let dir = '';
  let bundle = '';
  let cacheDir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'memusage-code-cache-'));
    bundle = join(dir, 'bundle.cjs');
    cacheDir = join(dir, 'cache');
    writeFileSync(bundle, bundleSource('a'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the cache when there is none, and compiles from it the next time', () => {
    expect(loadBundle(bundle, cacheDir)).toEqual({ value: 'a1bundle.cjs', cacheUsed: false, wrote: true });
    expect(existsSync(cacheFileFor(bundle, cacheDir))).toBe(true);
    expect(loadBundle(bundle, cacheDir)).toEqual({ value: 'a1bundle.cjs', cacheUsed: true, wrote: null });
  });

  it('runs the bundle as without a cache when V8 rejects the file, and leaves the file be', () => {
    expect(loadBundle(bundle, cacheDir).wrote).toBe(true);
    const file = cacheFileFor(bundle, cacheDir);
    const damaged = Buffer.alloc(readFileSync(file).length, 0x5a);
    writeFileSync(file, damaged);
    expect(loadBundle(bundle, cacheDir)).toEqual({ value: 'a1bundle.cjs', cacheUsed: false, wrote: null });
    expect(readFileSync(file).equals(damaged)).toBe(true);
  });

  it('never takes the cache of an earlier build of the same length (V8 checks only the length)', () => {
    expect(loadBundle(bundle, cacheDir).wrote).toBe(true);
    writeFileSync(bundle, bundleSource('b'));
    const later = new Date(Date.now() + 5_000);
    utimesSync(bundle, later, later);
    expect(loadBundle(bundle, cacheDir)).toEqual({ value: 'b1bundle.cjs', cacheUsed: false, wrote: true });
  });

  it('runs without a cache where the cache directory cannot be made', () => {
    writeFileSync(cacheDir, 'a file where the directory would be');
    expect(loadBundle(bundle, cacheDir)).toEqual({ value: 'a1bundle.cjs', cacheUsed: false, wrote: false });
    expect(readdirSync(dir).sort()).toEqual(['bundle.cjs', 'cache']);
  });
});

describe('bin/memusage start-up', () => {
  it('writes a code cache inside the package on its first run', () => {
    // A copy of the package as installed: bin/ and the bundle (the addon and node_modules are not needed
    // for --version), so that the worktree's own cache is left alone.
    const pkg = mkdtempSync(join(tmpdir(), 'memusage-package-'));
    try {
      mkdirSync(join(pkg, 'bin'));
      mkdirSync(join(pkg, 'dist', 'bundle'), { recursive: true });
      for (const file of ['memusage', 'load-bundle.cjs', 'package.json'])
        copyFileSync(join(REPO_ROOT, 'bin', file), join(pkg, 'bin', file));
      copyFileSync(
        join(REPO_ROOT, 'dist', 'bundle', 'memusage.cjs'),
        join(pkg, 'dist', 'bundle', 'memusage.cjs'),
      );
      const bin = join(pkg, 'bin', 'memusage');
      const version = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version as string;
      const cache = join(pkg, 'dist', 'bundle', '.compile-cache');
      for (let run = 0; run < 2; run++) {
        const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
        expect([r.status, r.stdout.trim(), r.stderr]).toEqual([0, version, '']);
        expect(readdirSync(cache).length).toBeGreaterThan(0);
      }
    } finally {
      rmSync(pkg, { recursive: true, force: true });
    }
  });

  it("loads commander without node:child_process, which no command's start needs", () => {
    const hook =
      'data:text/javascript,' +
      encodeURIComponent(
        "process.on('exit', () => process.stderr.write(JSON.stringify(process.moduleLoadList.filter((m) => /^NativeModule child_process$/.test(m)))))",
      );
    const r = spawnSync(BIN, ['--version'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: `--import=${hook}` },
    });
    expect([r.status, JSON.parse(r.stderr)]).toEqual([0, []]);
  });
});
