import { KPF_ANON, KPF_HUGE, KPF_KSM, KPF_SWAPBACKED, KPF_THP, KPF_ZERO_PAGE } from '../kernel/kpageflags.js';
import {
  FIRST_NON_SWAP_TYPE,
  PM_FILE_HI,
  PM_GUARD_HI,
  PM_PFN_HI_MASK,
  PM_PRESENT_HI,
  PM_SWAP_HI,
  PM_SWAP_TYPE_MASK,
} from '../kernel/pagemap-bits.js';
import { abiMatches, isRecord, loadAddon } from './addon.js';

/**
 * The per-page loops of native/page_loops.c. Each is the twin of a TypeScript function named in the C
 * file; callers use these when the addon loaded and the TypeScript otherwise. Arrays are checked for
 * type and bounds in C, which throws TypeError/RangeError rather than touch memory it was not given.
 */
export interface NativePageLoops {
  decodePagemap(
    words: Uint32Array,
    entries: number,
    extraAttrs: number,
    pfns: Uint32Array,
    attrs: Uint8Array,
    offset: number,
    counts: Float64Array,
  ): number;
  accountProcesses(
    pfns: readonly Uint32Array[],
    attrs: readonly Uint8Array[],
    pmdKnown: Uint8Array,
    bits: Uint32Array,
    rank: Uint32Array,
    limit: number,
    counts: Uint32Array,
    flagsLo: Uint32Array | undefined,
    zeroFrames: Uint32Array,
    accs: Float64Array,
    threads: number,
    /** Processes whose resident pages are also counted per frame into counter[toGlobal[frame]]. */
    members?: Uint8Array,
    toGlobal?: Uint32Array,
    counter?: Uint32Array,
  ): void;
  maxBelow(pfns: Uint32Array, limit: number): number;
  setBits(bits: Uint32Array, pfns: Uint32Array, limit: number): void;
  rankWords(bits: Uint32Array, rank: Uint32Array): number;
  frameRuns(bits: Uint32Array, maxGap: number): Float64Array;
  /** Twin of frameLookupJs (src/account/frame-table.ts). */
  frameLookup(
    bits: Uint32Array,
    slots: Uint32Array,
    pfnOf: Uint32Array,
    size: number,
    out: Uint32Array,
  ): number;
  /** Twin of frameFirstJs (src/account/frame-table.ts): an empty store's lookup; returns the members. */
  frameFirst(bits: Uint32Array, pfnOf: Uint32Array, out: Uint32Array): number;
  /** Twin of frameInsertJs (src/account/frame-table.ts): dense frames [from, to) into the hash. */
  frameInsert(pfnOf: Uint32Array, from: number, to: number, slots: Uint32Array): void;
  /** Twin of countFramesJs (src/account/group-account.ts); returns the new number of touched frames. */
  countFrames(
    pfns: readonly Uint32Array[],
    bits: Uint32Array,
    rank: Uint32Array,
    limit: number,
    counts: Uint32Array,
    flagsLo: Uint32Array | undefined,
    toGlobal: Uint32Array,
    counter: Uint32Array,
    touched: Uint32Array | undefined,
    ntouched: number,
    also: Uint32Array | undefined,
  ): number;
  /** Twin of gatherFramesByDenseJs (src/account/frame-table.ts); returns how many zeros were listed. */
  gatherFrames(
    dense: Uint32Array,
    from: Uint32Array,
    out: Uint32Array,
    zeros: Uint32Array | undefined,
  ): number;
}

const NAMES: readonly (keyof NativePageLoops)[] = [
  'decodePagemap',
  'accountProcesses',
  'maxBelow',
  'setBits',
  'rankWords',
  'frameRuns',
  'frameLookup',
  'frameFirst',
  'frameInsert',
  'countFrames',
  'gatherFrames',
];

/** The kpageflags bits a page's sums read (native/page_account.h), as every part that sums pages exports them. */
export const ACCOUNT_FLAGS_ABI: Readonly<Record<string, number>> = {
  KPF_ANON,
  KPF_SWAPBACKED,
  KPF_HUGE,
  KPF_KSM,
  KPF_THP,
  KPF_ZERO_PAGE,
};

/** The kernel ABI values the C loops were compiled with must be the ones src/kernel/ names. */
const EXPECTED_ABI: Readonly<Record<string, number>> = {
  PM_PRESENT_HI,
  PM_SWAP_HI,
  PM_FILE_HI,
  PM_GUARD_HI,
  PM_PFN_HI_MASK,
  PM_SWAP_TYPE_MASK,
  FIRST_NON_SWAP_TYPE,
  ...ACCOUNT_FLAGS_ABI,
};

/** Whether the loops' compiled-in kernel values agree with src/kernel/. */
export const abiAgrees = (abi: unknown): boolean => abiMatches(abi, EXPECTED_ABI);

const isLoops = (value: unknown): value is NativePageLoops =>
  isRecord(value) && NAMES.every((name) => typeof value[name] === 'function') && abiAgrees(value.ABI);

/** The native loops, or undefined (no addon, an addon without them, or MEMUSAGE_NO_NATIVE=1). */
export const loadPageLoops = (env: NodeJS.ProcessEnv = process.env): NativePageLoops | undefined => {
  const { addon } = loadAddon(env);
  if (!addon) return undefined;
  // An addon built from older sources has no loops, or loops compiled with other kernel values: the
  // TypeScript ones give the same answers, slower.
  return isLoops(addon.loops) ? addon.loops : undefined;
};

/** Chosen once per process: the hot loops consult it on every call. */
export const nativeLoops: NativePageLoops | undefined = loadPageLoops();
