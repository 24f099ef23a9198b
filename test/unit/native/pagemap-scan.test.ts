import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PAGE_IS_FILE,
  PAGE_IS_HUGE,
  PAGE_IS_PFNZERO,
  PAGE_IS_PRESENT,
  PAGE_IS_SWAPPED,
} from '../../../src/kernel/pagemap-scan.js';
import {
  loadPagemapScanner,
  type PagemapScanner,
  pagemapScannerLoadError,
} from '../../../src/native/pagemap-scan.js';
import { ProcError } from '../../../src/procfs/errors.js';

const PAGE = 4096;
const MAPPING = 64 * 1024 * 1024;
const ANY_OF = PAGE_IS_PRESENT | PAGE_IS_SWAPPED;
const RETURN_MASK = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_PFNZERO | PAGE_IS_HUGE | PAGE_IS_FILE;

// An empty env: these tests are about the addon itself, whatever MEMUSAGE_NO_NATIVE the shell has.
const NATIVE_ENV = {};

const kernelAtLeast = (major: number, minor: number): boolean => {
  const m = /^(\d+)\.(\d+)/.exec(release());
  return m !== null && (Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor));
};

const hasPagemapScan = process.platform === 'linux' && kernelAtLeast(6, 7);

/**
 * The addon, or a failing test. It is built by `npm ci` (the install script runs scripts/build-native.mjs);
 * a missing addon fails these tests instead of skipping them, since a skip would report green.
 */
const requireScanner = (): PagemapScanner => {
  const scanner = loadPagemapScanner(NATIVE_ENV);
  if (scanner === undefined) {
    throw new Error(
      `PAGEMAP_SCAN addon did not load (${pagemapScannerLoadError(NATIVE_ENV)}); run: node scripts/build-native.mjs`,
    );
  }
  return scanner;
};

const thrownBy = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
};

/**
 * Two 64 MiB private anonymous mappings: `sparse` has every 16th page written (1024 one-page regions),
 * `dense` every 2nd (8192 regions, more than the addon's 4096-entry vector, so the walk_end loop runs).
 * Python because Node cannot mmap; node-gyp needs python3, so it is there wherever the addon is built.
 * MADV_NOHUGEPAGE keeps THP=always from populating whole 2 MiB folios.
 */
const CHILD_SCRIPT = `
import ctypes, mmap, sys
def mapping(step):
    m = mmap.mmap(-1, ${MAPPING}, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    m.madvise(mmap.MADV_NOHUGEPAGE)
    for off in range(0, len(m), step * ${PAGE}):
        m[off] = 1
    return m, ctypes.addressof(ctypes.c_char.from_buffer(m))
sparse, dense = mapping(16), mapping(2)
print(hex(sparse[1]), hex(dense[1]), flush=True)
sys.stdin.read()
`;

interface Child {
  process: ChildProcess;
  pid: number;
  sparse: number;
  dense: number;
}

const startChild = (): Promise<Child> =>
  new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', CHILD_SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`python3 child exited (${signal ?? code})`)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      const m = /^0x([0-9a-f]+) 0x([0-9a-f]+)\n/.exec(out);
      if (m && child.pid !== undefined) {
        resolve({
          process: child,
          pid: child.pid,
          sparse: Number.parseInt(m[1]!, 16),
          dense: Number.parseInt(m[2]!, 16),
        });
      }
    });
  });

const stopChild = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited; // Node reaps it on 'exit'
};

/** Present pages of [start, end) as merged [start, end] pairs, from plain pagemap entries (bit 63). */
const presentRegionsFromPagemap = (fd: number, start: number, end: number): number[] => {
  const buf = Buffer.alloc(((end - start) / PAGE) * 8);
  for (let done = 0; done < buf.length; ) {
    const n = readSync(fd, buf, done, buf.length - done, (start / PAGE) * 8 + done);
    if (n === 0) throw new Error('pagemap read returned 0 bytes: the child is gone');
    done += n;
  }
  const regions: number[] = [];
  for (let page = 0; page < buf.length / 8; page++) {
    if (buf.readUInt32LE(page * 8 + 4) >>> 31 === 0) continue; // high word bit 31 = entry bit 63
    const addr = start + page * PAGE;
    if (regions.at(-1) === addr) regions[regions.length - 1] = addr + PAGE;
    else regions.push(addr, addr + PAGE);
  }
  return regions;
};

const pairs = (triples: Float64Array): number[] => [...triples].filter((_, i) => i % 3 !== 2);
const categories = (triples: Float64Array): Set<number> =>
  new Set([...triples].filter((_, i) => i % 3 === 2));
const pageCount = (regions: number[]): number =>
  regions.reduce((sum, value, i) => sum + (i % 2 === 0 ? -value : value), 0) / PAGE;

describe('loadPagemapScanner', () => {
  it('loads the addon, mandatory in CI on Linux >= 6.7', () => {
    const scanner = loadPagemapScanner(NATIVE_ENV);
    const error = pagemapScannerLoadError(NATIVE_ENV);
    if (process.env.CI === 'true' && hasPagemapScan) expect(scanner, error).toBeDefined();
    // Elsewhere the live tests below fail on their own when it is missing; here: exactly one of the two.
    expect(scanner === undefined, error).toBe(error !== undefined);
  });

  it('returns undefined with MEMUSAGE_NO_NATIVE=1, without poisoning the cached load', () => {
    expect(loadPagemapScanner({ MEMUSAGE_NO_NATIVE: '1' })).toBeUndefined();
    expect(pagemapScannerLoadError({ MEMUSAGE_NO_NATIVE: '1' })).toMatch(/MEMUSAGE_NO_NATIVE/);
    expect(loadPagemapScanner(NATIVE_ENV)).toBe(loadPagemapScanner({ MEMUSAGE_NO_NATIVE: '0' }));
  });
});

describe('PagemapScanner.scan', () => {
  let child: Child;
  let fd: number;
  let path: string;

  beforeAll(async () => {
    child = await startChild();
    path = `/proc/${child.pid}/pagemap`;
    fd = openSync(path, 'r');
  });

  afterAll(async () => {
    if (fd !== undefined) closeSync(fd);
    if (child !== undefined) await stopChild(child.process);
  });

  it.each([
    ['every 16th page', 'sparse', 1024],
    ['every 2nd page (more regions than one ioctl returns)', 'dense', 8192],
  ] as const)('reports exactly the present pages of a mapping with %s', (_, which, touched) => {
    const scanner = requireScanner();
    const start = child[which];
    const end = start + MAPPING;
    const expected = presentRegionsFromPagemap(fd, start, end);
    expect(pageCount(expected)).toBe(touched);
    if (!hasPagemapScan) {
      // Before 6.7 pagemap has no ioctl at all: the caller must see 'unsupported' and fall back.
      expect(thrownBy(() => scanner.scan(fd, start, end, ANY_OF, RETURN_MASK, path))).toMatchObject({
        kind: 'unsupported',
      });
      return;
    }
    const regions = scanner.scan(fd, start, end, ANY_OF, RETURN_MASK, path);
    expect(pairs(regions)).toEqual(expected);
    expect(regions.length / 3).toBe(touched); // no two touched pages are adjacent
    expect(categories(regions)).toEqual(new Set([PAGE_IS_PRESENT])); // written anon, 4 KiB pages
  });

  it('split in two halves on two threads, reports the same pages in address order', () => {
    const scanner = requireScanner();
    const start = Math.min(child.sparse, child.dense);
    const end = Math.max(child.sparse, child.dense) + MAPPING;
    if (!hasPagemapScan) {
      const split = child.dense + MAPPING / 2;
      expect(thrownBy(() => scanner.scan(fd, start, end, ANY_OF, RETURN_MASK, path, split))).toMatchObject({
        kind: 'unsupported',
      });
      return;
    }
    const whole = scanner.scan(fd, start, end, ANY_OF, RETURN_MASK, path);
    // Cut inside the dense mapping's pages, at a page of its own, and at a written one.
    for (const split of [
      child.dense + MAPPING / 2,
      child.dense + MAPPING / 2 + PAGE,
      child.sparse + 16 * PAGE,
    ]) {
      const halves = scanner.scan(fd, start, end, ANY_OF, RETURN_MASK, path, split);
      // A region across the cut comes back as two adjacent ones: merge them to compare.
      const merged: number[] = [];
      for (let i = 0; i < halves.length; i += 3) {
        const n = merged.length;
        if (n > 0 && merged[n - 2] === halves[i] && merged[n - 1] === halves[i + 2])
          merged[n - 2] = halves[i + 1]!;
        else merged.push(halves[i]!, halves[i + 1]!, halves[i + 2]!);
      }
      expect(merged).toEqual([...whole]);
    }
    // A split outside the range is no split.
    expect([...scanner.scan(fd, start, end, ANY_OF, RETURN_MASK, path, end + PAGE)]).toEqual([...whole]);
    expect(() => scanner.scan(fd, start, end, ANY_OF, RETURN_MASK, path, start + 1)).toThrow(RangeError);
  });

  it('startScan walks on threads of its own while the caller works; finish gives what scan gives, once', () => {
    const scanner = requireScanner();
    const start = Math.min(child.sparse, child.dense);
    const end = Math.max(child.sparse, child.dense) + MAPPING;
    expect(scanner.start).toBeDefined();
    if (!hasPagemapScan) {
      expect(
        thrownBy(() => scanner.start!(fd, start, end, ANY_OF, RETURN_MASK, path).finish()),
      ).toMatchObject({
        kind: 'unsupported',
      });
      return;
    }
    const whole = scanner.scan(fd, start, end, ANY_OF, RETURN_MASK, path);
    for (const split of [undefined, child.dense + MAPPING / 2]) {
      const pending = scanner.start!(fd, start, end, ANY_OF, RETURN_MASK, path, split);
      const regions = pending.finish();
      expect(regions.length).toBeGreaterThanOrEqual(whole.length);
      if (split === undefined) expect([...regions]).toEqual([...whole]);
      expect(() => pending.finish()).toThrow(/already finished/);
    }
    // The walk's failure comes out of finish, as a ProcError, as scan would have thrown it.
    const closed = openSync(path, 'r');
    closeSync(closed);
    const failed = scanner.start!(closed, start, end, ANY_OF, RETURN_MASK, path);
    expect(thrownBy(() => failed.finish())).toBeInstanceOf(ProcError);
  });

  it('rejects arguments that are not exact non-negative integers with a TypeError, not a ProcError', () => {
    const scanner = requireScanner();
    const error = thrownBy(() => scanner.scan(fd, 0.5, PAGE, ANY_OF, RETURN_MASK, path));
    expect(error).toBeInstanceOf(TypeError);
    expect(error).not.toBeInstanceOf(ProcError);
  });

  it('rejects an unaligned start with a RangeError, so EINVAL keeps meaning "kernel does not support this"', () => {
    const scanner = requireScanner();
    expect(() => scanner.scan(fd, child.sparse + 1, child.sparse + PAGE, ANY_OF, RETURN_MASK, path)).toThrow(
      RangeError,
    );
  });

  it("turns ENOTTY on a file that is not pagemap into ProcError 'unsupported'", () => {
    const scanner = requireScanner();
    const dir = mkdtempSync(join(tmpdir(), 'memusage-pmscan-'));
    const file = join(dir, 'pagemap');
    writeFileSync(file, Buffer.alloc(PAGE));
    const fileFd = openSync(file, 'r');
    try {
      const error = thrownBy(() => scanner.scan(fileFd, 0, PAGE, ANY_OF, RETURN_MASK, file));
      expect(error).toBeInstanceOf(ProcError);
      expect(error).toMatchObject({ kind: 'unsupported', errno: 'ENOTTY', path: file });
    } finally {
      closeSync(fileFd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("after the process exited and was reaped: ProcError 'gone' (ESRCH) or no region, never a page", async () => {
    const scanner = requireScanner();
    const doomed = await startChild();
    const doomedPath = `/proc/${doomed.pid}/pagemap`;
    const doomedFd = openSync(doomedPath, 'r');
    try {
      // Alive, the same scan finds its populated pages: the empty answer below is the exit's doing.
      const before = scanner.scan(doomedFd, doomed.sparse, doomed.sparse + MAPPING, ANY_OF, 0, doomedPath);
      expect(before.length).toBeGreaterThan(0);
      await stopChild(doomed.process);
      let regions: Float64Array | undefined;
      let error: unknown;
      try {
        regions = scanner.scan(doomedFd, doomed.sparse, doomed.sparse + MAPPING, ANY_OF, 0, doomedPath);
      } catch (thrown) {
        error = thrown;
      }
      if (!hasPagemapScan) {
        // Pre-6.7 kernels fail with ENOTTY before they look at the mm.
        expect(error).toMatchObject({ kind: 'unsupported' });
      } else if (error === undefined) {
        // 6.18: the torn-down mm has no VMA left, so the walk reports nothing (the engine re-checks such answers).
        expect(regions).toEqual(new Float64Array(0));
      } else {
        expect(error).toBeInstanceOf(ProcError);
        expect(error).toMatchObject({ kind: 'gone', errno: 'ESRCH' });
      }
    } finally {
      closeSync(doomedFd);
      await stopChild(doomed.process);
    }
  });
});
