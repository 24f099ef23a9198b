/** maps, libs, shared and system through the real bin/memusage: exit codes, one-line errors, formats. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePid, runCli, stderrLines } from '../helpers/cli.js';
import { stableKernelReadings } from '../helpers/kernel.js';
import { memhogTest, TEST_CACHE_DIR } from '../helpers/memhog.js';
import { requireRoot } from '../helpers/require-root.js';

const root = requireRoot();
const MiB = 1024 * 1024;

describe('issue 5 commands: bad input', () => {
  it.each([
    // The others are in test/unit/cli/usage-errors.test.ts (in process).
    [['maps'], /missing required argument 'pid'/],
    [['shared', '1'], /shared needs at least two different PIDs/],
  ])('%j → exit 2 and one stderr line', (args, pattern) => {
    const r = runCli(args);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    const lines = stderrLines(r);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^memusage: /);
    expect(lines[0]).toMatch(pattern);
  });

  it('--help of each command documents it with examples', () => {
    for (const command of ['maps', 'libs', 'shared', 'system']) {
      const r = runCli([command, '--help']);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(/Examples:/);
      expect(r.stdout).toMatch(/--json/);
    }
  });
});

describe.skipIf(!root)('issue 5 commands on live processes (root)', () => {
  let dataDir = '';
  beforeAll(() => {
    mkdirSync(TEST_CACHE_DIR, { recursive: true });
    dataDir = mkdtempSync(join(TEST_CACHE_DIR, 'cli5-'));
  });
  afterAll(() => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('maps of a missing PID: exit 3, one line', () => {
    const pid = freePid();
    const r = runCli(['maps', String(pid)]);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(stderrLines(r)).toEqual([`memusage: no process with PID ${pid}`]);
  });

  memhogTest(
    'maps --json rows sum to the pid --json totals and the kernel, to the KiB',
    async ({ memhog }) => {
      const path = join(dataDir, 'f2');
      writeFileSync(path, Buffer.alloc(16 * MiB, 1));
      const hog = await memhog(['file2', path, '16']);
      const { before, result } = stableKernelReadings([hog.pid], () => ({
        maps: runCli(['maps', '--json', String(hog.pid)]),
        pid: runCli(['pid', '--json', String(hog.pid)]),
      }));
      expect(result.maps.exitCode).toBe(0);
      const doc = JSON.parse(result.maps.stdout) as {
        mappings: { name: string; pss: number; rss: number; mappings: number }[];
        total: { pss: number; rss: number };
      };
      const pidDoc = JSON.parse(result.pid.stdout) as { processes: { pss: number; rss: number }[] };
      const rollup = before.get(hog.pid)!.rollup;
      const sumPss = doc.mappings.reduce((n, m) => n + m.pss, 0);
      const sumRss = doc.mappings.reduce((n, m) => n + m.rss, 0);
      expect(sumPss).toBe(doc.total.pss);
      expect(sumRss).toBe(doc.total.rss);
      expect(Math.floor(sumPss / 1024)).toBe(Math.floor(pidDoc.processes[0]!.pss / 1024));
      expect(Math.floor(sumPss / 1024)).toBe(rollup.Pss);
      expect(sumRss).toBe(pidDoc.processes[0]!.rss);
      expect(doc.mappings.find((m) => m.name === path)).toMatchObject({
        mappings: 2,
        rss: 32 * MiB,
        pss: 16 * MiB,
      });
    },
  );

  memhogTest('a path with control characters is escaped in tables, raw in JSON', async ({ memhog }) => {
    const dir = join(dataDir, 'evil\u001b[31mred\u0007');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'lib.so');
    writeFileSync(path, Buffer.alloc(MiB, 2));
    const hog = await memhog(['file', path, '1']);
    const table = runCli(['maps', String(hog.pid)], { COLUMNS: '400' });
    expect(table.exitCode).toBe(0);
    expect(table.stdout).not.toMatch(/[\u0000-\u0008\u001b]/);
    expect(table.stdout).toContain('evil\\e[31mred\\x07/lib.so');
    const libs = runCli(['libs', '--detail', '--lib', 'evil'], { COLUMNS: '400' });
    expect(libs.stdout).not.toMatch(/[\u001b\u0007]/);
    expect(libs.stdout).toContain('evil\\e[31mred\\x07/lib.so');
    const json = JSON.parse(runCli(['maps', '--json', String(hog.pid)]).stdout) as {
      mappings: { name: string }[];
    };
    expect(json.mappings.map((m) => m.name)).toContain(path);
  });

  memhogTest('shared: a missing PID → exit 3, the others still measured', async ({ memhog }) => {
    const hog = await memhog(['cow', '8', '1']);
    const missing = freePid();
    const r = runCli(['shared', '--json', String(hog.pids[0]), String(hog.pids[1]), String(missing)]);
    expect(r.exitCode).toBe(3);
    expect(stderrLines(r)).toEqual([`memusage: no process with PID ${missing}`]);
    const doc = JSON.parse(r.stdout) as { pairs: { a: number; b: number; shared: number }[] };
    expect(doc.pairs).toHaveLength(1);
    // The 8 MiB copy-on-write region is mapped by both (plus their shared binary, under 1 MiB).
    expect(doc.pairs[0]!.shared).toBeGreaterThanOrEqual(8 * MiB);
    expect(doc.pairs[0]!.shared).toBeLessThan(9 * MiB);
    const csv = runCli(['shared', '--csv', String(hog.pids[0]), String(hog.pids[1])]);
    expect(csv.stdout.trim().split('\n')).toHaveLength(1 + 4);
  });

  it('system --json: parts sum to MemTotal and follow the documented formulas', () => {
    const r = runCli(['system', '--json']);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      memTotal: number;
      parts: { id: string; bytes: number }[];
      meminfo: { bytes: Record<string, number> };
      userspace: { pss: number; pssFile: number; pssShmem: number };
    };
    const m = doc.meminfo.bytes;
    const part = (id: string) => doc.parts.find((p) => p.id === id)!.bytes;
    expect(doc.memTotal).toBe(m.MemTotal);
    expect(doc.parts.reduce((n, p) => n + p.bytes, 0)).toBe(m.MemTotal);
    expect(part('cache.file')).toBe(m.Cached! + m.Buffers! - m.Shmem! - doc.userspace.pssFile);
    expect(part('cache.shmem')).toBe(m.Shmem! - doc.userspace.pssShmem);
    expect(part('free')).toBe(m.MemFree);
    expect(part('kernel.slab.unreclaimable')).toBe(m.SUnreclaim);
    const userspace = doc.parts.filter((p) => p.id.startsWith('user.')).reduce((n, p) => n + p.bytes, 0);
    expect(userspace).toBe(doc.userspace.pss);
  });
});
