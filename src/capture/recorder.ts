import { readFileSync, readlinkSync } from 'node:fs';
import type { FrameStore } from '../account/frame-table.js';
import { growableUint32 } from '../account/growable.js';
import type { PfnIndex } from '../account/pfn-index.js';
import type { CollectedProcess } from '../engine/pagemap-engine.js';
import type { StreamRecorder } from '../engine/recorder.js';
import type { Snapshot } from '../engine/types.js';
import { KPF_ZERO_PAGE } from '../kernel/kpageflags.js';
import { ProcError } from '../procfs/errors.js';
import type { ProcessDir } from '../procfs/process-dir.js';
import {
  DEVICE_ORDINAL,
  PAGES_HEADER,
  PAGES_PMD_KNOWN,
  PAGES_RUN,
  PAGES_SKIPPED_EMPTY,
  PAGES_VMA,
  SWAP_PSS_UNKNOWN,
} from './format.js';
import { redactCmdline, redactMaps } from './redact.js';

/** The header files a capture keeps of each process, as the engine read them. */
const FILES = ['stat', 'status', 'maps', 'cgroup'] as const;

export interface RecordedProcess {
  pid: number;
  files: Map<string, Buffer>;
  pages: Uint32Array;
}

export interface RecorderOptions {
  withCmdline: boolean;
  redactPaths: boolean;
}

/**
 * Records what a streamed snapshot read (engine/recorder.ts): each process's header files and pages, its
 * frames as ordinals in first-seen order (never a PFN), and at the end each ordinal's count and flags from
 * the FrameStore, the very values the accounting used.
 */
export class CaptureRecorder implements StreamRecorder {
  private readonly pending: Map<string, Buffer>[] = [];
  readonly processes: RecordedProcess[] = [];
  /** Store frame → ordinal + 1 (0: not met yet), and back. */
  private ordinalOfFrame = new Uint32Array(1 << 15);
  private readonly frameOfOrdinal = growableUint32();
  counts = new Uint32Array(0);
  flags = new Uint32Array(0);
  zeroOrdinal = 0;
  started = 0;
  ended = 0;
  result: Snapshot | undefined;

  constructor(private readonly options: RecorderOptions) {}

  get withCmdline(): boolean {
    return this.options.withCmdline;
  }

  get redactPaths(): boolean {
    return this.options.redactPaths;
  }

  collected(dir: ProcessDir, process: CollectedProcess): void {
    if (this.started === 0) this.started = Date.now();
    const files = new Map<string, Buffer>();
    for (const name of FILES) {
      const file = dir.files?.get(name);
      if (file !== undefined && !(file instanceof ProcError)) files.set(name, Buffer.from(file));
    }
    // The engine reads cgroup only when a view shows it; a capture keeps it for the views that will.
    if (!files.has('cgroup')) {
      try {
        files.set('cgroup', readFileSync(`${dir.base}/cgroup`));
      } catch {
        // Gone, or a fixture tree without it: replay then reads no cgroup, as the engine would have.
      }
    }
    const maps = files.get('maps');
    if (maps && this.options.redactPaths)
      files.set('maps', Buffer.from(redactMaps(maps.toString('latin1')), 'latin1'));
    files.set('cmdline', this.cmdline(dir, process));
    this.pending.push(files);
  }

  /** argv with --with-cmdline; else the executable's base name (or comm): a command line may hold secrets. */
  private cmdline(dir: ProcessDir, process: CollectedProcess): Buffer {
    const argv = process.header.cmdline;
    if (this.options.withCmdline) {
      const shown = this.options.redactPaths ? redactCmdline(argv) : argv;
      return shown.length === 0 ? Buffer.alloc(0) : Buffer.from(`${shown.join('\0')}\0`);
    }
    if (argv.length === 0) return Buffer.alloc(0);
    let name = process.header.name;
    try {
      name =
        readlinkSync(`${dir.base}/exe`)
          .replace(/ \(deleted\)$/, '')
          .replace(/^.*\//, '') || name;
    } catch {
      // Another user's process as non-root, or a fixture tree: comm says who it is.
    }
    return Buffer.from(`${name}\0`);
  }

  private ordinal(frame: number): number {
    const stored = this.ordinalOfFrame[frame]!;
    if (stored !== 0) return stored - 1;
    const ordinal = this.frameOfOrdinal.length;
    this.frameOfOrdinal.push(frame);
    this.ordinalOfFrame[frame] = ordinal + 1;
    return ordinal;
  }

  batch(batch: readonly CollectedProcess[], index: PfnIndex, dense: Uint32Array, store: FrameStore): void {
    if (store.size > this.ordinalOfFrame.length) {
      const grown = new Uint32Array(Math.max(store.size, this.ordinalOfFrame.length * 2));
      grown.set(this.ordinalOfFrame);
      this.ordinalOfFrame = grown;
    }
    const files = this.pending.splice(0, batch.length);
    batch.forEach((c, i) => {
      this.processes.push({ pid: c.header.pid, files: files[i]!, pages: this.pages(c, index, dense) });
    });
  }

  /** One process's pages as the PAGES_* table: runs of consecutive ordinals with the same attributes. */
  private pages(c: CollectedProcess, index: PfnIndex, dense: Uint32Array): Uint32Array {
    const { vmas, pfns, attrs, vmaFirst, swapPages, zeroPagesUnread } = c.pages;
    const runs: number[] = [];
    const perVma: number[] = [];
    for (let v = 0; v < vmas.length; v++) {
      let count = 0;
      let first = -1;
      let length = 0;
      let attr = -1;
      for (let i = vmaFirst[v]!; i < vmaFirst[v + 1]!; i++) {
        const pfn = pfns[i]!;
        const ordinal = index.covers(pfn) ? this.ordinal(dense[index.indexOf(pfn)]!) : DEVICE_ORDINAL;
        const a = attrs[i]!;
        const extends_ =
          a === attr &&
          (ordinal === DEVICE_ORDINAL
            ? first === DEVICE_ORDINAL
            : first !== DEVICE_ORDINAL && ordinal === first + length);
        if (extends_) {
          length++;
          continue;
        }
        if (length > 0) {
          runs.push(first, length, attr);
          count++;
        }
        first = ordinal;
        length = 1;
        attr = a;
      }
      if (length > 0) {
        runs.push(first, length, attr);
        count++;
      }
      perVma.push(count, swapPages[v]!, zeroPagesUnread[v]!);
    }
    const bits =
      (c.pages.pmdKnown ? PAGES_PMD_KNOWN : 0) | (c.pages.skippedEmptyVmas ? PAGES_SKIPPED_EMPTY : 0);
    const swapPss = c.swapPss === undefined || c.swapPss === null ? SWAP_PSS_UNKNOWN : c.swapPss / 1024;
    const table = new Uint32Array(PAGES_HEADER + perVma.length + runs.length);
    table.set([vmas.length, runs.length / PAGES_RUN, c.pages.markerPages, bits, swapPss]);
    table.set(perVma, PAGES_HEADER);
    table.set(runs, PAGES_HEADER + vmas.length * PAGES_VMA);
    return table;
  }

  end(store: FrameStore): void {
    this.ended = Date.now();
    const frames = this.frameOfOrdinal.view();
    let zero = -1;
    for (const frame of store.zeroFrames) {
      const known = this.ordinalOfFrame[frame] ?? 0;
      if (known !== 0) zero = known - 1;
    }
    // Replay may read zero pages that PAGEMAP_SCAN only counted here: give the zero page an ordinal.
    this.zeroOrdinal = zero >= 0 ? zero : frames.length;
    const total = frames.length + (zero >= 0 ? 0 : 1);
    this.counts = new Uint32Array(total);
    this.flags = new Uint32Array(total);
    for (let o = 0; o < frames.length; o++) {
      this.counts[o] = store.counts[frames[o]!]!;
      this.flags[o] = store.flagsLo?.[frames[o]!] ?? 0;
    }
    if (zero < 0) this.flags[this.zeroOrdinal] = KPF_ZERO_PAGE;
  }

  snapshot(snapshot: Snapshot): void {
    this.result = snapshot;
  }
}
