/**
 * PagemapReader with ObjectPages, on fixture pagemaps: a process mapping a shared object that an earlier
 * process read gets exactly the pages its own pagemap holds (the object's pages between a first and a last
 * page read from its own pagemap, its other mappings read around them), with both range readers; an object
 * under the same device and inode whose pages differ (btrfs subvolumes share a device number) is caught by
 * those two pages, forgotten, and the process's own pagemap read instead. A scan begun on the addon's
 * threads runs the caller's `meanwhile` while it walks.
 */
import { readSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ObjectPages } from '../../../src/account/object-pages.js';
import { ATTR_PMD } from '../../../src/account/process-pages.js';
import { PAGE_IS_PRESENT } from '../../../src/kernel/pagemap-scan.js';
import type { PagemapScanner } from '../../../src/native/pagemap-scan.js';
import { loadPagemapReader, type NativePagemapReader } from '../../../src/native/proc-batch.js';
import { readMaps } from '../../../src/procfs/maps.js';
import { PagemapReader } from '../../../src/procfs/pagemap.js';
import { closeProcessDir, openProcessDir } from '../../../src/procfs/process-dir.js';
import { PAGE, ProcTree } from '../../helpers/proc-tree.js';
import { writeTree } from '../../helpers/write-tree.js';

const requireReader = (): NativePagemapReader => {
  const reader = loadPagemapReader({});
  if (!reader) throw new Error('the native addon did not load; run: node scripts/build-native.mjs');
  return reader;
};

/** PAGEMAP_SCAN over a fixture pagemap: runs of present entries, read through the fd as the kernel would walk. */
const fixtureScanner: PagemapScanner = {
  scan(fd, start, end) {
    const out: number[] = [];
    const entry = Buffer.alloc(8);
    let runStart = -1;
    for (let va = start; va < end; va += PAGE) {
      const got = readSync(fd, entry, 0, 8, (va / PAGE) * 8);
      const present = got === 8 && (entry.readUInt32LE(4) & 0x8000_0000) !== 0;
      if (present && runStart < 0) runStart = va;
      if (!present && runStart >= 0) {
        out.push(runStart, va, PAGE_IS_PRESENT);
        runStart = -1;
      }
    }
    if (runStart >= 0) out.push(runStart, end, PAGE_IS_PRESENT);
    return Float64Array.from(out);
  },
};

const OBJECT_PAGES = 2048; // 8 MiB
const PRIVATE = 0x1000_0000;
const HEAP = 0x4000_0000;

/**
 * 400 maps the whole object (its pages 0..2047 are frames 500_000 + index); 401 maps it at another address
 * from file offset 16 pages, with two holes; 402 maps another object under the same device and inode.
 * Each also has private pages before and after.
 */
const tree = () => {
  const t = new ProcTree();
  const obj = { perms: 'rw-s', dev: '00:01', inode: 77, name: '/dev/zero (deleted)' };
  const withPrivate = (pid: number, body: (p: ReturnType<ProcTree['process']>) => void) => {
    const p = t.process(pid, { comm: `p${pid}` });
    p.vma({ start: PRIVATE, end: PRIVATE + 64 * PAGE }).pages(PRIVATE, 40, (i) => ({ pfn: pid * 1000 + i }));
    body(p);
    p.vma({ start: HEAP, end: HEAP + 32 * PAGE }).pages(HEAP, 32, (i) => ({ pfn: pid * 1000 + 100 + i }));
  };
  const base = 0x2000_0000;
  withPrivate(400, (p) =>
    p.vma({ start: base, end: base + OBJECT_PAGES * PAGE, ...obj }).pages(base, OBJECT_PAGES, (i) => ({
      pfn: 500_000 + i,
      file: true,
    })),
  );
  const at = 0x3000_0000;
  withPrivate(401, (p) =>
    p
      .vma({ start: at, end: at + 1024 * PAGE, offset: 16 * PAGE, ...obj })
      .pages(at, 1024, (i) =>
        i < 100 || (i >= 300 && i < 310) || i >= 1000 ? { raw: 0n } : { pfn: 500_016 + i, file: true },
      ),
  );
  withPrivate(402, (p) => {
    // First an object of its own (a memfd), claimed before the mismatch below is found.
    const own = 0x1800_0000;
    p.vma({ start: own, end: own + 512 * PAGE, ...obj, inode: 88, name: '/memfd:own (deleted)' }).pages(
      own,
      512,
      (i) => ({ pfn: 800_000 + i, file: true }),
    );
    p.vma({ start: base, end: base + 512 * PAGE, ...obj }).pages(base, 512, (i) => ({
      pfn: 900_000 + i,
      file: true,
    }));
  });
  return writeTree(t);
};

const readAll = (
  root: string,
  pids: number[],
  objects: ObjectPages | undefined,
  native: NativePagemapReader | null,
) => {
  const reader = new PagemapReader(fixtureScanner, false, native).shareObjects(objects);
  const out = pids.map((pid) => {
    const dir = openProcessDir(root, pid);
    try {
      const pages = reader.read(dir, () => readMaps(dir));
      return {
        pfns: Array.from(pages.pfns),
        attrs: Array.from(pages.attrs, (a) => a & ~ATTR_PMD),
        vmaFirst: Array.from(pages.vmaFirst),
        swapPages: Array.from(pages.swapPages),
      };
    } finally {
      closeProcessDir(dir);
    }
  });
  return { out, taken: reader.objectPagesTaken };
};

describe.each([
  ['native', requireReader()],
  ['TypeScript', null],
])('PagemapReader with shared objects (%s range reader)', (_name, native) => {
  it('fills a later process with the object pages its own pagemap holds', () => {
    const w = tree();
    const own = readAll(w.root, [400, 401], undefined, native);
    const objects = new ObjectPages();
    const shared = readAll(w.root, [400, 401], objects, native);
    expect(shared.out).toEqual(own.out);
    // 401's two present runs of the object (200 and 690 pages) came from the pool, but for their ends.
    expect(shared.taken).toBe(200 - 2 + 690 - 2);
    expect(objects.pages).toBe(OBJECT_PAGES);
    expect(own.out[1]!.pfns).toContain(500_016 + 100);
  });

  it('catches another object under the same device and inode, forgets it and reads the process itself', () => {
    const w = tree();
    const own = readAll(w.root, [400, 402, 401], undefined, native);
    const objects = new ObjectPages();
    const shared = readAll(w.root, [400, 402, 401], objects, native);
    expect(shared.out).toEqual(own.out);
    const key = '00:01 77';
    // 402 read its own pages and the key was forgotten: 401 took nothing from the pool, claimed the key
    // afresh and added its own two runs (200 and 690 pages) behind 400's pages.
    expect(shared.taken).toBe(0);
    expect(objects.find(key, 16 + 100, 200)).toBe(OBJECT_PAGES);
    expect(objects.pages).toBe(OBJECT_PAGES + 200 + 690);
    // The memfd 402 claimed in the read that failed is not left claimed and empty: a next process may.
    expect(objects.claim('00:01 88')).toBeDefined();
  });
});

it('the first process mapping an object reads all its pages itself and adds them to the pool', () => {
  const w = tree();
  const objects = new ObjectPages();
  const { out, taken } = readAll(w.root, [400], objects, null);
  expect(out[0]!.pfns.length).toBe(40 + OBJECT_PAGES + 32);
  expect(taken).toBe(0);
  expect(objects.pages).toBe(OBJECT_PAGES);
});

it("runs the caller's work while a scan is under way, and reports the caller's failure over the scan's", () => {
  const w = tree();
  const events: string[] = [];
  const scanner: PagemapScanner = {
    scan: fixtureScanner.scan,
    start(fd, start, end, anyOf, returnMask, path) {
      events.push('start');
      return {
        finish: () => {
          events.push('finish');
          return fixtureScanner.scan(fd, start, end, anyOf, returnMask, path);
        },
      };
    },
  };
  const reader = new PagemapReader(scanner, false, null).shareObjects(new ObjectPages());
  const dir = openProcessDir(w.root, 400);
  try {
    const pages = reader.read(
      dir,
      () => readMaps(dir),
      undefined,
      undefined,
      () => events.push('meanwhile'),
    );
    expect(events).toEqual(['start', 'meanwhile', 'finish']);
    expect(pages.pfns.length).toBe(40 + OBJECT_PAGES + 32);
    events.length = 0;
    const failing = () => {
      throw new Error('the batch failed');
    };
    expect(() => reader.read(dir, () => readMaps(dir), undefined, undefined, failing)).toThrow(
      'the batch failed',
    );
    // The scan was still waited for.
    expect(events).toEqual(['start', 'finish']);
  } finally {
    closeProcessDir(dir);
  }
});
