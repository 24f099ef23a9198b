/**
 * `memusage maps` and `libs` without root (as nobody, via setpriv), on a process nobody started: rows from
 * the kernel's /proc/PID/smaps, labelled as such, summing to its smaps_rollup to the KiB, in the columns the
 * pagemap engine gives as root.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { memhogPath, TEST_CACHE_DIR } from '../helpers/memhog.js';
import { AS_NOBODY, nobodyBin, removeNobodyCopy, runAsNobody } from '../helpers/nobody.js';
import { requireRoot } from '../helpers/require-root.js';

interface SmapsBlock {
  start: number;
  end: number;
  perms: string;
  offset: number;
  name: string;
  kb: Record<string, number>;
}

/** The test's own reading of smaps: header lines and "Key: N kB" lines, nothing else. */
const readSmapsOf = (pid: number): SmapsBlock[] => {
  const blocks: SmapsBlock[] = [];
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'latin1').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) \S+ \d+ *(.*)$/.exec(line);
    if (head) {
      blocks.push({
        start: Number.parseInt(head[1]!, 16),
        end: Number.parseInt(head[2]!, 16),
        perms: head[3]!,
        offset: Number.parseInt(head[4]!, 16),
        name: head[5]!,
        kb: {},
      });
      continue;
    }
    const field = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (field && blocks.length > 0) blocks.at(-1)!.kb[field[1]!] = Number(field[2]);
  }
  // The gate VMA is listed by smaps but is not in the process's mm (smaps_rollup and VmSize leave it out).
  return blocks.filter((b) => b.name !== '[vsyscall]');
};

const readRollupOf = (pid: number): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1').split('\n')) {
    const field = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (field) out[field[1]!] = Number(field[2]);
  }
  return out;
};

/** Smaps and rollup read before and after `run`: the helper is idle, so they must not have moved. */
const bracket = <T>(pid: number, run: () => T) => {
  const before = { smaps: readSmapsOf(pid), rollup: readRollupOf(pid) };
  const result = run();
  const after = { smaps: readSmapsOf(pid), rollup: readRollupOf(pid) };
  expect(after, 'the helper changed while memusage ran').toEqual(before);
  return { ...before, result };
};

const KIB = 1024;
const sumKb = (blocks: readonly SmapsBlock[], ...keys: string[]) =>
  blocks.reduce((n, b) => n + keys.reduce((m, k) => m + (b.kb[k] ?? 0), 0), 0) * KIB;

type Row = Record<string, number | string | null>;
interface MapsDoc {
  engine: string;
  engineReason: string;
  notes: string[];
  process: { pid: number; user: string; source: string; rss: number; pss: number } | null;
  mappings: Row[];
  total: Row;
}
const SIZE_KEYS = ['vss', 'rss', 'pss', 'uss', 'swap', 'anon', 'thp', 'hugetlb'];

describe.skipIf(!requireRoot())('maps and libs as an unprivileged user (setpriv to nobody)', () => {
  let helper: ChildProcess;
  let pid: number;
  let binary: string;

  beforeAll(async () => {
    // nobody's own memhog: 1 MiB of shared anonymous memory (shmem) touched by it and two forked children,
    // so PSS has fractions that per-mapping flooring loses. A private, static copy of the binary: nothing
    // it maps is mapped by memusage, whose start would otherwise move its PSS while the test reads it.
    binary = join(TEST_CACHE_DIR, `nobody-${process.pid}`);
    copyFileSync(memhogPath(), binary);
    chmodSync(binary, 0o755);
    helper = spawn('setpriv', [...AS_NOBODY, binary, 'shared', '1', '2'], {
      cwd: '/',
      detached: true,
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    pid = await new Promise<number>((resolve, reject) => {
      let out = '';
      helper.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('\n')) resolve((JSON.parse(out) as { pids: number[] }).pids[0]!);
      });
      helper.once('error', reject);
    });
    expect(pid).toBe(helper.pid);
  });

  afterAll(() => {
    if (helper.pid !== undefined) process.kill(-helper.pid, 'SIGKILL');
    rmSync(binary, { force: true });
    removeNobodyCopy();
  });

  it('maps --all --json: one row per smaps block, its fields, summing to smaps_rollup to the KiB', () => {
    const bin = nobodyBin();
    const {
      smaps,
      rollup,
      result: r,
    } = bracket(pid, () => runAsNobody(bin, ['maps', '--all', '--json', String(pid)]));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout) as MapsDoc;
    expect(doc.engine).toBe('smaps');
    expect(doc.engineReason).toMatch(/kpagecount is not readable \(needs root\)/);
    expect(doc.engineReason).toMatch(/\/proc\/PID\/smaps, the kernel's own per-mapping PSS/);
    expect(doc.engineReason).toMatch(/USS is Private_Clean \+ Private_Dirty/);
    expect(doc.process).toMatchObject({ pid, user: 'nobody', source: 'smaps' });

    const rows = doc.mappings;
    expect(rows.map((m) => [m.start, m.end, m.perms, m.offset, m.name])).toEqual(
      smaps.map((b) => [b.start, b.end, b.perms, b.offset, b.name === '' ? '[anon]' : b.name]),
    );
    smaps.forEach((b, i) => {
      const row = rows[i]!;
      const k = (key: string) => (b.kb[key] ?? 0) * KIB;
      expect(row, b.name).toMatchObject({
        vss: b.end - b.start,
        rss: k('Rss'),
        uss: k('Private_Clean') + k('Private_Dirty'),
        swap: k('Swap'),
        anon: k('Anonymous'),
        thp: k('AnonHugePages'),
        hugetlb: k('Shared_Hugetlb') + k('Private_Hugetlb'),
        zeroPage: null,
      });
      // The kernel floors each mapping's PSS to the KiB; memusage gives back what that lost, at most 1 KiB.
      expect(row.pss as number, b.name).toBeGreaterThanOrEqual(k('Pss'));
      expect(row.pss as number, b.name).toBeLessThanOrEqual(k('Pss') + KIB);
      // Only anon pages: smaps can tell they are neither file nor shmem.
      if (k('Rss') === k('Anonymous')) expect([row.file, row.shmem, row.pssAnon]).toEqual([0, 0, row.pss]);
      // Shared anonymous memory is shmem the kernel names: all its non-anon pages are shmem.
      if (b.name === '/dev/zero (deleted)') {
        expect([row.file, row.shmem, row.pssShmem]).toEqual([0, k('Rss') - k('Anonymous'), row.pss]);
      }
    });
    expect(smaps.filter((b) => b.name === '/dev/zero (deleted)').map((b) => b.kb.Rss)).toEqual([1024]);
    // The per-mapping floors lost something here (pages shared by three), so the test covers the hand-back.
    expect(sumKb(smaps, 'Pss')).toBeLessThan(rollup.Pss! * KIB);

    const sum = (key: string) => rows.reduce((n, m) => n + (m[key] as number), 0);
    for (const key of SIZE_KEYS) expect(sum(key), key).toBe(doc.total[key]);
    expect(doc.total).toMatchObject({
      rss: rollup.Rss! * KIB,
      pss: rollup.Pss! * KIB,
      uss: (rollup.Private_Clean! + rollup.Private_Dirty!) * KIB,
      swap: rollup.Swap! * KIB,
      anon: rollup.Anonymous! * KIB,
      pssAnon: rollup.Pss_Anon! * KIB,
      vss: Number(/VmSize:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))![1]) * KIB,
    });
    expect(doc.process).toMatchObject({ rss: doc.total.rss, pss: doc.total.pss });
  });

  it('maps by name: rows group the blocks of one name and still sum to the rollup; the table says smaps', () => {
    const bin = nobodyBin();
    const { smaps, rollup, result } = bracket(pid, () => ({
      json: runAsNobody(bin, ['maps', '--json', String(pid)]),
      table: runAsNobody(bin, ['maps', String(pid)]),
    }));
    const doc = JSON.parse(result.json.stdout) as MapsDoc;
    const names = new Set(smaps.map((b) => (b.name === '' ? '[anon]' : b.name)));
    expect(doc.mappings.map((m) => m.name).sort()).toEqual([...names].sort());
    for (const row of doc.mappings) {
      const mine = smaps.filter((b) => (b.name === '' ? '[anon]' : b.name) === row.name);
      expect(row.mappings).toBe(mine.length);
      expect(row.rss).toBe(sumKb(mine, 'Rss'));
      expect(row.uss).toBe(sumKb(mine, 'Private_Clean', 'Private_Dirty'));
    }
    expect(doc.mappings.reduce((n, m) => n + (m.pss as number), 0)).toBe(rollup.Pss! * KIB);

    const { table } = result;
    expect(table.exitCode, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^\s*MAPS\s+VSS\s+RSS\s+PSS\s+USS\s+SWAP\s+ANON\s+FILE\s+SHMEM\s+MAPPING$/m);
    expect(table.stdout).toMatch(/ TOTAL$/m);
    const lines = table.stderr.split('\n').filter((l) => l !== '');
    expect(lines[0]).toMatch(
      /^memusage: smaps engine: \/proc\/kpagecount is not readable \(needs root\), so the values come from \/proc\/PID\/smaps/,
    );
    expect(lines.slice(1).every((l) => l.startsWith('memusage: note: '))).toBe(true);
  });

  it('same columns as the pagemap engine as root; the two agree on what both see exactly', () => {
    const bin = nobodyBin();
    const { result } = bracket(pid, () => ({
      smaps: runAsNobody(bin, ['maps', '--all', '--json', String(pid)]),
      pagemap: runCli(['maps', '--all', '--json', String(pid)]),
    }));
    const smapsDoc = JSON.parse(result.smaps.stdout) as MapsDoc;
    const pagemapDoc = JSON.parse(result.pagemap.stdout) as MapsDoc;
    expect(pagemapDoc.engine).toBe('pagemap');
    const keys = (rows: Row[]) => [...new Set(rows.flatMap((m) => Object.keys(m)))].sort();
    expect(keys(smapsDoc.mappings)).toEqual(keys(pagemapDoc.mappings));
    expect(Object.keys(smapsDoc.total).sort()).toEqual(Object.keys(pagemapDoc.total).sort());
    // Resident, anon and swapped pages per mapping are facts both read; PSS and USS may differ (the kernel's
    // smaps counts a large folio mapped twice as shared, kpagecount per page).
    const pick = (m: Row) => [m.start, m.end, m.vss, m.rss, m.anon, m.swap];
    expect(smapsDoc.mappings.map(pick)).toEqual(pagemapDoc.mappings.map(pick));
    // null only where smaps cannot tell: zero page, file vs shmem, PSS by kind.
    const unknown = new Set(smapsDoc.mappings.flatMap((m) => Object.keys(m).filter((k) => m[k] === null)));
    for (const k of unknown)
      expect(['zeroPage', 'file', 'shmem', 'pssAnon', 'pssFile', 'pssShmem']).toContain(k);
  });

  it('--flags needs page flags: exit 1 and one line', () => {
    const r = runAsNobody(nobodyBin(), ['maps', '--flags', String(pid)]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      'memusage: maps --flags needs the pagemap engine (page flags): /proc/kpagecount is not readable (needs root)',
    ]);
  });

  it("libs --detail --json: the helper's files from its smaps, grouped per file; only nobody's processes", () => {
    const bin = nobodyBin();
    const { smaps, result: r } = bracket(pid, () => runAsNobody(bin, ['libs', '--detail', '--json']));
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      engine: string;
      engineReason: string;
      files: {
        path: string;
        processes: number;
        rss: number | null;
        mappedRss: number;
        pss: number;
        uss: number;
        users: {
          pid: number;
          user: string;
          mappings: number;
          vss: number;
          rss: number;
          pss: number;
          uss: number;
        }[];
      }[];
    };
    expect(doc.engine).toBe('smaps');
    expect(doc.engineReason).toMatch(/\/proc\/PID\/smaps/);
    for (const f of doc.files) for (const u of f.users) expect(u.user).toBe('nobody');

    const paths = new Set(smaps.filter((b) => b.name.startsWith('/')).map((b) => b.name));
    const mine = doc.files.filter((f) => f.users.some((u) => u.pid === pid));
    expect(mine.map((f) => f.path).sort()).toEqual([...paths].sort());
    for (const f of mine) {
      const blocks = smaps.filter((b) => b.name === f.path);
      const u = f.users.find((x) => x.pid === pid)!;
      expect(u, f.path).toMatchObject({
        mappings: blocks.length,
        vss: blocks.reduce((n, b) => n + b.end - b.start, 0),
        rss: sumKb(blocks, 'Rss'),
        uss: sumKb(blocks, 'Private_Clean', 'Private_Dirty'),
      });
      expect(u.pss).toBeGreaterThanOrEqual(sumKb(blocks, 'Pss'));
      expect(u.pss).toBeLessThanOrEqual(sumKb(blocks, 'Pss') + blocks.length * KIB);
      expect(f.mappedRss).toBe(f.users.reduce((n, x) => n + x.rss, 0));
      // Distinct pages only where smaps can tell: one process, its mappings over disjoint parts of the file.
      if (f.rss !== null) expect([f.processes, f.rss]).toEqual([1, u.rss]);
    }
    // The binary is mapped by memhog and its two children: its distinct pages cannot be told.
    const text = mine.find((f) => f.path === binary);
    expect(text?.processes).toBe(3);
    expect(text?.rss).toBeNull();
    // The shared anonymous memory is shmem, which the kernel names: smaps can say so.
    const shmem = doc.files.find(
      (f) => f.path === '/dev/zero (deleted)' && f.users.some((u) => u.pid === pid),
    );
    expect(shmem?.processes).toBe(3);
  });
});
