/**
 * capture, --source and diff through the real bin/memusage, over a synthetic proc root (MEMUSAGE_PROC_ROOT):
 * what a capture holds and hides, that every view replays it to the same records, and that a damaged or
 * newer capture is refused with one line. The live counterpart is test/live/capture.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, stderrLines } from '../helpers/cli.js';
import { KPF, PAGE, ProcTree, type WrittenTree } from '../helpers/proc-tree.js';

const ANON = [KPF.UPTODATE, KPF.LRU, KPF.MMAP, KPF.ANON, KPF.SWAPBACKED];
const SHMEM = [KPF.UPTODATE, KPF.LRU, KPF.MMAP, KPF.SWAPBACKED];
const FILE = [KPF.UPTODATE, KPF.LRU, KPF.MMAP];
const HEAP = 0x0100_0000;
const SHARED = 0x7f00_0000_0000;
const LIB = 0x7f10_0000_0000;
const STACK = 0x7ffc_0000_0000;
const SECRET = 'hunter2-secret';
const LIB_PATH = '/srv/project-zebra/lib/libzebra.so';

/**
 * db 300..302 map 16 shared frames (count 4, with 303) in the same order and a library of 8 file pages;
 * each has private heap pages, 301 `extra` more (a later capture where 301 grew). Frames are large,
 * scattered PFNs, so a capture that kept them would show them.
 */
const tree = (extra = 0): ProcTree => {
  const t = new ProcTree();
  const shared = (i: number) => 900_000 + i * 37;
  for (let i = 0; i < 16; i++) t.frame(shared(i), { count: 4, flags: SHMEM });
  for (let i = 0; i < 8; i++) t.frame(700_000 + i * 5, { count: 3, flags: FILE });
  for (let p = 0; p < 4; p++)
    for (let i = 0; i < 8; i++) t.frame(500_000 + p * 1000 + i * 3, { count: 1, flags: ANON });
  for (let pid = 300; pid <= 303; pid++) {
    const p = pid - 300;
    const proc = t.process(pid, {
      comm: pid === 303 ? 'web' : 'db',
      cmdline: [pid === 303 ? '/usr/bin/web' : '/usr/bin/db', `--password=${SECRET}`],
      startTime: 1000 + pid,
    });
    proc
      .vma({ start: SHARED, end: SHARED + 16 * PAGE, perms: 'rw-s', name: '/dev/shm/pool' })
      .pages(SHARED, 16, (i) => ({ pfn: shared(i), file: true }));
    if (pid < 303) {
      proc
        .vma({ start: LIB, end: LIB + 8 * PAGE, perms: 'r-xp', name: LIB_PATH, inode: 42, dev: '08:01' })
        .pages(LIB, 8, (i) => ({ pfn: 700_000 + i * 5, file: true }));
    }
    // A stack whose top pages are not present: pagemap still has entries (zeros) up to its end.
    t.frames(600_000 + p * 1000, 2, { count: 1, flags: ANON });
    proc
      .vma({ start: STACK, end: STACK + 8 * PAGE, name: '[stack]' })
      .pages(STACK, 2, (i) => ({ pfn: 600_000 + p * 1000 + i }));
    const own = 4 + (pid === 301 ? extra : 0);
    proc
      .vma({ start: HEAP, end: HEAP + 16 * PAGE, name: '[heap]' })
      .pages(HEAP, own, (i) => ({ pfn: 500_000 + p * 1000 + i * 3 }));
  }
  return t;
};

let dir = '';
let live: WrittenTree;
let grown: WrittenTree;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'memusage-capture-test-'));
  live = tree().write();
  grown = tree(4).write();
});
afterAll(() => {
  live?.cleanup();
  grown?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const onTree = (w: WrittenTree, args: string[]) => runCli(args, { MEMUSAGE_PROC_ROOT: w.root });
const capture = (w: WrittenTree, name: string, extra: string[] = []) => {
  const file = join(dir, name);
  const r = onTree(w, ['top', '--once', '--json', '--capture', file, ...extra]);
  expect(r.exitCode, r.stderr).toBe(0);
  return {
    file,
    printed: JSON.parse(r.stdout) as { processes: Record<string, unknown>[] },
    stderr: r.stderr,
  };
};
/** Every entry of a capture's tar, by name (tar itself lists and extracts). */
const entries = (file: string): Map<string, Buffer> => {
  const out = join(dir, `x-${Math.random().toString(36).slice(2)}`);
  mkdirSync(out);
  execFileSync('tar', ['xzf', file, '-C', out]);
  const names = execFileSync('tar', ['tzf', file], { encoding: 'utf8' })
    .split('\n')
    .filter((n) => n && !n.endsWith('/'));
  return new Map(names.map((n) => [n, readFileSync(join(out, n))]));
};
const noSourceEnv = { MEMUSAGE_PROC_ROOT: '/nonexistent-proc' };
const replay = (args: string[]) => runCli(args, noSourceEnv);

describe('memusage capture and --source (synthetic proc root)', () => {
  it('top --once --json --capture: a .tar.gz tar lists, mode 0600, a note on stderr, the same records replayed', () => {
    const { file, printed, stderr } = capture(live, 'a.tar.gz', ['--with-cmdline']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(stderr).toMatch(/wrote .*a\.tar\.gz \(4 processes, .* mode 0600\): it holds other users'/);
    const names = execFileSync('tar', ['tzf', file], { encoding: 'utf8' }).split('\n');
    expect(names[0]).toBe('memusage-capture/manifest.json');
    expect(names).toContain('memusage-capture/proc/301/pages');
    expect(names).toContain('memusage-capture/frames/counts');
    // No /proc to read (the env points nowhere): the records come from the capture alone, to the byte.
    const r = replay(['top', '--once', '--json', '--source', file]);
    expect(r.exitCode, r.stderr).toBe(0);
    const again = JSON.parse(r.stdout) as { processes: unknown[]; totals: unknown; takenAt: string };
    expect(JSON.stringify(again.processes)).toBe(JSON.stringify(printed.processes));
    expect(again.totals).toEqual((printed as unknown as { totals: unknown }).totals);
    expect(stderrLines(r).some((l) => l.includes(`note: replayed from ${file}`))).toBe(true);
    // On a machine without the native addon (the TypeScript loops): the same records.
    const plain = runCli(['top', '--once', '--json', '--source', file], {
      ...noSourceEnv,
      MEMUSAGE_NO_NATIVE: '1',
    });
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(JSON.stringify((JSON.parse(plain.stdout) as { processes: unknown[] }).processes)).toBe(
      JSON.stringify(printed.processes),
    );
  });

  it('pid, maps, libs and shared replay a capture to what they print on the tree it came from', () => {
    const { file } = capture(live, 'views.tar.gz', ['--with-cmdline']);
    const drop = (text: string) => {
      const doc = JSON.parse(text) as Record<string, unknown>;
      delete doc.notes;
      delete doc.takenAt;
      return doc;
    };
    for (const args of [
      ['pid', '--json', '300', '301'],
      ['maps', '--json', '301'],
      ['libs', '--json'],
      ['shared', '--json', '300', '303'],
      ['top', '--once', '--json', '--by', 'command'],
      ['top', '--once', '--bytes', '-c', 'pid,rss,pss,uss,swap,command'],
    ]) {
      const a = onTree(live, args);
      const b = replay([...args, '--source', file]);
      expect(a.exitCode, a.stderr).toBe(0);
      expect(b.exitCode, b.stderr).toBe(0);
      if (args.includes('--json')) expect(drop(b.stdout), args.join(' ')).toEqual(drop(a.stdout));
      else expect(b.stdout, args.join(' ')).toBe(a.stdout);
    }
  });

  it('no command line without --with-cmdline, never a raw frame number; pages are runs of ordinals', () => {
    const plain = entries(capture(live, 'plain.tar.gz').file);
    const all = Buffer.concat([...plain.values()]);
    expect(all.includes(SECRET)).toBe(false);
    expect(plain.get('memusage-capture/proc/300/cmdline')?.toString()).toBe('db\0');
    const withArgs = entries(capture(live, 'args.tar.gz', ['--with-cmdline']).file);
    expect(withArgs.get('memusage-capture/proc/300/cmdline')?.toString()).toContain(SECRET);
    // Ordinals 0..N-1 in first-seen order: 300 meets its 4 heap, 16 shared, 8 library, 2 stack frames first.
    const manifest = JSON.parse(plain.get('memusage-capture/manifest.json')!.toString()) as {
      frames: number;
    };
    const pages = (pid: number) => {
      const b = plain.get(`memusage-capture/proc/${pid}/pages`)!;
      return Array.from({ length: b.length / 4 }, (_, i) => b.readUInt32LE(i * 4));
    };
    const runsOf = (t: number[]) => {
      const [vmas, runs] = [t[0]!, t[1]!];
      const at = 5 + vmas * 3;
      return Array.from({ length: runs }, (_, r) => t.slice(at + r * 3, at + r * 3 + 2));
    };
    // Mappings in address order (heap, shared, library); the shared region is one run for every process
    // that maps it in the same order.
    expect(runsOf(pages(300))).toEqual([
      [0, 4],
      [4, 16],
      [20, 8],
      [28, 2],
    ]);
    expect(runsOf(pages(302))[1]).toEqual([4, 16]);
    expect(manifest.frames).toBe(16 + 8 + 4 * (4 + 2) + 1); // + the zero page's ordinal
    for (const t of [300, 301, 302, 303].map(pages))
      for (const [first] of runsOf(t)) expect(first).toBeLessThan(manifest.frames);
  });

  it('--redact-paths: a mapped file becomes a stable hash plus its base name', () => {
    const a = entries(capture(live, 'r1.tar.gz', ['--redact-paths']).file);
    const b = entries(capture(live, 'r2.tar.gz', ['--redact-paths']).file);
    const maps = a.get('memusage-capture/proc/300/maps')!.toString();
    expect(maps).not.toContain('project-zebra');
    const line = maps.split('\n').find((l) => l.endsWith('/libzebra.so'))!;
    expect(line).toMatch(/ \/redacted\/[0-9a-f]{12}\/libzebra\.so$/);
    expect(b.get('memusage-capture/proc/300/maps')!.toString()).toBe(maps);
  });

  it('a newer format is refused, a truncated or altered capture is an error: one line, exit 1, no numbers', () => {
    const { file } = capture(live, 'good.tar.gz');
    const raw = readFileSync(file);
    const tar = gunzipSync(raw);
    // manifest.json is the first entry: its data block starts at 512.
    const text = tar.subarray(512, 512 + 2048).toString('latin1');
    const at = 512 + text.indexOf('"version": 1');
    expect(at).toBeGreaterThan(512);
    const newer = Buffer.from(tar);
    newer.write('"version": 9', at, 'latin1');
    const bad: [string, Buffer, RegExp][] = [
      ['newer.tar.gz', gzipSync(newer), /capture format 9 is newer than this memusage reads \(1\)/],
      ['cut.tar.gz', raw.subarray(0, Math.floor(raw.length / 2)), /truncated or corrupt/],
      [
        'flip.tar.gz',
        Buffer.concat([raw.subarray(0, 200), Buffer.from([raw[200]! ^ 0xff]), raw.subarray(201)]),
        /truncated or corrupt/,
      ],
    ];
    // A well-formed archive whose pages table points past the frame tables: checked, not replayed.
    const pagesAt = tar.indexOf('memusage-capture/proc/300/pages');
    const body = pagesAt + 512;
    const vmas = tar.readUInt32LE(body);
    const outside = Buffer.from(tar);
    outside.writeUInt32LE(0x7fff_0000, body + (5 + vmas * 3) * 4);
    bad.push([
      'outside.tar.gz',
      gzipSync(outside),
      /corrupt capture \(process 300: a run outside the frame table\)/,
    ]);
    for (const [name, data, message] of bad) {
      const path = join(dir, name);
      writeFileSync(path, data);
      const r = replay(['top', '--once', '--json', '--source', path]);
      expect(r.exitCode, name).toBe(1);
      expect(r.stdout, name).toBe('');
      expect(stderrLines(r), name).toHaveLength(1);
      expect(stderrLines(r)[0], name).toMatch(message);
    }
  });

  it('--capture without page frames, or privacy options without --capture: one line', () => {
    const t = new ProcTree();
    t.process(400, { comm: 'x' }).vma({ start: HEAP, end: HEAP + PAGE });
    const w = t.withoutKpageFiles().write();
    try {
      const r = onTree(w, ['top', '--once', '--json', '--capture', join(dir, 'never.tar.gz')]);
      expect(r.exitCode).toBe(1);
      expect(stderrLines(r)).toEqual([
        expect.stringMatching(/^memusage: --capture needs the pagemap engine, which cannot run here: /),
      ]);
      expect(() => statSync(join(dir, 'never.tar.gz'))).toThrow();
    } finally {
      w.cleanup();
    }
    // Nothing measured (the PID does not exist): no capture file, one line saying so, pid's own exit 3.
    const none = onTree(live, ['pid', '999', '--capture', join(dir, 'empty.tar.gz')]);
    expect(none.exitCode).toBe(3);
    expect(stderrLines(none)).toContain(
      `memusage: nothing was measured: ${join(dir, 'empty.tar.gz')} not written`,
    );
    expect(() => statSync(join(dir, 'empty.tar.gz'))).toThrow();
    const r = onTree(live, ['top', '--once', '--with-cmdline']);
    expect(r.exitCode).toBe(2);
    expect(stderrLines(r)).toEqual(['memusage: --with-cmdline applies to a capture: add --capture FILE']);
  });

  it('wss, run, --watch and the live view refuse --source with one line', () => {
    const { file } = capture(live, 'refuse.tar.gz');
    for (const args of [
      ['wss', '--source', file, '1'],
      ['run', '--source', file, '--', 'true'],
      ['top', '--watch', '1', '--source', file],
    ]) {
      const r = replay(args);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(stderrLines(r), args.join(' ')).toHaveLength(1);
      expect(stderrLines(r)[0]).toMatch(/--source/);
    }
  });

  it('diff of two captures: the process that grew first, by exactly what it grew', () => {
    const a = capture(live, 'before.tar.gz').file;
    const b = capture(grown, 'after.tar.gz').file;
    const r = replay(['diff', a, b, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      processes: { pid: number; change: string; delta: { rss: number; pss: number; uss: number } }[];
      groups: { key: string; delta: { rss: number } }[];
    };
    expect(doc.processes).toHaveLength(1);
    expect(doc.processes[0]).toMatchObject({
      pid: 301,
      change: 'grew',
      delta: { rss: 4 * PAGE, pss: 4 * PAGE, uss: 4 * PAGE },
    });
    expect(doc.groups[0]).toMatchObject({ key: 'db', delta: { rss: 4 * PAGE } });
    const text = replay(['diff', a, b]);
    expect(text.stdout.split('\n')[3]).toMatch(/^301 db +grew +\+16\.0K +\+16\.0K +\+16\.0K/);
  });
});

describe('--source with smem captures: the smaps method, labelled', () => {
  /** smem's layout: PID/smaps, PID/stat, PID/cmdline, meminfo. */
  const smemDir = (): string => {
    const root = mkdtempSync(join(dir, 'smem-'));
    const smaps = (rss: number, pss: number, priv: number) =>
      `00400000-00500000 r-xp 00000000 08:01 42 /usr/bin/x\nSize: 1024 kB\nRss: ${rss} kB\nPss: ${pss} kB\nShared_Clean: ${rss - priv} kB\nShared_Dirty: 0 kB\nPrivate_Clean: 0 kB\nPrivate_Dirty: ${priv} kB\nSwap: 0 kB\nSwapPss: 0 kB\n`;
    for (const [pid, rss, pss, priv] of [
      [10, 100, 60, 40],
      [11, 200, 150, 120],
    ] as const) {
      mkdirSync(join(root, 'proc', String(pid)), { recursive: true });
      const p = join(root, 'proc', String(pid));
      writeFileSync(
        join(p, 'smaps'),
        smaps(rss, pss, priv) + smaps(rss, pss, priv).replace('00400000-00500000', '00600000-00700000'),
      );
      writeFileSync(
        join(p, 'stat'),
        `${pid} (x${pid}) S 1 ${pid} ${pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 ${500 + pid} 0 0\n`,
      );
      writeFileSync(join(p, 'cmdline'), `x${pid}\0`);
    }
    writeFileSync(join(root, 'proc', 'meminfo'), 'MemTotal:       1000000 kB\n');
    return root;
  };

  it('a DIR/proc/PID/smaps tree and the same as a tar replay as smaps sums, labelled smem', () => {
    const root = smemDir();
    const tarFile = join(dir, 'smem.tar');
    // smem names a process's user from its directory's owner in the tar (uid and name).
    execFileSync('tar', ['cf', tarFile, '--owner=dbuser:4242', '-C', join(root, 'proc'), '.']);
    for (const source of [root, tarFile]) {
      const r = replay(['top', '--once', '--json', '--source', source]);
      expect(r.exitCode, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as {
        engineReason: string;
        processes: { pid: number; rss: number; pss: number; uss: number; user: string; uid: number }[];
      };
      if (source === tarFile)
        expect(doc.processes.map((p) => [p.uid, p.user])).toEqual([
          [4242, 'dbuser'],
          [4242, 'dbuser'],
        ]);
      expect(doc.engineReason).toMatch(/^smaps method: an smem capture/);
      const rows = doc.processes.map((p) => [p.pid, p.rss, p.pss, p.uss]).sort((x, y) => x[0]! - y[0]!);
      expect(rows).toEqual([
        [10, 200 * 1024, 120 * 1024, 80 * 1024],
        [11, 400 * 1024, 300 * 1024, 240 * 1024],
      ]);
    }
  });
});
