import type { Skipped } from '../engine/types.js';
import { CaptureError } from './errors.js';

/*
 * The capture format (memusage(1), CAPTURE FORMAT, says the same for users). One .tar.gz, every entry
 * under memusage-capture/:
 *   manifest.json             this file's Manifest, first in the archive
 *   system/<name>             raw kernel text: meminfo, osrelease, THP and KSM settings
 *   users                     "uid:name" lines for the users of the captured processes
 *   frames/counts             u32 little-endian, one per frame ordinal: its map count (kpagecount)
 *   frames/flags              u32 little-endian, one per frame ordinal: kpageflags bits 0..31
 *   proc/PID/stat status maps cgroup   raw kernel text, as the engine read it
 *   proc/PID/cmdline          NUL-separated argv with --with-cmdline; else the executable's base name
 *   proc/PID/pages            u32 little-endian, the PAGES_* layout below
 * Frame ordinals replace physical frame numbers: 0, 1, 2... in the order the snapshot first met each
 * frame, walking processes in order and pages in address order. Pages are stored as runs of consecutive
 * ordinals in address order, so a region that many processes map in the same order costs one run each.
 */

export const FORMAT_NAME = 'memusage-capture';
/** Raised when a reader of the previous version could no longer read what is written. */
export const FORMAT_VERSION = 1;
export const TOP = 'memusage-capture';

/** proc/PID/pages: a header of PAGES_HEADER words, then PAGES_VMA words per mapping, then PAGES_RUN per run. */
export const PAGES_HEADER = 5;
export const PAGES_VMA = 3;
export const PAGES_RUN = 3;
/** Header word 3: PAGEMAP_SCAN told which pages a PMD maps (ProcessPages.pmdKnown). */
export const PAGES_PMD_KNOWN = 1;
/** Header word 3: mappings smaps showed empty were not read (ProcessPages.skippedEmptyVmas). */
export const PAGES_SKIPPED_EMPTY = 2;
/** Header word 4 when SwapPss is unknown (smaps_rollup unreadable or without the line). */
export const SWAP_PSS_UNKNOWN = 0xffff_ffff;
/** A run's first ordinal for device memory (no page frame: never counted). */
export const DEVICE_ORDINAL = 0xffff_ffff;

export interface Manifest {
  format: typeof FORMAT_NAME;
  version: number;
  memusage: string;
  /** The command that took it, e.g. "top --once". */
  command: string;
  /** When the snapshot started (ms since the epoch), and when each part was read. */
  takenAt: number;
  read: { processes: [number, number]; meminfo: number; system: number };
  engine: 'pagemap';
  engineReason: string;
  framesReason: string;
  /** The snapshot read pagemap through PAGEMAP_SCAN (replay answers the same ioctl from the runs). */
  pagemapScan: boolean;
  scannerReason?: string;
  pageSize: number;
  kernel: string;
  /** Frame ordinals (length of frames/counts and frames/flags). */
  frames: number;
  /** The ordinal of the zero page (count 0, KPF_ZERO_PAGE): replay's pagemap points zero pages at it. */
  zeroOrdinal: number;
  privacy: { cmdline: boolean; redactedPaths: boolean };
  /** The live snapshot's notes and skipped processes, in its order. */
  notes: string[];
  skipped: Skipped[];
  /** PIDs in the capture, in the snapshot's order. */
  pids: number[];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Check a manifest before anything else is read: a newer format is refused with one line. */
export const parseManifest = (file: string, text: string): Manifest => {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new CaptureError(`${file}: corrupt capture (manifest.json is not JSON)`);
  }
  if (!isObject(raw) || raw.format !== FORMAT_NAME || typeof raw.version !== 'number') {
    throw new CaptureError(`${file}: not a memusage capture (manifest.json has no format version)`);
  }
  if (raw.version > FORMAT_VERSION) {
    throw new CaptureError(
      `${file}: capture format ${raw.version} is newer than this memusage reads (${FORMAT_VERSION}): use memusage ${String(raw.memusage)} or later`,
    );
  }
  const numbers = ['takenAt', 'frames', 'zeroOrdinal', 'pageSize'] as const;
  for (const key of numbers) {
    if (!Number.isSafeInteger(raw[key]))
      throw new CaptureError(`${file}: corrupt capture (manifest.json ${key})`);
  }
  if (
    !Array.isArray(raw.pids) ||
    !Array.isArray(raw.skipped) ||
    !Array.isArray(raw.notes) ||
    !isObject(raw.read)
  ) {
    throw new CaptureError(`${file}: corrupt capture (manifest.json)`);
  }
  return raw as unknown as Manifest;
};
