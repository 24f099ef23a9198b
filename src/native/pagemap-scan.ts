import {
  PAGE_IS_FILE,
  PAGE_IS_GUARD,
  PAGE_IS_HUGE,
  PAGE_IS_PFNZERO,
  PAGE_IS_PRESENT,
  PAGE_IS_SOFT_DIRTY,
  PAGE_IS_SWAPPED,
  PAGE_IS_WPALLOWED,
  PAGE_IS_WRITTEN,
} from '../kernel/pagemap-scan.js';
import { toProcError } from '../procfs/errors.js';
import { ADDON_PATH, isRecord, loadAddon } from './addon.js';

// The addon exports the PAGE_IS values it was compiled with; loading fails if one differs from the kernel's.
const EXPECTED_PAGE_IS: Readonly<Record<string, number>> = {
  WPALLOWED: PAGE_IS_WPALLOWED,
  WRITTEN: PAGE_IS_WRITTEN,
  FILE: PAGE_IS_FILE,
  PRESENT: PAGE_IS_PRESENT,
  SWAPPED: PAGE_IS_SWAPPED,
  PFNZERO: PAGE_IS_PFNZERO,
  HUGE: PAGE_IS_HUGE,
  SOFT_DIRTY: PAGE_IS_SOFT_DIRTY,
  GUARD: PAGE_IS_GUARD,
};

/** One walk's arguments, as scan and start take them: fd, [start, end), categories, path for errors, split. */
type ScanCall<R> = (
  fd: number,
  start: number,
  end: number,
  anyOf: number,
  returnMask: number,
  path: string,
  split?: number,
) => R;

export interface PagemapScanner {
  /**
   * Regions of [start, end) with any of `anyOf` categories, reported with `returnMask` categories: flat
   * [start, end, categories] triples. With `split` (page-aligned, inside the range), the two halves are
   * walked on two threads; a region across it comes back as two adjacent ones. Throws ProcError.
   */
  scan: ScanCall<Float64Array>;
  /**
   * scan() begun on threads of the addon: `finish()` waits for it and returns (or throws) what scan() would
   * have, so the caller's thread can work meanwhile. Absent where the scanner cannot (a replay).
   */
  start?: ScanCall<PendingScan>;
}

/** A scan under way (PagemapScanner.start); finished once. */
export interface PendingScan {
  finish(): Float64Array;
}

type RawScan = (
  fd: number,
  start: number,
  end: number,
  anyOf: number,
  returnMask: number,
  split?: number,
) => unknown;

type LoadResult = { scanner: PagemapScanner; error?: undefined } | { scanner?: undefined; error: string };

const describe = (value: unknown): string =>
  value instanceof Float64Array ? `Float64Array(${value.length})` : typeof value;

/** Check the addon's exports at the boundary and wrap its scan; a string says why it is unusable. */
const wrapAddon = (addon: unknown): PagemapScanner | string => {
  if (!isRecord(addon) || typeof addon.scan !== 'function') return `${ADDON_PATH} does not export scan()`;
  const pageIs = addon.PAGE_IS;
  if (!isRecord(pageIs)) return `${ADDON_PATH} does not export PAGE_IS`;
  for (const [name, value] of Object.entries(EXPECTED_PAGE_IS)) {
    if (pageIs[name] !== value)
      return `${ADDON_PATH}: PAGE_IS.${name} is ${String(pageIs[name])}, expected ${value}`;
  }
  // Checked to be a function above; its result is still unknown and is checked on every call.
  const rawScan = addon.scan as RawScan;
  const checked = (regions: unknown): Float64Array => {
    if (!(regions instanceof Float64Array) || regions.length % 3 !== 0) {
      throw new TypeError(
        `${ADDON_PATH}: scan() returned ${describe(regions)}, not [start, end, categories] triples`,
      );
    }
    return regions;
  };
  const scanner: PagemapScanner = {
    scan(fd, start, end, anyOf, returnMask, path, split) {
      try {
        return checked(rawScan(fd, start, end, anyOf, returnMask, split));
      } catch (error) {
        throw toProcError(error, path);
      }
    },
  };
  const { startScan, finishScan } = addon;
  if (typeof startScan === 'function' && typeof finishScan === 'function') {
    // Checked to be functions; the handle is opaque and only ever given back to finishScan.
    const rawStart = startScan as RawScan;
    const rawFinish = finishScan as (handle: unknown) => unknown;
    scanner.start = (fd, start, end, anyOf, returnMask, path, split) => {
      let handle: unknown;
      try {
        handle = rawStart(fd, start, end, anyOf, returnMask, split);
      } catch (error) {
        throw toProcError(error, path);
      }
      return {
        finish() {
          try {
            return checked(rawFinish(handle));
          } catch (error) {
            throw toProcError(error, path);
          }
        },
      };
    };
  }
  return scanner;
};

const wrapped = new WeakMap<Record<string, unknown>, PagemapScanner | string>();

const load = (env: NodeJS.ProcessEnv): LoadResult => {
  const loaded = loadAddon(env);
  if (!loaded.addon) return { error: loaded.error };
  const addon = loaded.addon;
  let result = wrapped.get(addon);
  if (result === undefined) {
    result = wrapAddon(addon);
    wrapped.set(addon, result);
  }
  return typeof result === 'string' ? { error: result } : { scanner: result };
};

/** The addon, loaded once; undefined when it was not built or cannot load (the reason is in pagemapScannerLoadError()). */
export function loadPagemapScanner(env: NodeJS.ProcessEnv = process.env): PagemapScanner | undefined {
  return load(env).scanner;
}

/** Why loadPagemapScanner() returns undefined for this environment, or undefined when it returns the addon. */
export function pagemapScannerLoadError(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return load(env).error;
}
