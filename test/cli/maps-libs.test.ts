/** maps and libs through the real bin/memusage: exit codes, one-line errors, rows against pid and the kernel. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePid, runCli, stderrLines } from '../helpers/cli.js';
import { stableKernelReadings } from '../helpers/kernel.js';
import { memhogTest, TEST_CACHE_DIR } from '../helpers/memhog.js';
import { requireRoot } from '../helpers/require-root.js';

const root = requireRoot();
const MiB = 1024 * 1024;

describe('maps: bad input', () => {
  // The others are in test/unit/cli/usage-errors.test.ts (in process).
  it('maps without a PID → exit 2 and one stderr line', () => {
    const r = runCli(['maps']);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    const lines = stderrLines(r);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^memusage: /);
    expect(lines[0]).toMatch(/missing required argument 'pid'/);
  });
});

describe.skipIf(!root)('maps and libs on live processes (root)', () => {
  let dataDir = '';
  beforeAll(() => {
    mkdirSync(TEST_CACHE_DIR, { recursive: true });
    dataDir = mkdtempSync(join(TEST_CACHE_DIR, 'cli-maps-'));
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
});
