import type { NativeStatusSampler, StatusSamplerHandle } from '../native/status-sampler.js';
import type { TreeMember, WatchSet } from './tree.js';

/** One tick of the native ticker: when (CLOCK_MONOTONIC ms) and the members it read (gone ones left out). */
export interface StatusReading {
  monotonicMs: number;
  members: TreeMember[];
}

/** What pause() arms: nothing to read. */
const EMPTY: WatchSet = {
  statusFds: new Int32Array(0),
  childrenFds: new Int32Array(0),
  known: new Uint32Array(0),
};

/**
 * The sampler's side of native/status_sampler.c: the thread reads the members of the last walk every
 * interval, and the sampler waits for it to ask for a tick (after the intervals it was armed for, or at once
 * when the tree changed or grew past the mark) instead of waking every interval itself.
 */
export class StatusTicker {
  private readonly handle: StatusSamplerHandle;
  /** The members armed, in the order of the readings. */
  private members: readonly TreeMember[] = [];
  private woken = false;
  private resolveWait: (() => void) | undefined;

  constructor(
    private readonly native: NativeStatusSampler,
    intervalMs: number,
  ) {
    this.handle = native.statusSamplerStart(intervalMs, () => this.wake());
  }

  /**
   * Stop reading until the next arm, and return the readings since the last one: the caller is about to walk
   * the tree, which closes the files of processes gone (a number the thread still read could then name
   * another file).
   */
  pause(): StatusReading[] {
    return this.arm([], EMPTY, Number.POSITIVE_INFINITY, 1);
  }

  /**
   * Read `members` from now on (through `watch`'s files); ask for a tick when the tree changes, when their
   * VmRSS sum passes `wakeAboveBytes`, or at the `wakeAfter`-th interval. Returns the readings of the members
   * armed before.
   */
  arm(
    members: readonly TreeMember[],
    watch: WatchSet,
    wakeAboveBytes: number,
    wakeAfter: number,
  ): StatusReading[] {
    const before = this.members;
    const readings = this.native.statusSamplerArm(
      this.handle,
      watch.statusFds,
      watch.childrenFds,
      watch.known,
      wakeAboveBytes,
      wakeAfter,
    );
    this.members = members;
    this.woken = false;
    return this.readingsOf(readings, before);
  }

  /** Ask for a tick now, as the thread does (a tracer told of a new process). */
  wake(): void {
    this.woken = true;
    this.resolveWait?.();
  }

  /** Until the thread asks for a walk, `ms` pass or `signal` aborts. */
  wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.woken || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.resolveWait = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal.addEventListener('abort', done, { once: true });
      this.resolveWait = done;
    });
  }

  /** Stop the thread (it closes nothing: the files are the walker's). Take the readings first (pause). */
  stop(): void {
    this.native.statusSamplerStop(this.handle);
    this.members = [];
  }

  private readingsOf(values: Float64Array, members: readonly TreeMember[]): StatusReading[] {
    const stride = 1 + 2 * members.length;
    const out: StatusReading[] = [];
    for (let at = 0; at + stride <= values.length; at += stride) {
      const read: TreeMember[] = [];
      for (let i = 0; i < members.length; i++) {
        const rss = values[at + 1 + 2 * i]!;
        if (rss < 0) continue;
        const { pid, ppid, name } = members[i]!;
        read.push({ pid, ppid, name, rss, hwm: values[at + 2 + 2 * i]! });
      }
      if (read.length > 0) out.push({ monotonicMs: values[at]!, members: read });
    }
    return out;
  }
}
