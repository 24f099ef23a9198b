import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ATTR_FILE, ATTR_PMD } from '../account/process-pages.js';
import { REPLAY_INFO_FILE, type ReplayInfo } from '../engine/replay-info.js';
import { PAGE_SIZE, PM_FILE_HI, PM_GUARD_HI, PM_PRESENT_HI, PM_SWAP_HI } from '../kernel/pagemap-bits.js';
import { PAGE_IS_HUGE, PAGE_IS_PFNZERO, PAGE_IS_PRESENT, PAGE_IS_SWAPPED } from '../kernel/pagemap-scan.js';
import { parseMaps, type Vma } from '../parse/maps.js';
import { parseSmaps } from '../parse/smaps.js';
import { DEVICE_ORDINAL, PAGES_HEADER, PAGES_RUN, PAGES_VMA } from './format.js';
import type { Capture, CapturedProcess } from './reader.js';

/*
 * Replay lays a capture out as a proc tree and points the unchanged engine at it (MEMUSAGE_PROC_ROOT's
 * mechanism): every command and view reads it exactly as it reads /proc, so replay cannot drift from the
 * live code. Frame ordinals stand in for PFNs: kpagecount and kpageflags hold one entry per ordinal. A
 * process's pagemap holds, from the start of each mapping, its present pages in order, then its zero
 * pages, swap entries and (in the first mapping with room) its marker entries: addresses inside a
 * mapping are never used by the accounting, only which frames it holds and in what order. The file is
 * sparse: a mapping's pages cost 8 bytes each, the rest is a hole.
 */

/** PAGEMAP_SCAN regions of one replayed pagemap, by "dev:ino" of the file (see ReplayScanner). */
export type ReplayRegions = Map<string, Float64Array>;

/** A swap entry the decoder counts as swap: type 0, offset 1. */
const SWAP_LO = 1 << 5;

const u64Table = (values: Uint32Array): Buffer => {
  const out = Buffer.alloc(values.length * 8);
  for (let i = 0; i < values.length; i++) out.writeUInt32LE(values[i]!, i * 8);
  return out;
};

/** Write one process's pagemap (and, without PAGEMAP_SCAN, the smaps its empty-mapping test reads). */
const writePages = (
  dir: string,
  p: CapturedProcess,
  zeroOrdinal: number,
  regions: ReplayRegions,
  withSmaps: boolean,
) => {
  const pages = p.pages!;
  const vmas = parseMaps(p.files.get('maps')!.toString('latin1'));
  const fd = openSync(join(dir, 'pagemap'), 'w', 0o644);
  const found: number[] = [];
  const smaps: string[] = [];
  try {
    let markers = pages[2]!;
    let run = PAGES_HEADER + vmas.length * PAGES_VMA;
    vmas.forEach((vma: Vma, v) => {
      const at = PAGES_HEADER + v * PAGES_VMA;
      const [runs, swap, zero] = [pages[at]!, pages[at + 1]!, pages[at + 2]!];
      let present = 0;
      for (let r = 0; r < runs; r++) present += pages[run + r * PAGES_RUN + 1]!;
      const span = (vma.end - vma.start) / PAGE_SIZE;
      const here = Math.min(markers, span - present - zero - swap);
      markers -= here;
      const entries = present + zero + swap + here;
      const bytes = Buffer.alloc(entries * 8);
      // Little-endian words through a typed view: one store per half-word (the machine is little-endian,
      // as every kernel whose pagemap this replays).
      const words = new Uint32Array(bytes.buffer, bytes.byteOffset, entries * 2);
      let e = 0;
      let addr = vma.start;
      const region = (pagesIn: number, categories: number) => {
        if (pagesIn === 0) return;
        const last = found.length - 3;
        if (last >= 0 && found[last + 1] === addr && found[last + 2] === categories)
          found[last + 1] = addr + pagesIn * PAGE_SIZE;
        else found.push(addr, addr + pagesIn * PAGE_SIZE, categories);
        addr += pagesIn * PAGE_SIZE;
      };
      const fill = (count: number, lo: number, step: number, hi: number) => {
        for (let k = 0; k < count; k++, e++) {
          words[e * 2] = lo + k * step;
          words[e * 2 + 1] = hi;
        }
      };
      for (let r = 0; r < runs; r++, run += PAGES_RUN) {
        const [first, length, attr] = [pages[run]!, pages[run + 1]!, pages[run + 2]!];
        const hi = PM_PRESENT_HI | ((attr & ATTR_FILE) !== 0 ? PM_FILE_HI : 0);
        fill(length, first, first === DEVICE_ORDINAL ? 0 : 1, hi);
        region(length, PAGE_IS_PRESENT | ((attr & ATTR_PMD) !== 0 ? PAGE_IS_HUGE : 0));
      }
      fill(zero, zeroOrdinal, 0, PM_PRESENT_HI);
      region(zero, PAGE_IS_PRESENT | PAGE_IS_PFNZERO);
      fill(swap, SWAP_LO, 0, PM_SWAP_HI);
      fill(here, 0, 0, PM_SWAP_HI | PM_GUARD_HI);
      region(swap + here, PAGE_IS_SWAPPED);
      if (entries > 0) writeSync(fd, bytes, 0, bytes.length, (vma.start / PAGE_SIZE) * 8);
      if (withSmaps) {
        smaps.push(
          `${vma.start.toString(16)}-${vma.end.toString(16)} ${vma.perms} 00000000 00:00 0\nRss: ${(present + zero) * 4} kB\nSwap: ${swap * 4} kB\n`,
        );
      }
    });
    // pagemap has an entry for every user address: a read past the last page written must see zeros, not
    // the end of the file (which the reader takes for an address space that went away).
    const end = vmas.length > 0 ? vmas[vmas.length - 1]!.end : 0;
    ftruncateSync(fd, (end / PAGE_SIZE) * 8);
    const st = fstatSync(fd);
    regions.set(`${st.dev}:${st.ino}`, Float64Array.from(found));
  } finally {
    closeSync(fd);
  }
  if (withSmaps) writeFileSync(join(dir, 'smaps'), smaps.join(''));
  const swapPss = pages[4]!;
  // Only SwapPss is read from smaps_rollup by the pagemap engine; an unknown one is a file without it.
  writeFileSync(join(dir, 'smaps_rollup'), swapPss === 0xffff_ffff ? '' : `SwapPss: ${swapPss} kB\n`);
};

/** smaps_rollup as the kernel sums it: each field of every mapping added up (smem captures have smaps only). */
const rollupOf = (smaps: string): string => {
  const sums = new Map<string, number>();
  for (const entry of parseSmaps(smaps)) {
    for (const [key, value] of Object.entries(entry.fields)) sums.set(key, (sums.get(key) ?? 0) + value);
  }
  return `00000000-ffffffffffff ---p 00000000 00:00 0                          [rollup]\n${[...sums]
    .map(([k, v]) => `${k}: ${v} kB`)
    .join('\n')}\n`;
};

/** A status with the lines the header needs, for smem captures (which keep stat and cmdline only). */
const statusOf = (p: CapturedProcess): string => {
  const stat = p.files.get('stat')?.toString('latin1') ?? '';
  const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  const uid = p.uid ?? 0;
  return `Name:\t${comm}\nTgid:\t${p.pid}\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\n`;
};

/** Lay `capture` out under `root` (an empty directory); returns the PAGEMAP_SCAN regions of its pagemaps. */
export const materialise = (capture: Capture, root: string, info: ReplayInfo): ReplayRegions => {
  const regions: ReplayRegions = new Map();
  const meminfo = capture.system.get('meminfo');
  if (meminfo) writeFileSync(join(root, 'meminfo'), meminfo);
  if (capture.kind === 'memusage') {
    writeFileSync(join(root, 'kpagecount'), u64Table(capture.counts));
    writeFileSync(join(root, 'kpageflags'), u64Table(capture.flags));
    writeFileSync(
      join(root, 'passwd'),
      [...capture.users].map(([uid, name]) => `${name}:x:${uid}:\n`).join(''),
    );
  } else {
    writeFileSync(join(root, 'passwd'), capture.passwd ?? '');
  }
  for (const p of capture.processes) {
    const dir = join(root, String(p.pid));
    mkdirSync(dir);
    for (const [name, data] of p.files) writeFileSync(join(dir, name), data);
    if (capture.kind === 'memusage') {
      writePages(dir, p, capture.manifest.zeroOrdinal, regions, !capture.manifest.pagemapScan);
    } else {
      const smaps = p.files.get('smaps')!.toString('latin1');
      writeFileSync(join(dir, 'smaps_rollup'), rollupOf(smaps));
      if (!p.files.has('status')) writeFileSync(join(dir, 'status'), statusOf(p));
      if (!p.files.has('stat'))
        writeFileSync(join(dir, 'stat'), `${p.pid} (?) S 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 0 0 0\n`);
      if (!p.files.has('cmdline')) writeFileSync(join(dir, 'cmdline'), '');
      writeFileSync(
        join(dir, 'maps'),
        smaps
          .split('\n')
          .filter((l) => /^[0-9a-f]+-[0-9a-f]+ /.test(l))
          .join('\n'),
      );
    }
  }
  writeFileSync(join(root, REPLAY_INFO_FILE), JSON.stringify(info));
  return regions;
};
