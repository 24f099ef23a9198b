import { PAGE_SIZE } from '../kernel/pagemap-bits.js';
import { type NativePageLoops, nativeLoops } from '../native/page-loops.js';
import { type FrameTable, rssFrame } from './frame-table.js';
import { countDistinctRuns, distinctRuns, type PoolFrames } from './page-account.js';

/** Exact memory of a set of processes taken together, which per-process sums cannot give. */
export interface GroupFrames {
  /** Distinct frames mapped by the group (each physical page once). */
  rss: number;
  /**
   * Frames whose every mapping lies inside the group: what killing the whole group unmaps (anonymous and
   * shmem pages are then freed; file pages stay in the page cache).
   */
  uss: number;
}

/**
 * For every page of `lists` that counts as resident (rssFrame in the batch's `table`), add one to
 * counter[toGlobal[frame]], appending the frame to `touched` (when given, from `ntouched` on) the first
 * time its counter leaves 0; `also`, when given, counts the same pages for a second set in the same walk.
 * Returns the new number of touched frames. The twin of count_frames (native/page_loops.c).
 */
export const countFramesJs = (
  lists: readonly Uint32Array[],
  table: FrameTable,
  toGlobal: Uint32Array,
  counter: Uint32Array,
  touched: Uint32Array | undefined,
  ntouched: number,
  also?: Uint32Array,
): number => {
  // Per frame of the batch first, in the order the pages meet them; then once per frame into the
  // snapshot-wide counters (the order native/page_loops.c keeps too).
  const local = new Uint32Array(table.counts.length);
  const met: number[] = [];
  for (const pfns of lists) {
    for (let i = 0; i < pfns.length; i++) {
      const frame = rssFrame(table, pfns[i]!);
      if (frame >= 0 && local[frame]!++ === 0) met.push(frame);
    }
  }
  for (const frame of met) {
    const global = toGlobal[frame]!;
    if (counter[global] === 0 && touched) touched[ntouched++] = global;
    counter[global]! += local[frame]!;
    if (also) also[global]! += local[frame]!;
  }
  return ntouched;
};

/**
 * Exact RSS and USS of a set of processes fed batch by batch (a streaming snapshot): one counter per frame
 * of the snapshot's FrameStore counts the set's mappings of it. `touched` lists the frames met so that a
 * group is closed in time proportional to its own frames; the machine totals (one set that lasts the whole
 * snapshot) do without and scan every frame once at the end.
 */
export class FrameCounter {
  private counter: Uint32Array = new Uint32Array(1 << 15);
  private touched: Uint32Array | undefined;
  private ntouched = 0;
  /** Whether a count may be left in the counter: set by counting, cleared by close (which zeroes it). */
  private dirty = false;

  constructor(
    trackTouched: boolean,
    private readonly loop: NativePageLoops | null = nativeLoops ?? null,
  ) {
    if (trackTouched) this.touched = new Uint32Array(1 << 15);
  }

  /**
   * Nothing counted, keeping the arrays. Only a counter left open (a snapshot that threw) is cleared: one
   * that was closed is zero already, and filling 4 bytes per frame of the store twice per snapshot was a
   * millisecond of serve's scrape on a host of a million frames.
   */
  reset(): void {
    if (this.dirty) this.counter.fill(0);
    this.dirty = false;
    this.ntouched = 0;
  }

  /**
   * Count the pages of `lists` (one batch, `table` its batch table, `toGlobal` its dense frames in the store),
   * and into `also` as well when given: one walk over the pages for two sets fed the same processes.
   */
  add(
    lists: readonly Uint32Array[],
    table: FrameTable,
    toGlobal: Uint32Array,
    frames: number,
    also?: FrameCounter,
  ): void {
    if (lists.length === 0) return;
    this.fit(frames);
    also?.fit(frames);
    this.dirty = true;
    if (also) also.dirty = true;
    // Room for every frame this batch may touch first: no more than the batch's frames, nor the store's.
    const mayTouch = Math.min(this.ntouched + table.counts.length, frames);
    if (this.touched && mayTouch > this.touched.length)
      this.touched = grownTo(this.touched, mayTouch, this.ntouched);
    const { index, counts, flagsLo } = table;
    this.ntouched = this.loop
      ? this.loop.countFrames(
          lists,
          index.bits,
          index.rank,
          index.limit,
          counts,
          flagsLo,
          toGlobal,
          this.counter,
          this.touched,
          this.ntouched,
          also?.counter,
        )
      : countFramesJs(lists, table, toGlobal, this.counter, this.touched, this.ntouched, also?.counter);
  }

  /**
   * Count the resident pages of object runs (ProcessPages.objectRuns, frames from `pool`) as add counts
   * pages, into `also` as well when given; `frames` is the store's size.
   */
  addRuns(pool: PoolFrames, runsList: readonly Float64Array[], frames: number, also?: FrameCounter): void {
    if (runsList.length === 0) return;
    this.fit(frames);
    also?.fit(frames);
    this.dirty = true;
    if (also) also.dirty = true;
    // Identical runs of several processes are walked once, their number of times over.
    const distinct = distinctRuns(runsList);
    let pages = 0;
    for (let k = 1; k < distinct.length; k += 3) pages += distinct[k]!;
    const mayTouch = Math.min(this.ntouched + pages, frames);
    if (this.touched && mayTouch > this.touched.length)
      this.touched = grownTo(this.touched, mayTouch, this.ntouched);
    this.ntouched = countDistinctRuns(
      pool,
      distinct,
      this.counter,
      this.touched,
      this.ntouched,
      also?.counter,
    );
  }

  /**
   * The counter array, with a slot for every one of `frames` frames, for a loop that counts into it
   * directly (accountProcessesCounting); undefined for a set that lists its touched frames (groups).
   */
  counterFor(frames: number): Uint32Array | undefined {
    if (this.touched) return undefined;
    this.fit(frames);
    this.dirty = true;
    return this.counter;
  }

  /** Take back what `lists` added (processes counted, then found gone): they are counted again and subtracted. */
  remove(
    lists: readonly Uint32Array[],
    table: FrameTable,
    toGlobal: Uint32Array,
    frames: number,
    pool?: PoolFrames,
    runsList: readonly Float64Array[] = [],
  ): void {
    if (lists.length === 0) return;
    const counted = new FrameCounter(false, this.loop);
    counted.add(lists, table, toGlobal, frames);
    if (pool) counted.addRuns(pool, runsList, frames);
    const theirs = counted.counter;
    this.dirty = true;
    for (let frame = 0; frame < theirs.length; frame++) {
      if (theirs[frame] !== 0) this.counter[frame]! -= theirs[frame]!;
    }
  }

  /** A counter for every one of `frames` frames. */
  private fit(frames: number): void {
    if (frames > this.counter.length) this.counter = grownTo(this.counter, frames, this.counter.length);
  }

  /** RSS and USS of what was counted (`counts`: the store's map counts), and start again from nothing. */
  close(counts: Uint32Array): GroupFrames {
    const counter = this.counter;
    let distinct = 0;
    let exclusive = 0;
    if (this.touched) {
      for (let k = 0; k < this.ntouched; k++) {
        const frame = this.touched[k]!;
        if (counter[frame] === counts[frame]) exclusive++;
        counter[frame] = 0;
      }
      distinct = this.ntouched;
      this.ntouched = 0;
    } else {
      for (let frame = 0; frame < counter.length; frame++) {
        const n = counter[frame]!;
        if (n === 0) continue;
        distinct++;
        if (n === counts[frame]) exclusive++;
        counter[frame] = 0;
      }
    }
    this.dirty = false;
    return { rss: distinct * PAGE_SIZE, uss: exclusive * PAGE_SIZE };
  }
}

/** A copy at least `need` long (doubling), with the first `used` values. */
const grownTo = (array: Uint32Array, need: number, used: number): Uint32Array => {
  let length = Math.max(array.length, 1);
  while (length < need) length *= 2;
  const bigger = new Uint32Array(length);
  bigger.set(array.subarray(0, used));
  return bigger;
};
