import type { Capabilities } from '../engine/capabilities.js';
import type { EngineChoice } from '../engine/types.js';
import { WorkingSetTracker, type WssMethod, type WssScope } from '../engine/wss.js';
import type { SysRoot } from '../procfs/page-idle.js';
import type { ProcRoot } from '../procfs/root.js';
import { UserNames } from '../procfs/users.js';
import type { Clock } from './clock.js';
import { type TreeMemory, treeMemory } from './exact.js';
import { TreeWalker } from './tree.js';
import type { SeriesInfo, TreeSample } from './types.js';

const MiB = 1024 * 1024;
/** Below this RSS, an exact snapshot's cost is mostly fixed overhead (process headers, frame table set-up). */
const LARGE_BYTES = 64 * MiB;
/** What a MiB of RSS costs an exact snapshot, measured on a 2-core VM (~0.1–0.4 ms), until one is measured. */
const PRIOR_MS_PER_BYTE = 0.25 / MiB;
const FIXED_COST_MS = 2;
/** A tree this many bytes larger than at the last snapshot is "grown" even when small. */
const MIN_GROWTH_BYTES = MiB;

/**
 * The exact snapshots may save up this many ms of budget (3% → 300 ms of CPU) to spend on a growing tree;
 * the bucket starts full, so a short command gets snapshots where its memory peaks.
 */
const BURST_MS = 10_000;
/** A tree this much larger (Σ VmRSS) than at the last exact snapshot gets a new one as soon as credit allows. */
const GROWTH = 1.02;

export interface WssSampling {
  method: WssMethod;
  reason: string;
  scope: WssScope;
  intervalMs: number;
}

export interface SamplerOptions {
  procRoot: ProcRoot;
  sysRoot: SysRoot;
  intervalMs: number;
  /** Share of one core (0..1) the exact tree snapshots may use; 1 or more: one every sample. */
  cpuBudget: number;
  engine: EngineChoice;
  wss: WssSampling | undefined;
  caps: Capabilities;
  clock: Clock;
  /** Time zero of the samples on `clock` (default: now); with the launcher, when CMD was let go. */
  startedAt?: number;
  /** The root is memusage-launch: walk its tree but leave it out. */
  excludeRoot?: boolean;
  /** The tree's live PIDs from a tracer, instead of walking /proc by parent PID. */
  members?: () => Iterable<number>;
}

/**
 * Samples a process tree. Every tick reads each member's status (VmRSS, VmHWM: microseconds); an exact
 * tree snapshot (PSS, distinct RSS, tree USS) runs when its CPU budget allows: a snapshot predicted to cost
 * C ms of CPU waits C / budget ms after the previous one, or less when the tree grew and saved-up budget
 * covers it. A 1 GiB process costs ~100 ms per exact snapshot, so at the 3% default it gets one every ~3.3 s
 * while its VmRSS and VmHWM are still read every tick.
 */
export class TreeSampler {
  readonly startedAt: number;
  private readonly walker: TreeWalker;
  private readonly users = new UserNames();
  private readonly tracker: WorkingSetTracker | undefined;
  private lastExactAt = Number.NEGATIVE_INFINITY;
  private lastExactRss = 0;
  private lastTickAt: number;
  /** CPU ms the exact snapshots may still spend: a token bucket filled at the budget rate. */
  private credit: number;
  private msPerByte = PRIOR_MS_PER_BYTE;
  private exactCount = 0;
  private nextWssAt = Number.NEGATIVE_INFINITY;
  private windowStart: number | undefined;
  private last: TreeMemory | undefined;

  constructor(
    rootPid: number,
    private readonly options: SamplerOptions,
  ) {
    this.startedAt = options.startedAt ?? options.clock.now();
    this.lastTickAt = options.clock.now();
    this.credit = Math.min(1, options.cpuBudget) * BURST_MS;
    this.walker = new TreeWalker(options.procRoot, rootPid, options.excludeRoot, options.members);
    this.tracker = options.wss
      ? new WorkingSetTracker({
          procRoot: options.procRoot,
          sysRoot: options.sysRoot,
          method: options.wss.method,
          scope: options.wss.scope,
          caps: options.caps,
        })
      : undefined;
  }

  /** One sample of the tree, or undefined when no member is alive. */
  tick(): TreeSample | undefined {
    const { clock } = this.options;
    const members = this.walker.walk();
    if (members.length === 0) return undefined;
    const now = clock.now();
    const pids = members.map((m) => m.pid);
    const rssSum = members.reduce((sum, m) => sum + m.rss, 0);
    let exact: TreeMemory | undefined;
    let snapshotCpuMs: number | null = null;
    // The cost of an exact snapshot grows with the pages it reads: predict it from the tree's RSS now.
    const budget = Math.min(1, this.options.cpuBudget);
    this.credit = Math.min(budget * BURST_MS, this.credit + budget * (now - this.lastTickAt));
    this.lastTickAt = now;
    const predicted = this.predictCost(rssSum);
    const due = now - this.lastExactAt >= predicted / budget;
    // Growth is where peaks are: spend saved-up credit on a tree that grew since the last snapshot.
    const grown = rssSum > this.lastExactRss * GROWTH + MIN_GROWTH_BYTES;
    // A snapshot predicted to cost more than the bucket holds runs once the bucket is full and leaves a debt
    // that later ticks repay: otherwise one slow (cold, or loaded-machine) measurement could price every
    // later snapshot out of the budget for good. Over time the spending still stays within the budget.
    if (this.credit >= Math.min(predicted, budget * BURST_MS) && (due || grown)) {
      const cpu = clock.cpuMs();
      const snapshot = treeMemory(
        this.options.procRoot,
        pids,
        this.options.engine,
        this.options.caps,
        this.users,
      );
      const cost = clock.cpuMs() - cpu;
      this.credit -= cost;
      // Every member exited (or was exiting) between the status reads and the snapshot: it measured
      // nothing, which is no tree value of 0. Its cost is still charged.
      if (snapshot.byPid.size > 0) {
        exact = snapshot;
        snapshotCpuMs = cost;
        // The first snapshot also pays for compiling the snapshot code (several times a warm one here): learn
        // the cost per byte from the later ones, or a cold start would space every later snapshot too far apart.
        if (this.exactCount > 0 && Math.max(rssSum, exact.rss) >= LARGE_BYTES) {
          this.msPerByte = cost / Math.max(rssSum, exact.rss);
        }
        this.exactCount++;
        this.lastExactAt = now;
        // Pages may have been added between the status reads and the snapshot: it read at least exact.rss.
        this.lastExactRss = Math.max(rssSum, exact.rss);
        this.last = exact;
      }
    }
    const [wss, wssWindowMs] = this.workingSet(pids, now);
    return {
      t: now - this.startedAt,
      rssSum,
      rss: exact?.rss ?? null,
      pss: exact?.pss ?? null,
      uss: exact?.uss ?? null,
      wss,
      wssWindowMs,
      snapshotCpuMs,
      members: members.map((m) => ({
        ...m,
        pss: exact?.byPid.get(m.pid)?.pss ?? null,
        uss: exact?.byPid.get(m.pid)?.uss ?? null,
      })),
    };
  }

  /**
   * The next snapshot's CPU cost: a fixed part plus the tree's RSS at the cost per byte learned from the
   * last large snapshot (small ones are dominated by fixed and transient costs), else PRIOR_MS_PER_BYTE.
   * A wrong guess cannot break the budget: the credit is charged what each snapshot really cost.
   */
  private predictCost(rssSum: number): number {
    return FIXED_COST_MS + rssSum * this.msPerByte;
  }

  /** Close the working-set window that ends now (if one is open and due) and open the next one. */
  private workingSet(pids: number[], now: number): [number | null, number | null] {
    const { wss } = this.options;
    if (!this.tracker || !wss || now < this.nextWssAt) return [null, null];
    let result: [number | null, number | null] = [null, null];
    if (this.windowStart !== undefined) {
      const reading = this.tracker.read();
      result = [reading.processes.reduce((sum, p) => sum + p.wss, 0), now - this.windowStart];
    }
    this.tracker.retain(pids);
    this.tracker.begin(pids, false);
    this.windowStart = this.options.clock.now();
    this.nextWssAt = now + wss.intervalMs;
    return result;
  }

  info(notes: string[] = []): SeriesInfo {
    return {
      engine: this.last?.engine ?? (this.options.caps.frames ? 'pagemap' : 'smaps_rollup'),
      engineReason: this.last?.engineReason ?? '',
      exactTree: this.last?.exact ?? this.options.caps.frames,
      wssMethod: this.options.wss?.method ?? null,
      wssMethodReason: this.options.wss?.reason ?? null,
      intervalMs: this.options.intervalMs,
      cpuBudget: this.options.cpuBudget,
      notes,
    };
  }

  close(): void {
    this.walker.close();
    this.tracker?.close();
  }
}

/**
 * Tick every interval until `done` settles, `signal` aborts or the tree is empty (every member exited);
 * returns the samples.
 */
export const sampleUntil = async (
  sampler: TreeSampler,
  intervalMs: number,
  clock: Clock,
  done: Promise<unknown>,
  signal?: AbortSignal,
): Promise<TreeSample[]> => {
  const samples: TreeSample[] = [];
  const stop = new AbortController();
  let finished = false;
  const finish = () => {
    finished = true;
    stop.abort();
  };
  done.then(finish, finish);
  signal?.addEventListener('abort', finish, { once: true });
  if (signal?.aborted) finish();
  let next = clock.now();
  while (!finished) {
    const sample = sampler.tick();
    if (!sample) break;
    samples.push(sample);
    // Keep to the schedule; a tick that overran skips the slots it missed rather than bunching up.
    next += intervalMs;
    const now = clock.now();
    while (next < now) next += intervalMs;
    await clock.sleep(next - now, stop.signal);
  }
  return samples;
};
