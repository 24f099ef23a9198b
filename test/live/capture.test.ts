/**
 * Capture and replay on live processes (root): a helper group captured while `top --once --json` prints it,
 * checked against the kernel's smaps_rollup read around the run, then replayed as nobody after the group is
 * gone; the capture checked for command lines and for the helper's raw frame numbers (read from pagemap
 * here); and diff of two captures around a helper that grows by 64 MiB.
 */
import {
  chmodSync,
  closeSync,
  copyFileSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { readTar } from '../../src/capture/tar.js';
import { runCli } from '../helpers/cli.js';
import { readRollupKb, stableKernelReadings, ussKb } from '../helpers/kernel.js';
import { memhogTest } from '../helpers/memhog.js';
import { nobodyBin, runAsNobody } from '../helpers/nobody.js';
import { requireRoot } from '../helpers/require-root.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const PAGE = 4096;

interface Row {
  pid: number;
  rss: number;
  pss: number;
  uss: number;
  cmdline: string;
}
interface TopDoc {
  processes: Row[];
}

const live = requireRoot();

/** The PFNs of the present pages of [addr, addr + bytes) in `pid`, from its pagemap (root sees them). */
const rawPfns = (pid: number, addr: number, bytes: number): number[] => {
  const fd = openSync(`/proc/${pid}/pagemap`, 'r');
  try {
    const buf = Buffer.alloc((bytes / PAGE) * 8);
    readSync(fd, buf, 0, buf.length, (addr / PAGE) * 8);
    const pfns: number[] = [];
    for (let i = 0; i < buf.length; i += 8) {
      const hi = buf.readUInt32LE(i + 4);
      if ((hi & 0x8000_0000) !== 0) pfns.push(buf.readUInt32LE(i) + (hi & 0x7f_ffff) * 2 ** 32);
    }
    return pfns;
  } finally {
    closeSync(fd);
  }
};

/** The capture's entries, read with memusage's own checked reader. */
const captureEntries = (file: string): Map<string, Buffer> =>
  new Map(readTar(file, readFileSync(file)).map((e) => [e.name, e.data]));

/** First ordinals of every run in every proc/PID/pages table. */
const runStarts = (entries: Map<string, Buffer>): number[] => {
  const starts: number[] = [];
  for (const [name, data] of entries) {
    if (!name.endsWith('/pages')) continue;
    const word = (i: number) => data.readUInt32LE(i * 4);
    const at = 5 + word(0) * 3;
    for (let r = 0; r < word(1); r++) starts.push(word(at + r * 3));
  }
  return starts;
};

describe.skipIf(!live)('capture and replay on live processes (root)', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'memusage-live-capture-'));
    chmodSync(dir, 0o755);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  memhogTest(
    'a group captured while top --json prints it replays, as nobody after it is gone, to the same rss/pss/uss',
    async ({ memhog }) => {
      const shared = await memhog(['shared', '64', '3']);
      const anon = await memhog(['anon', '16']);
      const pids = [...shared.pids, ...anon.pids];
      const file = join(dir, 'group.tar.gz');
      const { before, result: r } = stableKernelReadings(pids, () =>
        runCli(['top', '--once', '--json', '-p', pids.join(','), '--capture', file, '--with-cmdline']),
      );
      expect(r.exitCode, r.stderr).toBe(0);
      const printed = JSON.parse(r.stdout) as TopDoc;
      expect(printed.processes.map((p) => p.pid).sort()).toEqual([...pids].sort());
      // What was printed is the kernel's own figure, read around the run.
      for (const p of printed.processes) {
        const k = before.get(p.pid)!.rollup;
        expect([p.rss, Math.floor(p.pss / KiB), p.uss], String(p.pid)).toEqual([
          k.Rss! * KiB,
          k.Pss,
          ussKb(k) * KiB,
        ]);
      }
      const pfns = rawPfns(shared.pid, Number(shared.addr), 64 * MiB);
      expect(pfns.length).toBe((64 * MiB) / PAGE);
      await shared.stop();
      await anon.stop();
      for (const pid of pids) expect(() => readRollupKb(pid)).toThrow();

      const copy = join(dir, 'group-copy.tar.gz');
      copyFileSync(file, copy);
      chmodSync(copy, 0o644);
      const again = runAsNobody(nobodyBin(), ['top', '--once', '--json', '--source', copy]);
      expect(again.exitCode, again.stderr).toBe(0);
      const replayed = JSON.parse(again.stdout) as TopDoc;
      const byPid = new Map(replayed.processes.map((p) => [p.pid, p]));
      for (const p of printed.processes) {
        const q = byPid.get(p.pid);
        expect(q, String(p.pid)).toBeDefined();
        expect([q!.rss, q!.pss, q!.uss], String(p.pid)).toEqual([p.rss, p.pss, p.uss]);
      }
      // With --with-cmdline every record is the same, to the byte.
      expect(JSON.stringify(replayed.processes)).toBe(JSON.stringify(printed.processes));
      // A table replays the same pages another way (no kpageflags: the reader skips PAGEMAP_SCAN for small
      // processes and reads their pagemap whole): the same numbers.
      const table = runAsNobody(nobodyBin(), [
        'top',
        '--once',
        '--bytes',
        '--no-totals',
        '--no-header',
        '-c',
        'pid,rss,pss,uss',
        '--source',
        copy,
      ]);
      expect(table.exitCode, table.stderr).toBe(0);
      const rows = table.stdout
        .trim()
        .split('\n')
        .map((l) => l.trim().split(/\s+/).map(Number))
        .sort((x, y) => x[0]! - y[0]!);
      const expected = printed.processes
        .map((p) => [p.pid, p.rss, Math.round(p.pss), p.uss])
        .sort((x, y) => x[0]! - y[0]!);
      expect(rows).toEqual(expected);

      // No run of the helper's raw frame numbers: ordinals only, far below them.
      const entries = captureEntries(file);
      const manifest = JSON.parse(entries.get('memusage-capture/manifest.json')!.toString()) as {
        frames: number;
      };
      const starts = runStarts(entries);
      const raw = new Set(pfns);
      expect(starts.filter((s) => raw.has(s))).toEqual([]);
      expect(starts.every((s) => s < manifest.frames || s === 0xffff_ffff)).toBe(true);
    },
  );

  memhogTest('without --with-cmdline the capture holds no command line', async ({ memhog }) => {
    const hog = await memhog(['anon', '4']);
    const file = join(dir, 'plain.tar.gz');
    const r = runCli(['top', '--once', '--json', '-p', String(hog.pid), '--capture', file]);
    expect(r.exitCode, r.stderr).toBe(0);
    const argv = readFileSync(`/proc/${hog.pid}/cmdline`);
    expect(argv.toString()).toContain('anon\u00004');
    const entries = captureEntries(file);
    for (const [name, data] of entries) expect(data.includes(argv), name).toBe(false);
    // The executable's base name stands in for it.
    const kept = entries.get(`memusage-capture/proc/${hog.pid}/cmdline`)!.toString();
    expect(kept).toMatch(/^run-[\d-]+\0$/);
  });

  memhogTest(
    'diff of two captures around a helper that grows by 64 MiB shows it first, +64 MiB',
    async ({ memhog }) => {
      const grow = await memhog(['grow', '64']);
      const steady = await memhog(['anon', '8']);
      const pids = `${grow.pid},${steady.pid}`;
      const a = join(dir, 'before.tar.gz');
      const b = join(dir, 'after.tar.gz');
      expect(runCli(['top', '--once', '--json', '-p', pids, '--capture', a]).exitCode).toBe(0);
      const rssBefore = readRollupKb(grow.pid).Rss!;
      process.kill(grow.pid, 'SIGUSR1');
      const deadline = Date.now() + 10_000;
      while (readRollupKb(grow.pid).Rss! < rssBefore + 64 * 1024 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // The region, and at most a few pages more (the signal's frame on the stack, though memhog faults
      // its stack in first).
      const grewKb = readRollupKb(grow.pid).Rss! - rssBefore;
      expect(grewKb).toBeGreaterThanOrEqual(64 * 1024);
      expect(grewKb).toBeLessThanOrEqual(64 * 1024 + 16);
      expect(runCli(['top', '--once', '--json', '-p', pids, '--capture', b]).exitCode).toBe(0);

      const r = runCli(['diff', a, b, '--json']);
      expect(r.exitCode, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as {
        processes: { pid: number; delta: { rss: number; pss: number; uss: number } }[];
      };
      expect(doc.processes[0]).toMatchObject({
        pid: grow.pid,
        delta: { rss: grewKb * KiB, uss: grewKb * KiB },
      });
      // PSS also moves by the shares of pages other processes map or unmap meanwhile (vdso): bytes.
      expect(Math.abs(doc.processes[0]!.delta.pss - grewKb * KiB)).toBeLessThan(4 * KiB);
      const text = runCli(['diff', a, b]);
      expect(text.stdout.split('\n')[3]).toMatch(
        new RegExp(`^${grow.pid} \\S+ +grew +\\+64\\.0M +\\+64\\.0M +\\+64\\.0M`),
      );
    },
  );
});
