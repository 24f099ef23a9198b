/**
 * What a streamed snapshot keeps of a process until its batch is accounted (src/engine/stream-keep.ts): its
 * pages as one mapping must account exactly as its mappings one by one, and its status shrinks to the one
 * field the batch reads. Expected values are worked out by hand in the comments.
 */
import { describe, expect, it } from 'vitest';
import type { FrameTable } from '../../../src/account/frame-table.js';
import { accountProcess, accountProcessesChecked } from '../../../src/account/page-account.js';
import { PfnIndex } from '../../../src/account/pfn-index.js';
import type { ProcessPages } from '../../../src/account/process-pages.js';
import type { CollectedProcess } from '../../../src/engine/pagemap-engine.js';
import { hugetlbBytes } from '../../../src/engine/process-header.js';
import { asOneMapping, keepForStream } from '../../../src/engine/stream-keep.js';
import type { Vma } from '../../../src/parse/maps.js';
import { parseStatus } from '../../../src/parse/status.js';

const PAGE = 4096;
const vma = (start: number, pages: number, name: string): Vma => ({
  start,
  end: start + pages * PAGE,
  perms: 'r--p',
  offset: 0,
  dev: 'fe:00',
  inode: 9,
  name,
});

/**
 * Three mappings: 4 pages (frames 10, 11), 2 pages (frame 12, and 1 swapped page), 8 pages (frame 10 again,
 * and 3 zero-page entries PAGEMAP_SCAN counted unread). Frame 10 has map count 3, 11 count 1, 12 count 3.
 */
const pages = (): ProcessPages => ({
  vmas: [vma(0x10_0000, 4, '/lib/a.so'), vma(0x20_0000, 2, '/lib/b.so'), vma(0x30_0000, 8, '[heap]')],
  pfns: Uint32Array.from([10, 11, 12, 10]),
  attrs: new Uint8Array(4),
  vmaFirst: Uint32Array.from([0, 2, 3, 4]),
  swapPages: Uint32Array.from([0, 1, 0]),
  zeroPagesUnread: Uint32Array.from([0, 0, 3]),
  markerPages: 0,
  pmdKnown: true,
  skippedEmptyVmas: false,
});

const table = (p: ProcessPages): FrameTable => ({
  index: PfnIndex.build([p.pfns]),
  counts: Uint32Array.from([3, 1, 3]),
  flagsLo: undefined,
  flagsHi: undefined,
  zeroFrames: new Set(),
});

describe('a streamed process kept as one mapping', () => {
  it('accounts exactly as its mappings one by one', () => {
    const whole = pages();
    const one = asOneMapping(whole);
    expect(one.vmas).toHaveLength(1);
    const usage = accountProcess(one, table(one));
    expect(usage).toEqual(accountProcess(whole, table(whole)));
    // VSS 14 pages; swap 1 page; zero page 3 entries. PSS: floor(2^24/3) * 3 + 2^24 = 16 777 215 + 16 777 216
    // = 33 554 431 -> floor(/4096) = 8 191 (three pages of one third, shifted once, lose one byte).
    expect(usage).toMatchObject({
      vss: 14 * PAGE,
      swap: PAGE,
      zeroPage: 3 * PAGE,
      rss: 4 * PAGE,
      pss: 8_191,
    });
    expect(usage.uss).toBe(PAGE);
    expect(accountProcessesChecked([one], table(one))[0]!.usage).toEqual(usage);
  });

  it('keeps a process without mappings as it is', () => {
    const none: ProcessPages = {
      ...pages(),
      vmas: [],
      vmaFirst: Uint32Array.from([0]),
      pfns: new Uint32Array(0),
    };
    expect(asOneMapping(none)).toBe(none);
  });

  it('keeps of the status only HugetlbPages, which decides whether the batch reads kpageflags', () => {
    const status = parseStatus('Name:\tx\nVmRSS:\t  100 kB\nHugetlbPages:\t  2048 kB\nUid:\t0\t0\t0\t0\n');
    const collected: CollectedProcess = {
      header: {
        pid: 1,
        ppid: 0,
        startTime: 1,
        name: 'x',
        cmdline: [],
        uid: 0,
        user: 'root',
        state: 'S',
        status,
      },
      pages: pages(),
    };
    const kept = keepForStream(collected);
    expect(hugetlbBytes(kept.header)).toBe(2048 * 1024);
    expect([...kept.header.status.keys()]).toEqual(['HugetlbPages']);
    const without = keepForStream({
      ...collected,
      header: { ...collected.header, status: parseStatus('Uid:\t0\n') },
    });
    expect(hugetlbBytes(without.header)).toBe(0);
    expect(without.header.status.size).toBe(0);
  });
});
