import { abiMatches, isRecord, loadAddon } from './addon.js';
import { ACCOUNT_FLAGS_ABI } from './page-loops.js';

/**
 * native/object_runs.c: the per-page loops over a streamed snapshot's shared objects (the pool of
 * src/account/object-pages.ts). Each is the twin of a TypeScript loop named in the C file; callers use
 * these when the addon loaded and the TypeScript otherwise. Arrays and ranges are checked in C, which
 * throws TypeError/RangeError rather than touch memory it was not given.
 */
export interface NativeObjectRuns {
  /** Twin of ObjectPages.assignFrames: frames[p] for pool pages [from, to). */
  assignFrames(
    pfns: Uint32Array,
    from: number,
    to: number,
    bits: Uint32Array,
    rank: Uint32Array,
    limit: number,
    dense: Uint32Array,
    frames: Uint32Array,
  ): void;
  /** Twin of countDistinctRuns (runs: [from, pages, times] triples); returns the new touched count. */
  countRuns(
    frames: Uint32Array,
    counts: Uint32Array,
    flagsLo: Uint32Array | undefined,
    runs: Float64Array,
    counter: Uint32Array,
    touched: Uint32Array | undefined,
    ntouched: number,
    also: Uint32Array | undefined,
  ): number;
  /** Twin of RunSums.of's loop: pool pages [from, from + pages) added to acc. */
  sumRun(
    frames: Uint32Array,
    from: number,
    pages: number,
    counts: Uint32Array,
    flagsLo: Uint32Array | undefined,
    zeroFrames: Uint32Array,
    attr: number,
    pmdKnown: boolean,
    acc: Float64Array,
  ): void;
}

const NAMES: readonly (keyof NativeObjectRuns)[] = ['assignFrames', 'countRuns', 'sumRun'];

const isRuns = (value: unknown): value is NativeObjectRuns =>
  isRecord(value) &&
  NAMES.every((name) => typeof value[name] === 'function') &&
  abiMatches(value.ABI, ACCOUNT_FLAGS_ABI);

/** The native loops, or undefined (no addon, one built from older sources, MEMUSAGE_NO_NATIVE=1). */
export const loadObjectRuns = (env: NodeJS.ProcessEnv = process.env): NativeObjectRuns | undefined => {
  const { addon } = loadAddon(env);
  return addon && isRuns(addon.objectRuns) ? addon.objectRuns : undefined;
};

/** Chosen once per process: the loops consult it on every call. */
export const nativeObjectRuns: NativeObjectRuns | undefined = loadObjectRuns();
