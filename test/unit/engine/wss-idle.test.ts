/**
 * The idle-page method against a fixture bitmap (this kernel has no CONFIG_IDLE_PAGE_TRACKING): a regular
 * file stands in for /sys/kernel/mm/page_idle/bitmap, and the test plays the kernel by clearing the bits
 * of the pages it "touched" between mark and read.
 */
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Capabilities } from '../../../src/engine/capabilities.js';
import { EngineUnavailableError } from '../../../src/engine/errors.js';
import { chooseWssMethod, WorkingSetTracker } from '../../../src/engine/wss.js';
import { PAGE, ProcTree, type WrittenTree } from '../../helpers/proc-tree.js';

const CAPS: Capabilities = {
  frames: true,
  framesReason: 'fixture',
  // Fixture kpagecount files are small; every frame the tests use lies below this.
  frameCount: 2 ** 31,
  scanner: undefined,
  scannerReason: 'fixture',
};
const A = 0x7f00_0000_0000;
const F = 0x5600_0000_0000;
const BITMAP_BYTES = 1024; // PFNs 0..8191

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const sysRoot = (): { root: string; bitmap: string } => {
  const root = mkdtempSync(join(tmpdir(), 'memusage-sys-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'kernel/mm/page_idle'), { recursive: true });
  const bitmap = join(root, 'kernel/mm/page_idle/bitmap');
  writeFileSync(bitmap, Buffer.alloc(BITMAP_BYTES));
  return { root, bitmap };
};

const bitSet = (bytes: Buffer, pfn: number): boolean => (bytes[pfn >> 3]! & (1 << (pfn & 7))) !== 0;

/** 16 anon pages at PFN 1000.., 2 zero-page mappings (count 0), 4 file pages at PFN 5000... */
const fixture = (): WrittenTree => {
  const tree = new ProcTree();
  tree
    .frames(1000, 16, { count: 1 })
    .frame(1500, { count: 1 })
    .frame(7, { count: 0 })
    .frames(5000, 4, { count: 2 })
    .maxPfn(8192);
  const p = tree.process(300, { comm: 'idler' });
  p.vma({ start: A, end: A + 32 * PAGE }).pages(A, 16, (i) => ({ pfn: 1000 + i }));
  p.vmas[0]!.pages(A + 16 * PAGE, 2, () => ({ pfn: 7 }));
  p.vma({ start: F, end: F + 4 * PAGE, inode: 42, dev: '08:01', name: '/usr/lib/libfixture.so' }).pages(
    F,
    4,
    (i) => ({
      pfn: 5000 + i,
      file: true,
    }),
  );
  const written = tree.write();
  cleanups.push(written.cleanup);
  return written;
};

/** Write one pagemap entry, as if the process faulted a page in after the window began. */
const mapPage = (tree: WrittenTree, pid: number, va: number, pfn: number) => {
  const fd = openSync(tree.path(pid, 'pagemap'), 'r+');
  const entry = Buffer.alloc(8);
  entry.writeBigUInt64LE((1n << 63n) | BigInt(pfn));
  writeSync(fd, entry, 0, 8, (va / PAGE) * 8);
  closeSync(fd);
};

describe('idle page method (fixture bitmap)', () => {
  it('marks exactly the process frames idle, then counts cleared bits and new pages as touched', () => {
    const tree = fixture();
    const sys = sysRoot();
    const tracker = new WorkingSetTracker({
      procRoot: tree.root,
      sysRoot: sys.root,
      method: 'idle',
      scope: 'all',
      caps: CAPS,
    });
    expect(tracker.begin([300])).toEqual([]);
    const marked = readFileSync(sys.bitmap);
    const setPfns = [...Array(BITMAP_BYTES * 8).keys()].filter((pfn) => bitSet(marked, pfn));
    const expected = [7, ...Array.from({ length: 16 }, (_, i) => 1000 + i), 5000, 5001, 5002, 5003];
    expect(setPfns).toEqual(expected);

    // The "kernel": pages 1000..1004 and file page 5001 were accessed, so their idle bits are cleared.
    const after = Buffer.from(marked);
    for (const pfn of [1000, 1001, 1002, 1003, 1004, 5001]) after[pfn >> 3]! &= ~(1 << (pfn & 7));
    writeFileSync(sys.bitmap, after);
    // And one more page was faulted in during the window (never marked: it is new, so it was touched).
    mapPage(tree, 300, A + 20 * PAGE, 1500);

    const { processes, skipped } = tracker.read();
    tracker.close();
    expect(skipped).toEqual([]);
    const p = processes[0]!;
    expect(p.name).toBe('idler');
    expect(p.anon).toBe(6 * PAGE); // 5 accessed + 1 new
    expect(p.file).toBe(1 * PAGE);
    expect(p.wss).toBe(7 * PAGE);
    expect(p.rss).toBe(21 * PAGE); // 16 + 1 new + 4 file; the two zero-page mappings are not memory
    expect(p.maps.map((m) => [m.kind, m.wss, m.rss])).toEqual([
      ['file', PAGE, 4 * PAGE],
      ['anon', 6 * PAGE, 17 * PAGE],
    ]);
  });

  it('--anon scope marks and counts only anonymous mappings', () => {
    const tree = fixture();
    const sys = sysRoot();
    const tracker = new WorkingSetTracker({
      procRoot: tree.root,
      sysRoot: sys.root,
      method: 'idle',
      scope: 'anon',
      caps: CAPS,
    });
    tracker.begin([300]);
    const marked = readFileSync(sys.bitmap);
    expect(bitSet(marked, 5000)).toBe(false);
    expect(bitSet(marked, 1000)).toBe(true);
    const p = tracker.read().processes[0]!;
    tracker.close();
    expect([p.wss, p.file, p.rss]).toEqual([0, 0, 16 * PAGE]);
  });

  it('auto picks idle where the bitmap exists, clear-refs (and says why) where it does not', () => {
    const sys = sysRoot();
    expect(chooseWssMethod('auto', sys.root, CAPS).method).toBe('idle');
    const missing = join(sys.root, 'nothing');
    const auto = chooseWssMethod('auto', missing, CAPS);
    expect(auto.method).toBe('clear-refs');
    expect(auto.reason).toMatch(/page_idle\/bitmap does not exist/);
    expect(
      chooseWssMethod('auto', sys.root, { ...CAPS, frames: false, framesReason: 'no root' }).method,
    ).toBe('clear-refs');
    expect(() => chooseWssMethod('idle', missing, CAPS)).toThrow(EngineUnavailableError);
    expect(chooseWssMethod('clear-refs', sys.root, CAPS).method).toBe('clear-refs');
    // A running DAMON kdamond clears accessed bits behind the idle method's back: auto avoids it.
    mkdirSync(join(sys.root, 'kernel/mm/damon/admin/kdamonds/0'), { recursive: true });
    writeFileSync(join(sys.root, 'kernel/mm/damon/admin/kdamonds/0/state'), 'on\n');
    const withDamon = chooseWssMethod('auto', sys.root, CAPS);
    expect(withDamon.method).toBe('clear-refs');
    expect(withDamon.reason).toMatch(/DAMON/);
    writeFileSync(join(sys.root, 'kernel/mm/damon/admin/kdamonds/0/state'), 'off\n');
    expect(chooseWssMethod('auto', sys.root, CAPS).method).toBe('idle');
  });
});
