import { fstatSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Capabilities } from '../engine/capabilities.js';
import type { ReplayInfo } from '../engine/replay-info.js';
import type { PagemapScanner } from '../native/pagemap-scan.js';
import { CaptureError } from './errors.js';
import { materialise, type ReplayRegions } from './materialise.js';
import { type Capture, readCapture } from './reader.js';

/**
 * PAGEMAP_SCAN for a replayed pagemap: the regions the live kernel's ioctl described, from the capture's
 * runs (which pages a PMD mapped, which were the zero page), so the reader takes the path it took live.
 */
export class ReplayScanner implements PagemapScanner {
  constructor(private readonly regions: ReplayRegions) {}

  scan(fd: number, start: number, end: number): Float64Array {
    const st = fstatSync(fd);
    const all = this.regions.get(`${st.dev}:${st.ino}`) ?? new Float64Array(0);
    const out: number[] = [];
    for (let i = 0; i < all.length; i += 3) {
      if (all[i + 1]! > start && all[i]! < end)
        out.push(Math.max(all[i]!, start), Math.min(all[i + 1]!, end), all[i + 2]!);
    }
    return Float64Array.from(out);
  }
}

export interface Replay {
  /** The proc tree the engine reads. */
  root: string;
  caps: Capabilities;
  /** uid → name as the capture knew them. */
  passwd: string;
  kind: Capture['kind'];
}

const SMEM_REASON =
  "smaps method: an smem capture (smemcap) replayed: RSS, PSS and swap summed from each process's smaps, USS as its private pages";

/**
 * Read `file` (checked whole first) and lay it out as a proc tree in a temporary directory, removed when
 * memusage exits. No root and no /proc are needed: the tree is the replaying user's own files.
 */
export const openReplay = (file: string, engine: string | undefined): Replay => {
  const capture = readCapture(file);
  if (capture.kind === 'memusage' && engine === 'smaps') {
    throw new CaptureError(`${file} holds page frames, not smaps: replay it with --engine auto or pagemap`);
  }
  const root = mkdtempSync(join(tmpdir(), 'memusage-replay-'));
  // The tree can be large (8 bytes a mapped page): removed on exit, and on the signals that end a run.
  const remove = () => rmSync(root, { recursive: true, force: true });
  process.once('exit', remove);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      remove();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
  const when = (ms: number) => new Date(ms).toISOString();
  let info: ReplayInfo;
  if (capture.kind === 'memusage') {
    const m = capture.manifest;
    info = {
      takenAt: m.takenAt,
      note: `replayed from ${file}, captured ${when(m.takenAt)} by memusage ${m.memusage} (${m.command}) on Linux ${m.kernel || '?'}`,
      skipped: m.skipped,
    };
  } else {
    const takenAt = statSync(file).mtimeMs;
    info = {
      takenAt,
      note: `replayed from ${file} (smem capture, written ${when(takenAt)})`,
      engineReason: SMEM_REASON,
      skipped: [],
    };
  }
  try {
    const regions = materialise(capture, root, info);
    const caps: Capabilities =
      capture.kind === 'memusage'
        ? {
            frames: true,
            framesReason: capture.manifest.framesReason,
            frameCount: capture.manifest.frames,
            scanner: capture.manifest.pagemapScan ? new ReplayScanner(regions) : undefined,
            scannerReason: capture.manifest.scannerReason,
          }
        : {
            frames: false,
            framesReason: 'an smem capture has no page frames',
            frameCount: 0,
            scanner: undefined,
            scannerReason: undefined,
          };
    return { root, caps, passwd: join(root, 'passwd'), kind: capture.kind };
  } catch (error) {
    if (error instanceof CaptureError) throw error;
    throw new CaptureError(
      `cannot replay ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
};
