import type { Capabilities } from '../engine/capabilities.js';
import type { EngineChoice } from '../engine/types.js';
import { WorkingSetTracker, type WssMethod, type WssScope } from '../engine/wss.js';
import type { NativeStatusSampler } from '../native/status-sampler.js';
import type { SysRoot } from '../procfs/page-idle.js';
import type { ProcRoot } from '../procfs/root.js';
import { UserNames } from '../procfs/users.js';
import type { Clock } from './clock.js';
import { type TreeMemory, treeMemory } from './exact.js';
import { type StatusReading, StatusTicker } from './status-ticker.js';
import { type TreeMember, TreeWalker } from './tree.js';
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
 * The budget may save up this many ms of its rate (4% → 400 ms of CPU): the bucket starts full, so a short
 * command gets snapshots where its memory peaks.
 */
const BURST_MS = 10_000;
/**
 * A bucket this close to its cap counts as full: a regular (steady-tree) snapshot waits for a full bucket, so
 * in steady state the bucket stays near full and the whole process uses the budget's rate, no more, from the
 * start; the bucket is there for a growing tree, which may spend it down to zero.
 */
const FULL_SLACK = 0.1;
/**
 * Whatever else is charged (the status reads of a tree of thousands of processes at a short interval; a
 * library host's own work), exact snapshots still come as often as this share of the budget pays for them
 * alone, so a long run never goes without exact values.
 */
const FLOOR_SHARE = 0.25;
/** A steady tree's snapshots wait for a full bucket, or this long and a credit that covers one. */
const OVERDUE_MS = BURST_MS / 2;
/** A tree this much larger (Σ VmRSS) than at the last exact snapshot gets a new one as soon as credit allows. */
const GROWTH = 1.02;
/**
 * With the native status ticker, the sampler ticks (walks the tree, decides on a snapshot) when the budget
 * next allows a snapshot, and at least this often (ms); the thread reads the members at every interval in
 * between and asks for a tick at once when the tree changes or grows.
 */
const MAX_WATCH_MS = 5000;
/**
 * ...and at most this often when only the budget is waited for: each wake-up of Node costs milliseconds on
 * a VM (cold caches), which a wait estimated too short would spend again and again.
 */
const MIN_WATCH_MS = 1000;
/** The time over which the rate of spending besides snapshots is averaged (see untilSnapshotMs). */
const SPEND_RATE_MS = 5000;
/** With the ticker, every this many walks is a full walk by parent PID (see tree.ts's FULL_WALK_EVERY). */
const FULL_WALK_WATCHED = 10;

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
  /**
   * Share of one core (0..1) this process may use while sampling: all of its CPU from `clock.cpuMs()` (status
   * reads, timers, garbage collection, exact snapshots with their native threads) is charged; exact
   * snapshots are taken with what the rest leaves. 1 or more: an exact snapshot every sample.
   */
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
  /**
   * The native status ticker (native/status_sampler.c), for `clock` = systemClock on the real /proc: the
   * members are then read by a thread between the sampler's ticks (see watch), not by a walk per interval.
   */
  statusSampler?: NativeStatusSampler;
}

/**
 * Samples a process tree. Every tick reads each member's status (VmRSS, VmHWM: microseconds); an exact
 * tree snapshot (PSS, distinct RSS, tree USS) runs when the CPU budget allows. The budget is a token bucket
 * charged with ALL of this process's CPU since the last tick (the tick itself, the timer that woke it,
 * garbage collection, the snapshots and their native threads), so what the whole sampler uses is bounded by
 * construction: over any stretch of time T it is at most budget × T, plus what the bucket held at its start
 * (spent only on a growing tree), plus one snapshot. A steady tree gets a snapshot whenever the bucket is
 * full again (or, after a growth emptied it, every OVERDUE_MS that the credit covers one); a growing one
 * whenever the bucket covers the predicted cost. A 1 GiB process costs ~0.1 s per exact snapshot: at the
 * 4% default, with ~1% spent on the rest, it gets one every ~3-4 s, while its VmRSS and VmHWM are still
 * read every tick.
 */
export class TreeSampler {
  readonly startedAt: number;
  private readonly walker: TreeWalker;
  private readonly users = new UserNames();
  private readonly tracker: WorkingSetTracker | undefined;
  private lastExactAt = Number.NEGATIVE_INFINITY;
  private lastExactRss = 0;
  private lastTickAt: number;
  /** clock.cpuMs() when the bucket was last charged. */
  private lastCpu: number;
  private readonly firstCpu: number;
  /** CPU ms this process may still spend: a token bucket filled at the budget's rate, charged with all of it. */
  private credit: number;
  private msPerByte = PRIOR_MS_PER_BYTE;
  /** CPU the last exact snapshot cost (ms). */
  private lastCost = 0;
  private exactCount = 0;
  private nextWssAt = Number.NEGATIVE_INFINITY;
  private windowStart: number | undefined;
  private last: TreeMemory | undefined;
  private readonly ticker: StatusTicker | undefined;
  /** The members and their VmRSS sum at the last tick, which the ticker reads until the next one. */
  private lastMembers: TreeMember[] = [];
  private lastRssSum = 0;
  /** A growth took a snapshot out of a bucket that was not full, and it has not been full since. */
  private spentOnGrowth = false;
  /** CPU ms per ms spent between ticks (all but the snapshots), smoothed: what the bucket earns beyond it is theirs. */
  private spendRate = 0;

  constructor(
    rootPid: number,
    private readonly options: SamplerOptions,
  ) {
    this.startedAt = options.startedAt ?? options.clock.now();
    this.lastTickAt = options.clock.now();
    this.lastCpu = options.clock.cpuMs();
    this.firstCpu = this.lastCpu;
    this.credit = this.capacity();
    // Working-set windows are opened and closed by ticks, and a budget of a core or more takes a snapshot
    // at every tick: then every interval is a tick.
    this.ticker =
      options.statusSampler && !options.wss && options.cpuBudget < 1 && MAX_WATCH_MS >= 2 * options.intervalMs
        ? new StatusTicker(options.statusSampler, options.intervalMs)
        : undefined;
    this.walker = new TreeWalker(
      options.procRoot,
      rootPid,
      options.excludeRoot,
      options.members,
      this.ticker ? FULL_WALK_WATCHED : undefined,
    );
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
    this.lastMembers = members;
    this.lastRssSum = rssSum;
    let exact: TreeMemory | undefined;
    let snapshotCpuMs: number | null = null;
    const budget = Math.min(1, this.options.cpuBudget);
    const capacity = this.capacity();
    // Everything this process used since the last charge (this tick's reads included) comes out of the bucket.
    const cpuBefore = this.lastCpu;
    this.charge(budget * (now - this.lastTickAt));
    if (now > this.lastTickAt) {
      // Averaged over the last several seconds (ticks come at any spacing, some milliseconds apart).
      const elapsed = now - this.lastTickAt;
      const rate = (this.lastCpu - cpuBefore) / elapsed;
      this.spendRate += (elapsed / (elapsed + SPEND_RATE_MS)) * (rate - this.spendRate);
    }
    this.lastTickAt = now;
    // The cost of an exact snapshot grows with the pages it reads: predict it from the tree's RSS now.
    const predicted = this.predictCost(rssSum);
    // A steady tree: a snapshot once the bucket is full again ("full": within FULL_SLACK of the cap, since
    // this tick's own reads have just come out of it). One costlier than the bucket leaves a debt that later
    // ticks repay: otherwise one slow (cold, or loaded-machine) measurement could price every later snapshot
    // out of the budget for good. Over time the spending still stays within the budget.
    const full = capacity * (1 - FULL_SLACK);
    // After a growth spent the bucket, a steady tree need not wait for it to refill: once OVERDUE_MS have
    // passed, a snapshot the credit covers (so no debt: the spending stays within the budget). Only then:
    // a steady tree's snapshots otherwise wait for a full bucket, so they spend at the budget's rate and
    // the bucket stays there for the next growth.
    const bucketFull = this.credit >= full;
    if (bucketFull) this.spentOnGrowth = false;
    const overdue = this.spentOnGrowth && now - this.lastExactAt >= OVERDUE_MS && this.credit >= predicted;
    const regular = bucketFull || overdue;
    // Growth is where peaks are: spend the bucket on a tree that grew since the last snapshot.
    const grown = rssSum > this.lastExactRss * GROWTH + MIN_GROWTH_BYTES;
    const growth = grown && this.credit >= Math.min(full, predicted);
    // The floor: a snapshot at least as often as FLOOR_SHARE of the budget pays for by itself (at the last
    // one's cost when that was more than predicted).
    const floor = now - this.lastExactAt >= Math.max(predicted, this.lastCost) / (budget * FLOOR_SHARE);
    if (this.options.cpuBudget >= 1 || regular || growth || floor) {
      const before = this.lastCpu;
      const snapshot = treeMemory(
        this.options.procRoot,
        pids,
        this.options.engine,
        this.options.caps,
        this.users,
      );
      this.charge(0);
      const cost = this.lastCpu - before;
      // Every member exited (or was exiting) between the status reads and the snapshot: it measured
      // nothing, which is no tree value of 0. Its cost is still charged.
      if (snapshot.byPid.size > 0) {
        exact = snapshot;
        snapshotCpuMs = cost;
        this.lastCost = cost;
        // The first snapshot also pays for compiling the snapshot code (several times a warm one here): learn
        // the cost per byte from the later ones, or a cold start would space every later snapshot too far apart.
        if (this.exactCount > 0 && Math.max(rssSum, exact.rss) >= LARGE_BYTES) {
          this.msPerByte = cost / Math.max(rssSum, exact.rss);
        }
        this.exactCount++;
        this.lastExactAt = now;
        if (growth && !regular) this.spentOnGrowth = true;
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
   * The intervals until the next tick: 1, or with the ticker watching the members of the last tick (armed
   * here), as many as pass before the budget allows another snapshot (it asks for a tick earlier when the
   * tree changes or grows).
   */
  watch(): number {
    if (!this.ticker) return 1;
    const set = this.walker.watchSet(this.lastMembers);
    if (!set) return 1;
    const { intervalMs } = this.options;
    const intervals = Math.max(2, Math.ceil(this.untilSnapshotMs() / intervalMs));
    // Growth wakes the sampler where it would take a snapshot for it (see tick), counted from the level now:
    // a tree that grew while the budget had no credit left is not a reason to wake at every interval.
    const mark = Math.max(this.lastExactRss, this.lastRssSum) * GROWTH + MIN_GROWTH_BYTES;
    this.ticker.arm(this.lastMembers, set, mark, intervals);
    return intervals;
  }

  /**
   * Ms from the last tick until one of tick's reasons for a snapshot holds, as far as the budget tells: the
   * credit grows by what the budget earns less what this process spends besides snapshots (its recent rate);
   * between MIN_WATCH_MS and MAX_WATCH_MS.
   */
  private untilSnapshotMs(): number {
    const budget = Math.min(1, this.options.cpuBudget);
    const now = this.lastTickAt;
    const net = budget - this.spendRate;
    /** Until the credit reaches `credit` (never, when the rest spends all the budget earns). */
    const until = (credit: number) =>
      credit <= this.credit ? 0 : net > 0 ? (credit - this.credit) / net : Number.POSITIVE_INFINITY;
    const full = this.capacity() * (1 - FULL_SLACK);
    const predicted = this.predictCost(this.lastRssSum);
    let wait = until(full);
    if (this.spentOnGrowth)
      wait = Math.min(wait, Math.max(this.lastExactAt + OVERDUE_MS - now, until(predicted)));
    if (this.lastRssSum > this.lastExactRss * GROWTH + MIN_GROWTH_BYTES)
      wait = Math.min(wait, until(Math.min(full, predicted)));
    wait = Math.min(
      wait,
      this.lastExactAt + Math.max(predicted, this.lastCost) / (budget * FLOOR_SHARE) - now,
    );
    return Math.min(MAX_WATCH_MS, Math.max(MIN_WATCH_MS, wait));
  }

  /**
   * The tree changed where the ticker cannot see it (a tracer's new process or exec: with a tracer's list,
   * the thread reads only the members of the last tick): tick now rather than at the ticker's time.
   */
  treeChanged(): void {
    this.ticker?.wake();
  }

  /** Until the ticker asks for a tick, `ms` pass or `signal` aborts; a plain sleep without the ticker. */
  wait(ms: number, signal: AbortSignal): Promise<void> {
    return this.ticker ? this.ticker.wait(ms, signal) : this.options.clock.sleep(ms, signal);
  }

  /**
   * The samples the ticker read since it was armed (none without it), and it pauses until the next watch():
   * call before each tick, whose walk may close the files it reads.
   */
  takeReadings(): TreeSample[] {
    return this.ticker ? this.ticker.pause().map((reading) => this.sampleOf(reading)) : [];
  }

  /** A sample of the members' status as the ticker read it: no exact values, no working set. */
  private sampleOf(reading: StatusReading): TreeSample {
    const clock = this.options.clock;
    const t =
      (clock.fromMonotonic ? clock.fromMonotonic(reading.monotonicMs) : reading.monotonicMs) - this.startedAt;
    return {
      t,
      rssSum: reading.members.reduce((sum, m) => sum + m.rss, 0),
      rss: null,
      pss: null,
      uss: null,
      wss: null,
      wssWindowMs: null,
      snapshotCpuMs: null,
      members: reading.members.map((m) => ({ ...m, pss: null, uss: null })),
    };
  }

  /** CPU ms this process used since the sampler was made: what the budget bounds. */
  cpuUsedMs(): number {
    return this.options.clock.cpuMs() - this.firstCpu;
  }

  /** The bucket's size: BURST_MS of the budget's rate. */
  private capacity(): number {
    return Math.min(1, this.options.cpuBudget) * BURST_MS;
  }

  /**
   * Add `earned` ms (up to the cap) and take out all the CPU used since the last charge. No floor: a stretch
   * over budget (a snapshot costlier than the bucket, or more than the budget spent besides snapshots) is a
   * debt that regular snapshots wait for, so the spending stays within the budget over time.
   */
  private charge(earned: number): void {
    const cpu = this.options.clock.cpuMs();
    this.credit = Math.min(this.capacity(), this.credit + earned) - (cpu - this.lastCpu);
    this.lastCpu = cpu;
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
      samplerCpuMs: this.cpuUsedMs(),
      notes,
    };
  }

  close(): void {
    // The thread first: it reads the walker's files.
    this.ticker?.stop();
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
    samples.push(...sampler.takeReadings());
    const tickedAt = clock.now();
    const sample = sampler.tick();
    if (!sample) break;
    samples.push(sample);
    const intervals = sampler.watch();
    // Keep to the schedule; a tick that overran skips the slots it missed rather than bunching up. With the
    // ticker, which counts its own intervals from watch(), this wait is only a safety net past its period.
    next += intervalMs * intervals;
    const now = clock.now();
    while (next < now) next += intervalMs;
    await sampler.wait(intervals > 1 ? next - now + intervalMs : next - now, stop.signal);
    // A wake-up never brings two ticks closer than an interval: a tracer reports every fork, and a fork
    // loop would otherwise tick at each.
    const early = tickedAt + intervalMs - clock.now();
    if (intervals > 1 && early > 0 && !finished) await clock.sleep(early, stop.signal);
  }
  samples.push(...sampler.takeReadings());
  return samples;
};
